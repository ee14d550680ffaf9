#include "codec/fidelity/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "codec/fidelity/bin_labels.h"
#include "codec/fidelity/binning.h"
#include "codec/fidelity/svg_plot.h"

namespace dgc::fidelity {
namespace {

constexpr const char* kRealColor = "#1f77b4";
constexpr const char* kSynthColor = "#ff7f0e";
constexpr int kChartW = 640, kChartH = 250;
constexpr size_t kMaxBars = 100;       // beyond this a categorical metric is drawn as a CDF
constexpr size_t kJointTopBins = 30;   // joint metrics: the bins that carry most mass
constexpr size_t kMaxSeriesPoints = 1500;

std::string value_text(const std::optional<double>& v) {
    if (!v) return "undefined";
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", *v);
    return b;
}

double share(const Histogram& h, size_t i) {
    return h.total ? static_cast<double>(h.counts[i]) / static_cast<double>(h.total) : 0.0;
}

// Union of both histograms' keys, each with its share on either side.
struct Merged {
    std::vector<uint64_t> keys;
    std::vector<double> p, q;
};

Merged merge(const Histogram& a, const Histogram& b, bool fill_range) {
    Merged m;
    size_t i = 0, j = 0;
    auto push = [&](uint64_t k, double pv, double qv) {
        m.keys.push_back(k);
        m.p.push_back(pv);
        m.q.push_back(qv);
    };
    while (i < a.keys.size() || j < b.keys.size()) {
        const uint64_t k = (j == b.keys.size() || (i < a.keys.size() && a.keys[i] <= b.keys[j])) ? a.keys[i] : b.keys[j];
        if (fill_range && !m.keys.empty())
            for (uint64_t g = m.keys.back() + 1; g < k; ++g) push(g, 0, 0);
        double pv = 0, qv = 0;
        if (i < a.keys.size() && a.keys[i] == k) pv = share(a, i++);
        if (j < b.keys.size() && b.keys[j] == k) qv = share(b, j++);
        push(k, pv, qv);
    }
    return m;
}

std::vector<std::pair<double, double>> cdf_points(const Histogram& h, double x_scale, double x_offset) {
    std::vector<std::pair<double, double>> pts;
    double acc = 0;
    for (size_t i = 0; i < h.keys.size(); ++i) {
        acc += share(h, i);
        pts.emplace_back(static_cast<double>(h.keys[i]) * x_scale + x_offset, acc);
    }
    return pts;
}

struct Labels {
    std::string real, synth;
};

std::string metric_chart(Metric m, const Histogram& a, const Histogram& b, const Labels& l) {
    if (m == kSa || m == kDa) {
        // Rank-frequency: share of the k-th most frequent address, rank on a log axis.
        LineChart c{metric_axis(m), "share of packets", {}, true};
        for (auto [h, name, color] : {std::tuple{&a, l.real, kRealColor}, std::tuple{&b, l.synth, kSynthColor}}) {
            LineSeries s{name, color, {}, false};
            for (size_t i = 0; i < h->keys.size(); ++i) s.points.emplace_back(h->keys[i] + 1.0, share(*h, i));
            c.series.push_back(std::move(s));
        }
        return svg_line_chart(c, kChartW, kChartH);
    }
    const Merged mg = merge(a, b, metric_is_ordinal(m));
    if (mg.keys.size() > kMaxBars) {
        const double scale = m == kPktLen ? 16.0 : 1.0;
        LineChart c{metric_axis(m) + " (cumulative)", "cumulative share", {}, false};
        c.series.push_back({l.real, kRealColor, cdf_points(a, scale, 0), true});
        c.series.push_back({l.synth, kSynthColor, cdf_points(b, scale, 0), true});
        if (m == kPktLen) c.x_label = "IP length in bytes (cumulative)";
        return svg_line_chart(c, kChartW, kChartH);
    }
    BarChart c{metric_axis(m), "share of samples", {}, {{l.real, kRealColor, mg.p}, {l.synth, kSynthColor, mg.q}}};
    for (uint64_t k : mg.keys) c.labels.push_back(metric_bin_label(m, k));
    return svg_bar_chart(c, kChartW, kChartH);
}

std::string joint_chart(JointMetric m, const Histogram& a, const Histogram& b, const Labels& l) {
    const Merged mg = merge(a, b, false);
    std::vector<size_t> idx(mg.keys.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return mg.p[x] + mg.q[x] > mg.p[y] + mg.q[y]; });
    if (idx.size() > kJointTopBins) idx.resize(kJointTopBins);
    BarChart c{joint_axis(m), "share of samples", {}, {{l.real, kRealColor, {}}, {l.synth, kSynthColor, {}}}};
    for (size_t i : idx) {
        c.labels.push_back(joint_bin_label(m, mg.keys[i]));
        c.series[0].values.push_back(mg.p[i]);
        c.series[1].values.push_back(mg.q[i]);
    }
    return svg_bar_chart(c, kChartW, kChartH);
}

// Per-second series from the trace's first window; long traces averaged into buckets.
uint64_t span_seconds(const TraceProfile& p) {
    return p.seconds.empty() ? 0 : static_cast<uint64_t>(window_of(p.t1) - window_of(p.t0)) + 1;
}

// x_max: the longer trace's span, so that the two traces' panels share an axis.
std::string series_chart(const TraceProfile& p, bool bytes, const std::string& name, const char* color, double x_max) {
    LineChart c{"seconds since the first packet", bytes ? "bytes / s" : "packets / s", {}, false, x_max};
    LineSeries s{name, color, {}, false};
    if (!p.seconds.empty()) {
        const int64_t w0 = window_of(p.t0);
        const uint64_t span = span_seconds(p);
        const uint64_t bucket = (std::max<uint64_t>(span, static_cast<uint64_t>(x_max)) + kMaxSeriesPoints - 1) /
                                kMaxSeriesPoints;
        std::vector<double> sum((span + bucket - 1) / bucket, 0.0);
        for (const auto& sec : p.seconds)
            sum[static_cast<uint64_t>(sec.window - w0) / bucket] += static_cast<double>(bytes ? sec.bytes : sec.packets);
        for (size_t i = 0; i < sum.size(); ++i)
            s.points.emplace_back(static_cast<double>(i * bucket), sum[i] / static_cast<double>(bucket));
        if (bucket > 1) c.y_label += " (mean over " + std::to_string(bucket) + " s)";
    }
    c.series.push_back(std::move(s));
    return svg_line_chart(c, kChartW, kChartH - 20);
}

// v: the score (nullptr in a floor-only report, where it is the floor itself).
void card(std::ostringstream& o, const std::string& name, const std::optional<double>* v,
          const std::optional<double>& fl, const std::string& svg) {
    o << "<div class=\"card\"><h3>" << xml_escape(name) << " <span class=\"" << (v ? "v\">JSD " : "f\">")
      << (v ? value_text(*v) + "</span> <span class=\"f\">" : std::string()) << "floor " << value_text(fl)
      << "</span></h3>" << svg << "</div>\n";
}

// The JSD as a bar with the floor as a line, in one table cell.
void bar_cell(std::ostringstream& o, const std::optional<double>& v, const std::optional<double>& fl, bool with_score) {
    const double w = v ? *v * 160 : 0;
    const double fw = fl ? *fl * 160 : 0;
    o << "<td><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"170\" height=\"12\">"
      << "<rect x=\"0\" y=\"1\" width=\"160\" height=\"10\" fill=\"#eee\"/>";
    if (with_score) o << "<rect x=\"0\" y=\"1\" width=\"" << w << "\" height=\"10\" fill=\"#c0392b\"/>";
    o << "<line x1=\"" << fw << "\" x2=\"" << fw << "\" y1=\"0\" y2=\"12\" stroke=\"#000\" stroke-width=\"2\"/>"
      << "</svg></td>";
}

void summary_rows(std::ostringstream& o, const std::string& name, const std::optional<double>& v,
                  const std::optional<double>& fl, bool with_score) {
    o << "<tr><td>" << xml_escape(name) << "</td>";
    if (with_score) o << "<td>" << value_text(v) << "</td>";
    o << "<td>" << value_text(fl) << "</td>";
    bar_cell(o, v, fl, with_score);
    o << "</tr>\n";
}

// The traffic-semantics checks: value, floor, pass (within floor + kSemanticMargin).
void semantics_table(std::ostringstream& o, const SemanticSet& sc, const SemanticSet& fl, bool with_score) {
    o << "<h2>Traffic semantics</h2>\n<p class=\"key\">Checks of docs/semantics.md (TCP connections, SYN payload, "
         "header options, exact lengths, ICMP, UDP answers, address classes, MACs, TCP analysis), same JSD; a check "
         "passes within its floor + "
      << kSemanticMargin << ".</p>\n<table><tr><th>check</th>" << (with_score ? "<th>JSD</th>" : "")
      << "<th>floor</th>" << (with_score ? "<th>pass</th>" : "") << "<th>"
      << (with_score ? "JSD (bar), floor (line)" : "floor (line)") << "</th></tr>\n";
    for (int i = 0; i < kSemanticCount; ++i) {
        o << "<tr><td>" << kSemanticNames[i] << "</td>";
        if (with_score) o << "<td>" << value_text(sc.checks[i]) << "</td>";
        o << "<td>" << value_text(fl.checks[i]) << "</td>";
        if (with_score) {
            const std::optional<bool> pass = semantic_pass(sc.checks[i], fl.checks[i]);
            o << "<td>" << (!pass ? "-" : *pass ? "ok" : "<b>FAIL</b>") << "</td>";
        }
        bar_cell(o, sc.checks[i], fl.checks[i], with_score);
        o << "</tr>\n";
    }
    o << "<tr><td>mean</td>";
    if (with_score) o << "<td>" << value_text(sc.mean) << "</td>";
    o << "<td>" << value_text(fl.mean) << "</td>";
    if (with_score) o << "<td>" << semantic_failures(sc, fl) << " over</td>";
    bar_cell(o, sc.mean, fl.mean, with_score);
    o << "</tr>\n</table>\n";
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:16px;color:#222}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
    "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 10px;text-align:left}"
    "tr:nth-child(even){background:#f3f3f3}"
    ".grid{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{border:1px solid #ccc;border-radius:4px;padding:4px 6px;width:646px}"
    ".card h3{font-size:15px;margin:4px 0}.v{color:#c0392b;margin-left:12px}.f{color:#555;margin-left:12px}"
    ".key{font-size:13px;color:#444}";

}  // namespace

std::string render_html_report(const HtmlReportInput& in) {
    const FidelityReport& sc = *in.score;
    const FidelityReport& fl = *in.floor;
    const Labels l{in.real_label, in.synth_label};
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/><title>"
      << xml_escape(in.title) << "</title><style>" << kStyle << "</style></head><body>\n";
    o << "<h1>" << xml_escape(in.title) << "</h1>\n<p class=\"key\">Jensen\u2013Shannon divergence, log base 2: 0 = "
      << "identical distributions, 1 = disjoint. The floor compares two halves of the real trace split by flow "
         "key: what a perfect generator would score at half the volume.</p>\n";

    o << "<table><tr><th>metric</th>" << (in.floor_only ? "" : "<th>JSD</th>")
      << "<th>floor</th><th>" << (in.floor_only ? "floor (line)" : "JSD (bar), floor (line)") << "</th></tr>\n";
    for (int i = 0; i < kMetricCount; ++i)
        summary_rows(o, std::string(kMetricNames[i]), sc.score.metrics[i], fl.score.metrics[i], !in.floor_only);
    summary_rows(o, "mean of 17", sc.score.average, fl.score.average, !in.floor_only);
    for (int i = 0; i < kJointCount; ++i)
        summary_rows(o, std::string(kJointNames[i]), sc.score.joint[i], fl.score.joint[i], !in.floor_only);
    summary_rows(o, "joint mean", sc.score.joint_average, fl.score.joint_average, !in.floor_only);
    o << "</table>\n<p>Packets: " << xml_escape(in.real_label) << " " << sc.real.ip << " IP, " << sc.real.nonip
      << " non-IP; " << xml_escape(in.synth_label) << " " << sc.synthetic.ip << " IP, " << sc.synthetic.nonip
      << " non-IP.";
    if (!in.floor_only) o << " Replay (synthetic flows with a real flow's key): " << value_text(sc.replay) << ".";
    o << "</p>\n";
    if (in.semantics && in.semantics_floor) semantics_table(o, *in.semantics, *in.semantics_floor, !in.floor_only);

    o << "<h2>The 17 metrics</h2>\n<div class=\"grid\">\n";
    for (int i = 0; i < kMetricCount; ++i)
        card(o, std::string(kMetricNames[i]), in.floor_only ? nullptr : &sc.score.metrics[i], fl.score.metrics[i],
             metric_chart(static_cast<Metric>(i), in.real->metrics[i], in.synth->metrics[i], l));
    o << "</div>\n<h2>Joint structure</h2>\n<div class=\"grid\">\n";
    for (int i = 0; i < kJointCount; ++i)
        card(o, std::string(kJointNames[i]), in.floor_only ? nullptr : &sc.score.joint[i], fl.score.joint[i],
             joint_chart(static_cast<JointMetric>(i), in.real->joint[i], in.synth->joint[i], l));
    const double x_max = static_cast<double>(std::max(span_seconds(*in.real), span_seconds(*in.synth)));
    o << "</div>\n<h2>Per-second traffic</h2>\n";
    for (auto [p, name, color] : {std::tuple{in.real, l.real, kRealColor}, std::tuple{in.synth, l.synth, kSynthColor}}) {
        o << "<h3>" << xml_escape(name) << "</h3><div class=\"grid\"><div class=\"card\">"
          << series_chart(*p, false, name, color, x_max) << "</div><div class=\"card\">" << series_chart(*p, true, name, color, x_max)
          << "</div></div>\n";
    }
    o << "</body></html>\n";
    return o.str();
}

}  // namespace dgc::fidelity
