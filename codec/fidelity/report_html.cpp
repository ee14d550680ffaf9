#include "codec/fidelity/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "codec/fidelity/bin_labels.h"
#include "codec/fidelity/binning.h"
#include "codec/fidelity/report_glossary.h"
#include "codec/fidelity/report_verdict.h"
#include "codec/fidelity/svg_plot.h"

namespace dgc::fidelity {
namespace {

constexpr const char* kRealColor = "#1f77b4";
constexpr const char* kSynthColor = "#ff7f0e";
constexpr int kChartW = 640, kChartH = 250;
constexpr size_t kMaxBars = 100;       // beyond this a categorical metric is drawn as a CDF
constexpr size_t kJointTopBins = 30;   // joint metrics: the bins that carry most mass
constexpr size_t kMaxSeriesPoints = 1500;
constexpr const char* kPassColor = "#1a7f37";  // also the banner's, which the screenshot test looks for
constexpr const char* kFailColor = "#b42318";
constexpr const char* kNoneColor = "#8a8a8a";
constexpr const char* kZoneColor = "#cdebd3";  // floor .. floor + tolerance
constexpr double kBarW = 200;

std::string value_text(const std::optional<double>& v) {
    if (!v) return "undefined";
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", *v);
    return b;
}

std::string margin_text(double m) {
    char b[16];
    std::snprintf(b, sizeof b, "%.2f", m);
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

// Per-second series from each trace's first window, averaged into buckets of one width
// for both traces so that the two lines share the x axis and the y scale.
uint64_t span_seconds(const TraceProfile& p) {
    return p.seconds.empty() ? 0 : static_cast<uint64_t>(window_of(p.t1) - window_of(p.t0)) + 1;
}

std::vector<std::pair<double, double>> per_second_points(const TraceProfile& p, bool bytes, uint64_t bucket) {
    std::vector<std::pair<double, double>> pts;
    if (p.seconds.empty()) return pts;
    const int64_t w0 = window_of(p.t0);
    const uint64_t span = span_seconds(p);
    std::vector<double> sum((span + bucket - 1) / bucket, 0.0);
    for (const auto& sec : p.seconds)
        sum[static_cast<uint64_t>(sec.window - w0) / bucket] += static_cast<double>(bytes ? sec.bytes : sec.packets);
    for (size_t i = 0; i < sum.size(); ++i)
        pts.emplace_back(static_cast<double>(i * bucket), sum[i] / static_cast<double>(bucket));
    return pts;
}

std::string series_chart(const TraceProfile& a, const TraceProfile& b, bool bytes, const Labels& l) {
    const uint64_t span = std::max(span_seconds(a), span_seconds(b));
    const uint64_t bucket = std::max<uint64_t>(1, (span + kMaxSeriesPoints - 1) / kMaxSeriesPoints);
    LineChart c{"seconds since the trace's first packet", bytes ? "bytes / s" : "packets / s", {}, false,
                static_cast<double>(span)};
    c.series.push_back({l.real, kRealColor, per_second_points(a, bytes, bucket), false});
    c.series.push_back({l.synth, kSynthColor, per_second_points(b, bytes, bucket), false});
    if (bucket > 1) c.y_label += " (mean over " + std::to_string(bucket) + " s)";
    return svg_line_chart(c, kChartW, kChartH);
}

const char* verdict_class(Verdict v) {
    switch (v) {
        case Verdict::kPass: return "pass";
        case Verdict::kFail: return "fail";
        default: return "na";
    }
}

const char* verdict_color(Verdict v) {
    switch (v) {
        case Verdict::kPass: return kPassColor;
        case Verdict::kFail: return kFailColor;
        default: return kNoneColor;
    }
}

std::string verdict_word(Verdict v) {
    switch (v) {
        case Verdict::kPass: return "pass";
        case Verdict::kFail: return "FAIL";
        default: return "-";
    }
}

std::string limit_text(const std::optional<double>& fl, double margin) {
    return fl ? "\u2264 " + value_text(*fl + margin) : std::string("-");
}

// One line of a summary table. id: the row's anchor; glossary: the name has an entry.
struct Row {
    std::string id;
    std::string name;
    bool glossary = true;
    std::optional<double> value, floor;
    double margin = 0;
    Verdict verdict = Verdict::kUndefined;
};

std::string name_cell(const std::string& name, bool glossary) {
    return glossary ? "<a href=\"#g-" + name + "\">" + xml_escape(name) + "</a>" : xml_escape(name);
}

// The bars' common scale: the largest of every value and every pass limit in the table,
// so that the bars use the width and a bar past the green zone is a failure at a glance.
double bar_scale(const std::vector<Row>& rows, bool with_score) {
    double s = 0;
    for (const Row& r : rows) {
        if (with_score && r.value) s = std::max(s, *r.value);
        if (r.floor) s = std::max(s, *r.floor + (with_score ? r.margin : 0.0));
    }
    return s > 0 ? s : 1.0;
}

// Value as a bar in its verdict's colour, the floor as a line, the pass zone (floor to
// floor + tolerance) in light green.
std::string bar_svg(const Row& r, double scale, bool with_score) {
    auto x = [&](double v) { return std::clamp(v / scale, 0.0, 1.0) * kBarW; };
    std::ostringstream o;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kBarW + 4 << "\" height=\"14\">"
      << "<rect x=\"0\" y=\"1\" width=\"" << kBarW << "\" height=\"12\" fill=\"#eee\"/>";
    if (with_score && r.floor)
        o << "<rect x=\"" << x(*r.floor) << "\" y=\"1\" width=\"" << x(*r.floor + r.margin) - x(*r.floor)
          << "\" height=\"12\" fill=\"" << kZoneColor << "\"/>";
    const std::optional<double>& bar = with_score ? r.value : r.floor;
    if (bar)
        o << "<rect class=\"bar\" x=\"0\" y=\"4\" width=\"" << x(*bar) << "\" height=\"6\" fill=\""
          << (with_score ? verdict_color(r.verdict) : kNoneColor) << "\"/>";
    if (with_score && r.floor)
        o << "<line x1=\"" << x(*r.floor) << "\" x2=\"" << x(*r.floor) << "\" y1=\"0\" y2=\"14\" stroke=\"#000\" stroke-width=\"2\"/>";
    o << "</svg>";
    return o.str();
}

void summary_table(std::ostringstream& o, const std::string& id, const std::string& first, const std::vector<Row>& rows,
                   bool with_score) {
    const double scale = bar_scale(rows, with_score);
    o << "<table id=\"" << id << "\"><tr><th>" << first << "</th>";
    if (with_score) o << "<th>JSD</th>";
    o << "<th>floor</th>";
    if (with_score) o << "<th>pass if</th><th>verdict</th>";
    o << "<th>" << (with_score ? "JSD (bar), floor (line), pass zone (green)" : "floor (bar)") << ", 0 to "
      << value_text(scale) << "</th></tr>\n";
    for (const Row& r : rows) {
        o << "<tr id=\"row-" << r.id << "\"><td>" << name_cell(r.name, r.glossary) << "</td>";
        if (with_score) o << "<td>" << value_text(r.value) << "</td>";
        o << "<td>" << value_text(r.floor) << "</td>";
        if (with_score)
            o << "<td>" << limit_text(r.floor, r.margin) << "</td><td class=\"" << verdict_class(r.verdict) << "\">"
              << (r.verdict == Verdict::kFail ? "<b>FAIL</b>" : verdict_word(r.verdict)) << "</td>";
        o << "<td>" << bar_svg(r, scale, with_score) << "</td></tr>\n";
    }
    o << "</table>\n";
}

// One row per name of a family (the 17, the joint metrics, the checks), each its own
// glossary entry.
template <size_t N>
void add_named(std::vector<Row>& rows, const std::array<std::string_view, N>& names,
               const std::array<std::optional<double>, N>& values, const std::array<std::optional<double>, N>& floors,
               double margin, const std::array<Verdict, N>& verdicts) {
    for (size_t i = 0; i < N; ++i)
        rows.push_back({std::string(names[i]), std::string(names[i]), true, values[i], floors[i], margin, verdicts[i]});
}

std::vector<Row> metric_rows(const MetricSet& sc, const MetricSet& fl, const EvalVerdict& v) {
    std::vector<Row> rows;
    add_named(rows, kMetricNames, sc.metrics, fl.metrics, kMetricMargin, v.metrics);
    rows.push_back({"mean-17", "mean of 17", false, sc.average, fl.average, kMetricMargin, v.average});
    add_named(rows, kJointNames, sc.joint, fl.joint, kJointMargin, v.joint);
    rows.push_back({"mean-joint", "joint mean", false, sc.joint_average, fl.joint_average, kJointMargin, v.joint_average});
    return rows;
}

std::vector<Row> semantic_rows(const SemanticSet& sc, const SemanticSet& fl, const EvalVerdict& v) {
    std::vector<Row> rows;
    add_named(rows, kSemanticNames, sc.checks, fl.checks, kSemanticMargin, v.semantics);
    rows.push_back({"mean-semantics", "mean", false, sc.mean, fl.mean, kSemanticMeanMargin, v.semantics_mean});
    return rows;
}

std::string headline(const std::string& what, const std::optional<double>& value, const std::optional<double>& fl,
                     double margin, Verdict v) {
    return "<li>" + what + " " + value_text(value) + " against floor " + value_text(fl) + " + " + margin_text(margin) +
           ": <b>" + (v == Verdict::kFail ? "fail" : v == Verdict::kPass ? "pass" : "undefined") + "</b></li>";
}

// " (a, b)": the names of the failing entries, "" when none fails.
template <size_t N>
std::string failing_names(const std::array<Verdict, N>& v, const std::array<std::string_view, N>& names) {
    std::string list;
    for (size_t i = 0; i < N; ++i)
        if (v[i] == Verdict::kFail) list += (list.empty() ? "" : ", ") + std::string(names[i]);
    return list.empty() ? list : " (" + list + ")";
}

void verdict_banner(std::ostringstream& o, const HtmlReportInput& in, const EvalVerdict* v) {
    if (!v) {
        o << "<div id=\"verdict\" class=\"verdict none\"><div class=\"big\">FLOOR</div><div>No synthetic trace: "
             "the tables show how much the real trace differs from itself (its two flow-hash halves); there is "
             "nothing to judge.</div></div>\n";
        return;
    }
    const MetricSet& sc = in.score->score;
    const MetricSet& fl = in.floor->score;
    o << "<div id=\"verdict\" class=\"verdict " << (v->pass ? "pass" : "fail") << "\"><div class=\"big\">"
      << (v->pass ? "PASS" : "FAIL") << "</div><div><ul>"
      << headline("17-metric mean", sc.average, fl.average, kMetricMargin, v->average)
      << headline("joint mean", sc.joint_average, fl.joint_average, kJointMargin, v->joint_average);
    if (in.semantics && in.semantics_floor)
        o << headline("semantics mean", in.semantics->mean, in.semantics_floor->mean, kSemanticMeanMargin,
                      v->semantics_mean)
          << "<li>semantics checks over floor + " << margin_text(kSemanticMargin) << ": <b>" << failures(v->semantics)
          << " of " << kSemanticCount << "</b>" << failing_names(v->semantics, kSemanticNames) << "</li>";
    o << "</ul><div class=\"small\">Shown, not part of the verdict: " << failures(v->metrics) << " of " << kMetricCount
      << " metrics over floor + " << margin_text(kMetricMargin) << failing_names(v->metrics, kMetricNames) << ", "
      << failures(v->joint) << " of " << kJointCount << " joint metrics over floor + " << margin_text(kJointMargin)
      << failing_names(v->joint, kJointNames) << ".</div></div></div>\n";
}

std::string bytes_text(const std::optional<uint64_t>& b) {
    return b ? format_si(static_cast<double>(*b)) + "B (" + std::to_string(*b) + " bytes)" : std::string("size unknown");
}

void metadata(std::ostringstream& o, const HtmlReportInput& in) {
    const ReportMeta& m = in.meta;
    o << "<table id=\"meta\" class=\"meta\">";
    auto file_row = [&](const std::string& role, const ReportFile& f, const std::string& extra) {
        o << "<tr><th>" << role << "</th><td>" << xml_escape(f.name) << "</td><td>" << bytes_text(f.bytes) << "</td><td>"
          << extra << "</td></tr>";
    };
    auto packets = [](const PacketCounts& c) {
        return std::to_string(c.ip) + " IP, " + std::to_string(c.nonip) + " non-IP packets";
    };
    const PacketCounts real_counts = m.real.packets.value_or(
        in.floor_only ? PacketCounts{in.score->real.ip + in.score->synthetic.ip, 0} : in.score->real);
    file_row("real", m.real, packets(real_counts) +
                                 (in.floor_only ? " (halves: " + std::to_string(in.score->real.ip) + " / " +
                                                      std::to_string(in.score->synthetic.ip) + " IP)"
                                                : std::string()));
    if (!in.floor_only) {
        file_row("synthetic", m.synth, packets(m.synth.packets.value_or(in.score->synthetic)));
        if (m.model) {
            std::string per;
            if (m.model->bytes && real_counts.ip) {
                char b[64];
                std::snprintf(b, sizeof b, "%.3f bytes per real IP packet", static_cast<double>(*m.model->bytes) /
                                                                              static_cast<double>(real_counts.ip));
                per = b;
            }
            file_row("model", *m.model, per);
        }
        o << "<tr><th><a href=\"#g-replay\">replay</a></th><td colspan=\"3\">" << value_text(in.score->replay)
          << "</td></tr>";
    }
    o << "<tr><th>tool</th><td colspan=\"3\">" << xml_escape(m.tool_version) << "</td></tr><tr><th>generated</th>"
      << "<td colspan=\"3\">" << xml_escape(m.generated_utc) << "</td></tr></table>\n";
}

std::string percent(double share) {
    if (share > 0 && share < 0.0005) return "&lt;0.1 %";  // present, though it rounds to nothing
    char b[32];
    std::snprintf(b, sizeof b, "%.1f %%", 100 * share);
    return b;
}

// Protocol mix and top talkers, each a table with the two traces side by side.
void mix_and_talkers(std::ostringstream& o, const HtmlReportInput& in, const Labels& l) {
    o << "<h2>Protocol mix and top talkers</h2>\n<div class=\"grid\">\n<table id=\"proto-mix\"><tr><th>"
         "<a href=\"#g-proto\">protocol</a></th><th>"
      << xml_escape(l.real) << "</th><th>" << xml_escape(l.synth) << "</th></tr>\n";
    for (const ProtoShare& p : protocol_mix(in.real->metrics[kProto], in.synth->metrics[kProto]))
        o << "<tr><td>" << proto_label(p.proto) << "</td><td>" << percent(p.real) << "</td><td>" << percent(p.synth)
          << "</td></tr>\n";
    o << "</table>\n";
    if (!in.real_talkers.empty() || !in.synth_talkers.empty()) {
        o << "<table id=\"talkers\"><tr><th>rank</th><th>" << xml_escape(l.real) << " source</th><th>packets</th><th>"
          << xml_escape(l.synth) << " source</th><th>packets</th></tr>\n";
        auto cells = [](const std::vector<Talker>& t, size_t i, uint64_t total) {
            if (i >= t.size()) return std::string("<td></td><td></td>");
            return "<td>" + xml_escape(t[i].address) + "</td><td>" + std::to_string(t[i].packets) + " (" +
                   percent(total ? static_cast<double>(t[i].packets) / static_cast<double>(total) : 0.0) + ")</td>";
        };
        for (size_t i = 0; i < std::max(in.real_talkers.size(), in.synth_talkers.size()); ++i)
            o << "<tr><td>" << i + 1 << "</td>" << cells(in.real_talkers, i, in.real->ip_packets)
              << cells(in.synth_talkers, i, in.synth->ip_packets) << "</tr>\n";
        o << "</table>\n";
    }
    o << "</div>\n";
}

// Every name the page shows: the semantics checks only with their table.
void glossary_section(std::ostringstream& o, bool with_semantics) {
    o << "<h2 id=\"glossary\">Glossary</h2>\n<table class=\"glossary\">\n";
    for (const GlossaryEntry& e : glossary()) {
        const bool check = std::find(kSemanticNames.begin(), kSemanticNames.end(), e.name) != kSemanticNames.end();
        if (check && !with_semantics) continue;
        o << "<tr id=\"g-" << e.name << "\"><td>" << e.name << "</td><td>" << xml_escape(e.meaning) << "</td></tr>\n";
    }
    o << "</table>\n";
}

// A chart card. v: the score and its verdict (null in a floor-only report).
void card(std::ostringstream& o, const std::string& name, const std::optional<double>* v, Verdict verdict,
          const std::optional<double>& fl, double margin, const std::string& svg) {
    o << "<div class=\"card\" id=\"card-" << name << "\"><h3>" << xml_escape(name) << " ";
    if (v)
        o << "<span class=\"" << verdict_class(verdict) << "\">JSD " << value_text(*v) << " " << verdict_word(verdict)
          << "</span> <span class=\"f\">floor " << value_text(fl) << ", pass " << limit_text(fl, margin) << "</span>";
    else
        o << "<span class=\"f\">floor " << value_text(fl) << "</span>";
    o << "</h3><p class=\"m\">" << xml_escape(meaning_of(name)) << "</p>" << svg << "</div>\n";
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:16px;color:#222}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
    "table{border-collapse:collapse;font-size:13px;align-self:flex-start}td,th{padding:2px 10px;text-align:left}"
    "tr:nth-child(even){background:#f3f3f3}"
    ".meta th{text-align:right;color:#555}"
    ".grid{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{border:1px solid #ccc;border-radius:4px;padding:4px 6px;width:646px}"
    ".card h3{font-size:15px;margin:4px 0}.f{color:#555;margin-left:12px}.m{font-size:12px;color:#555;margin:0 0 2px}"
    "td.pass,span.pass{color:#1a7f37;font-weight:bold}td.fail,span.fail{color:#b42318;font-weight:bold}"
    "td.na,span.na{color:#888}span.pass,span.fail,span.na{margin-left:12px}"
    ".verdict{display:flex;gap:28px;align-items:center;color:#fff;border-radius:6px;padding:8px 20px;margin:8px 0 14px}"
    ".verdict.pass{background:#1a7f37}.verdict.fail{background:#b42318}.verdict.none{background:#666}"
    ".verdict .big{font-size:40px;font-weight:bold;letter-spacing:2px}.verdict ul{margin:4px 0;padding-left:18px}"
    ".verdict .small{font-size:12px;opacity:0.9}"
    ".glossary td:first-child{font-weight:bold;font-family:monospace}"
    ".key{font-size:13px;color:#444}";

}  // namespace

std::string render_html_report(const HtmlReportInput& in) {
    const FidelityReport& sc = *in.score;
    const FidelityReport& fl = *in.floor;
    const Labels l{in.real_label, in.synth_label};
    const bool with_sem = in.semantics && in.semantics_floor;
    const std::optional<EvalVerdict> verdict =
        in.floor_only ? std::nullopt
                      : std::optional<EvalVerdict>(judge(sc.score, fl.score, with_sem ? in.semantics : nullptr,
                                                         with_sem ? in.semantics_floor : nullptr));
    const EvalVerdict none{};
    const EvalVerdict& v = verdict ? *verdict : none;
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/><title>"
      << xml_escape(in.title) << "</title><style>" << kStyle << "</style></head><body>\n";
    o << "<h1>" << xml_escape(in.title) << "</h1>\n";
    verdict_banner(o, in, verdict ? &*verdict : nullptr);
    metadata(o, in);
    o << "<p class=\"key\">Each metric is a Jensen\u2013Shannon divergence (JSD, log base 2) between the two traces' "
         "histograms: 0 = identical distributions, 1 = disjoint. The floor compares two halves of the real trace "
         "split by flow key: what a perfect generator would score at half the volume. A value passes when it is at "
         "most its floor plus a tolerance: "
      << margin_text(kMetricMargin) << " for the 17 metrics and their mean, " << margin_text(kJointMargin)
      << " for the joint metrics, " << margin_text(kSemanticMargin) << " for each semantics check and "
      << margin_text(kSemanticMeanMargin)
      << " for their mean. The verdict takes the three means and every semantics check. Names link to the "
         "<a href=\"#glossary\">glossary</a>.</p>\n";

    o << "<h2>Fidelity metrics</h2>\n";
    summary_table(o, "metrics", "metric", metric_rows(sc.score, fl.score, v), !in.floor_only);
    if (with_sem) {
        o << "<h2>Traffic semantics</h2>\n<p class=\"key\">Checks of docs/semantics.md, same JSD: does the synthetic "
             "trace look like the same kind of traffic to an analyst's tools.</p>\n";
        summary_table(o, "semantics", "check", semantic_rows(*in.semantics, *in.semantics_floor, v), !in.floor_only);
    }
    mix_and_talkers(o, in, l);

    o << "<h2>Per-second traffic</h2>\n<div class=\"grid\"><div class=\"card\"><h3>packets per second</h3>"
      << series_chart(*in.real, *in.synth, false, l) << "</div><div class=\"card\"><h3>bytes per second</h3>"
      << series_chart(*in.real, *in.synth, true, l) << "</div></div>\n";

    o << "<h2>The 17 metrics</h2>\n<div class=\"grid\">\n";
    for (int i = 0; i < kMetricCount; ++i)
        card(o, std::string(kMetricNames[i]), in.floor_only ? nullptr : &sc.score.metrics[i], v.metrics[i],
             fl.score.metrics[i], kMetricMargin,
             metric_chart(static_cast<Metric>(i), in.real->metrics[i], in.synth->metrics[i], l));
    o << "</div>\n<h2>Joint structure</h2>\n<div class=\"grid\">\n";
    for (int i = 0; i < kJointCount; ++i)
        card(o, std::string(kJointNames[i]), in.floor_only ? nullptr : &sc.score.joint[i], v.joint[i],
             fl.score.joint[i], kJointMargin, joint_chart(static_cast<JointMetric>(i), in.real->joint[i], in.synth->joint[i], l));
    o << "</div>\n";
    glossary_section(o, with_sem);
    o << "</body></html>\n";
    return o.str();
}

}  // namespace dgc::fidelity
