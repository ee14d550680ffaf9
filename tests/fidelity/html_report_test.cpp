// The HTML report: well-formed XML (checked by xml_check.h), a verdict that follows
// floor + tolerance (report_verdict.h), bars scaled to the table, a glossary entry for
// every name shown, both traces' per-second series on one axis, protocol mix and top
// talkers side by side, and the inputs' metadata.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "codec/capture_reader.h"
#include "codec/fidelity/report_glossary.h"
#include "codec/fidelity/report_html.h"
#include "codec/fidelity/report_verdict.h"
#include "codec/fidelity/svg_plot.h"
#include "perturb.h"
#include "xml_check.h"

namespace dgc::fidelity {
namespace {

size_t count(const std::string& s, const std::string& needle) {
    size_t n = 0;
    for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
}

// The element that starts at the first `open` (e.g. "<tr id=\"row-sa\"") up to `close`.
std::string element(const std::string& html, const std::string& open, const std::string& close) {
    const size_t at = html.find(open);
    if (at == std::string::npos) return "";
    const size_t end = html.find(close, at);
    return html.substr(at, end == std::string::npos ? std::string::npos : end + close.size() - at);
}

// A real trace against a perturbed copy of itself, profiled once for every test.
struct Pair {
    std::vector<PacketRecord> real, synth;
    TraceProfile rp, sp;
    FidelityReport score, fl;
    SemanticSet sem, sem_floor;
};

const Pair& tinba() {
    static const Pair p = [] {
        Pair x;
        auto cap = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/USTC-TFC2016__Tinba.pcap");
        EXPECT_TRUE(cap.ok()) << cap.status().message();
        if (!cap.ok()) return x;
        x.real = cap->records;
        x.synth = test::perturb(x.real);
        x.rp = profile_trace(x.real);
        x.sp = profile_trace(x.synth);
        x.score = evaluate(x.rp, x.sp);
        x.fl = floor(x.real);
        x.sem = semantics(x.real, x.synth);
        x.sem_floor = semantics_floor(x.real);
        return x;
    }();
    return p;
}

HtmlReportInput basic_input(std::string title, std::string real_label, std::string synth_label, const TraceProfile& rp,
                            const TraceProfile& sp, const FidelityReport& score, const FidelityReport& fl, bool floor_only) {
    HtmlReportInput in;
    in.title = std::move(title);
    in.real_label = std::move(real_label);
    in.synth_label = std::move(synth_label);
    in.real = &rp;
    in.synth = &sp;
    in.score = &score;
    in.floor = &fl;
    in.floor_only = floor_only;
    return in;
}

HtmlReportInput input_for(const Pair& p, const FidelityReport& score) {
    HtmlReportInput in = basic_input("Tinba <vs> perturbed & co", "real", "synthetic", p.rp, p.sp, score, p.fl, false);
    in.semantics = &p.sem;
    in.semantics_floor = &p.sem_floor;
    in.meta.real = {"/data/real.pcap", 1234567, std::nullopt};  // counts from the score
    in.meta.synth = {"/tmp/syn <1>.pcap", 7654, std::nullopt};
    in.meta.model = ReportFile{"x.dgc", 4321, std::nullopt};
    in.meta.tool_version = "dgcctl 9.8.7";
    in.meta.generated_utc = "2026-12-01T08:40:00Z";
    in.real_talkers = top_talkers(p.real, 10);
    in.synth_talkers = top_talkers(p.synth, 10);
    return in;
}

TEST(HtmlReport, WellFormedWithAChartPerMetric) {
    const Pair& p = tinba();
    const HtmlReportInput in = basic_input("Tinba <vs> perturbed & co", "real", "synthetic", p.rp, p.sp, p.score, p.fl, false);
    const std::string html = render_html_report(in);

    for (auto name : kMetricNames) {
        const size_t at = html.find("<h3>" + std::string(name) + " <span");
        ASSERT_NE(at, std::string::npos) << name;
        const size_t end = html.find("</div>", at);
        EXPECT_NE(html.substr(at, end - at).find("<svg"), std::string::npos) << name;
    }
    for (auto name : kJointNames) EXPECT_NE(html.find("<h3>" + std::string(name) + " <span"), std::string::npos);
    // 17 + 5 metric charts, 2 time series (both traces in each), 22 + 2 summary bars.
    EXPECT_EQ(count(html, "<svg"), 17u + 5u + 2u + 24u);
    EXPECT_NE(html.find("Tinba &lt;vs&gt; perturbed &amp; co"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("http://", html.find("<body")), html.find("http://www.w3.org/2000/svg"));
    EXPECT_EQ(test::xml_problem(html), "");
}

TEST(HtmlReport, VerdictCellsFollowFloorPlusTolerance) {
    const Pair& p = tinba();
    FidelityReport sc = p.score;
    const MetricSet& fl = p.fl.score;
    ASSERT_TRUE(fl.metrics[kSa] && fl.metrics[kDa] && fl.joint[kJProtoLen] && fl.joint[kJSvcLen]);
    sc.score.metrics[kSa] = *fl.metrics[kSa] + 0.049;     // just inside floor + 0.05
    sc.score.metrics[kDa] = *fl.metrics[kDa] + 0.051;     // just over
    sc.score.metrics[kTos] = std::nullopt;                // undefined: no verdict
    sc.score.joint[kJSvcLen] = *fl.joint[kJSvcLen] + 0.099;  // joint: floor + 0.10
    sc.score.joint[kJProtoLen] = *fl.joint[kJProtoLen] + 0.101;
    sc.score.average = *fl.average + 0.01;
    sc.score.joint_average = *fl.joint_average + 0.2;     // over: the overall verdict fails
    HtmlReportInput in = input_for(p, sc);
    std::string html = render_html_report(in);
    EXPECT_EQ(test::xml_problem(html), "");

    auto row = [&](const std::string& id) { return element(html, "<tr id=\"row-" + id + "\"", "</tr>"); };
    EXPECT_NE(row("sa").find("<td class=\"pass\">pass</td>"), std::string::npos) << row("sa");
    EXPECT_NE(row("sa").find("fill=\"#1a7f37\""), std::string::npos) << "bar coloured by the verdict";
    EXPECT_NE(row("da").find("<td class=\"fail\"><b>FAIL</b></td>"), std::string::npos) << row("da");
    EXPECT_NE(row("da").find("fill=\"#b42318\""), std::string::npos);
    EXPECT_NE(row("tos").find("<td class=\"na\">-</td>"), std::string::npos) << row("tos");
    EXPECT_NE(row("j_svc_len").find("<td class=\"pass\">"), std::string::npos);
    EXPECT_NE(row("j_proto_len").find("<td class=\"fail\">"), std::string::npos);
    EXPECT_NE(row("mean-17").find("<td class=\"pass\">"), std::string::npos);
    EXPECT_NE(row("mean-joint").find("<td class=\"fail\">"), std::string::npos);
    // The cards say the same as the table.
    EXPECT_NE(element(html, "<div class=\"card\" id=\"card-da\"", "</h3>").find("class=\"fail\""), std::string::npos);
    EXPECT_NE(element(html, "<div class=\"card\" id=\"card-sa\"", "</h3>").find("class=\"pass\""), std::string::npos);

    const std::string banner = element(html, "<div id=\"verdict\"", "</ul>");
    EXPECT_NE(banner.find("class=\"verdict fail\""), std::string::npos) << banner;
    EXPECT_NE(banner.find(">FAIL<"), std::string::npos);

    // Every check of the semantics table has a verdict cell that semantic_pass agrees with.
    for (int i = 0; i < kSemanticCount; ++i) {
        const std::string r = row(std::string(kSemanticNames[i]));
        const auto pass = semantic_pass(p.sem.checks[i], p.sem_floor.checks[i]);
        const std::string want = !pass ? "<td class=\"na\">" : *pass ? "<td class=\"pass\">" : "<td class=\"fail\">";
        EXPECT_NE(r.find(want), std::string::npos) << kSemanticNames[i] << ": " << r;
    }
    EXPECT_FALSE(row("mean-semantics").empty());

    // With every mean inside its tolerance and the semantics all passing, the banner passes.
    sc.score.joint_average = *fl.joint_average + 0.09;
    SemanticSet sem_ok = p.sem_floor;  // the floor itself: every check at its floor
    in = input_for(p, sc);
    in.semantics = &sem_ok;
    html = render_html_report(in);
    EXPECT_NE(element(html, "<div id=\"verdict\"", ">").find("class=\"verdict pass\""), std::string::npos);
    EXPECT_EQ(test::xml_problem(html), "");
}

// The bars share one scale per table: the largest value or pass limit spans the full width.
TEST(HtmlReport, BarsAreScaledToTheTable) {
    const Pair& p = tinba();
    FidelityReport sc = p.score;
    double top = 0;
    for (int i = 0; i < kMetricCount; ++i) {
        top = std::max(top, sc.score.metrics[i].value_or(0));
        if (p.fl.score.metrics[i]) top = std::max(top, *p.fl.score.metrics[i] + kMetricMargin);
    }
    for (int i = 0; i < kJointCount; ++i) {
        top = std::max(top, sc.score.joint[i].value_or(0));
        if (p.fl.score.joint[i]) top = std::max(top, *p.fl.score.joint[i] + kJointMargin);
    }
    sc.score.metrics[kSp] = top * 1.5;  // now the largest of the table
    sc.score.metrics[kTtl] = top * 0.75;
    const std::string html = render_html_report(input_for(p, sc));
    const std::string table = element(html, "<table id=\"metrics\"", "</table>");
    auto bar_width = [&](const std::string& id) {
        const std::string r = element(table, "<tr id=\"row-" + id + "\"", "</tr>");
        std::smatch m;
        EXPECT_TRUE(std::regex_search(r, m, std::regex("class=\"bar\" x=\"0\" y=\"4\" width=\"([0-9.e+-]+)\""))) << r;
        return m.empty() ? -1.0 : std::stod(m[1]);
    };
    EXPECT_NEAR(bar_width("sp"), 200, 1e-6);
    EXPECT_NEAR(bar_width("ttl"), 100, 1e-3);
    char scale[32];
    std::snprintf(scale, sizeof scale, "0 to %.3f", top * 1.5);
    EXPECT_NE(table.find(scale), std::string::npos) << "the header names the scale";
}

TEST(HtmlReport, GlossaryCoversEveryNameShown) {
    const Pair& p = tinba();
    const std::string html = render_html_report(input_for(p, p.score));
    std::set<std::string> entries;
    const std::regex dt("<tr id=\"g-([a-z_0-9]+)\"><td>([^<]*)</td><td>([^<]*)</td></tr>");
    for (std::sregex_iterator it(html.begin(), html.end(), dt), end; it != end; ++it) {
        EXPECT_EQ((*it)[1], (*it)[2]);
        EXPECT_GT((*it)[3].length(), 10u) << (*it)[1];
        entries.insert((*it)[1]);
    }
    // Every link into the glossary lands on an entry...
    const std::regex link("href=\"#g-([a-z_0-9]+)\"");
    std::set<std::string> linked;
    for (std::sregex_iterator it(html.begin(), html.end(), link), end; it != end; ++it) linked.insert((*it)[1]);
    for (const auto& l : linked) EXPECT_TRUE(entries.count(l)) << l;
    // ...and every metric and check name of the tables is such a link, with its meaning on its card.
    for (auto names : {std::span<const std::string_view>(kMetricNames), std::span<const std::string_view>(kJointNames),
                       std::span<const std::string_view>(kSemanticNames)})
        for (auto n : names) {
            EXPECT_TRUE(linked.count(std::string(n))) << n;
            EXPECT_FALSE(meaning_of(n).empty()) << n;
        }
    for (auto n : kMetricNames) {
        const std::string c = element(html, "<div class=\"card\" id=\"card-" + std::string(n) + "\"", "<svg");
        EXPECT_NE(c.find("<p class=\"m\">" + xml_escape(meaning_of(n)) + "</p>"), std::string::npos) << n;
    }
    EXPECT_TRUE(linked.count("replay"));
    EXPECT_EQ(glossary().size(), entries.size());

    // Without the semantics table its checks are not shown, nor explained.
    HtmlReportInput in = input_for(p, p.score);
    in.semantics = in.semantics_floor = nullptr;
    const std::string plain = render_html_report(in);
    EXPECT_EQ(plain.find("id=\"g-tcp_completeness\""), std::string::npos);
    EXPECT_NE(plain.find("id=\"g-tcp_flags\""), std::string::npos);
}

TEST(HtmlReport, PerSecondSeriesOfBothTracesShareOneAxis) {
    const Pair& p = tinba();
    const std::string html = render_html_report(input_for(p, p.score));
    for (const std::string what : {"packets", "bytes"}) {
        const std::string svg = element(html, "<h3>" + what + " per second</h3>", "</svg>");
        ASSERT_FALSE(svg.empty()) << what;
        EXPECT_EQ(count(svg, "<svg"), 1u);
        EXPECT_EQ(count(svg, "<polyline"), 2u) << what;
        EXPECT_NE(svg.find("stroke=\"#1f77b4\""), std::string::npos);  // real
        EXPECT_NE(svg.find("stroke=\"#ff7f0e\""), std::string::npos);  // synthetic
        EXPECT_NE(svg.find(">real</text>"), std::string::npos);
        EXPECT_NE(svg.find(">synthetic</text>"), std::string::npos);
    }
}

TEST(HtmlReport, MetadataProtocolMixAndTopTalkers) {
    const Pair& p = tinba();
    const std::string html = render_html_report(input_for(p, p.score));
    const std::string meta = element(html, "<table id=\"meta\"", "</table>");
    for (const std::string& want : std::vector<std::string>{"/data/real.pcap", "1234567 bytes", "/tmp/syn &lt;1&gt;.pcap", "7654 bytes", "x.dgc",
                                   "4321 bytes", "dgcctl 9.8.7", "2026-12-01T08:40:00Z",
                                   std::to_string(p.score.real.ip) + " IP, " + std::to_string(p.score.real.nonip) + " non-IP",
                                   std::to_string(p.score.synthetic.ip) + " IP"})
        EXPECT_NE(meta.find(want), std::string::npos) << want << " in " << meta;
    char per[64];
    std::snprintf(per, sizeof per, "%.3f bytes per real IP packet", 4321.0 / static_cast<double>(p.score.real.ip));
    EXPECT_NE(meta.find(per), std::string::npos);

    const std::string mix = element(html, "<table id=\"proto-mix\"", "</table>");
    EXPECT_NE(mix.find("<td>UDP</td>"), std::string::npos) << mix;  // Tinba is DNS-heavy
    const std::string talkers = element(html, "<table id=\"talkers\"", "</table>");
    const auto top = top_talkers(p.real, 10);
    ASSERT_FALSE(top.empty());
    EXPECT_NE(talkers.find("<tr><td>1</td><td>" + top[0].address + "</td><td>" + std::to_string(top[0].packets)),
              std::string::npos) << talkers;
    // Side by side: one flex row holds both tables.
    const std::string grid = element(html, "<h2>Protocol mix and top talkers</h2>", "</div>");
    EXPECT_NE(grid.find("id=\"proto-mix\""), std::string::npos);
    EXPECT_NE(grid.find("id=\"talkers\""), std::string::npos);
    EXPECT_EQ(test::xml_problem(html), "");
    std::ofstream(::testing::TempDir() + "/dgc_report.html") << html;  // for a look when it fails
}

TEST(HtmlReport, FloorOnlyShowsTheHalvesAndNoScore) {
    auto cap = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/nDPI__gnutella.pcap");
    ASSERT_TRUE(cap.ok()) << cap.status().message();
    const FlowHashSplit halves = split_by_flow_hash(cap->records);
    const TraceProfile a = profile_trace(halves.first), b = profile_trace(halves.second);
    const FidelityReport fl = evaluate(a, b);
    const HtmlReportInput in = basic_input("floor", "half A", "half B", a, b, fl, fl, true);
    const std::string html = render_html_report(in);
    EXPECT_EQ(html.find("JSD 0"), std::string::npos);  // the floor is not a score
    EXPECT_EQ(count(html, "floor 0.") + count(html, "floor 1.") + count(html, "floor undefined"), 22u);
    EXPECT_NE(html.find("half B"), std::string::npos);
    EXPECT_NE(html.find("class=\"verdict none\""), std::string::npos);
    EXPECT_EQ(html.find("class=\"pass\""), std::string::npos);  // nothing judged
    EXPECT_EQ(html.find("class=\"fail\""), std::string::npos);
    EXPECT_EQ(count(html, "<svg"), 17u + 5u + 2u + 24u);
    EXPECT_EQ(test::xml_problem(html), "");
}

TEST(XmlCheck, FindsWhatABrowserWouldForgive) {
    EXPECT_EQ(test::xml_problem("<a x=\"1\"><b/>t &amp; &#160;</a>"), "");
    EXPECT_NE(test::xml_problem("<a><b></a></b>"), "");
    EXPECT_NE(test::xml_problem("<a x=1></a>"), "");
    EXPECT_NE(test::xml_problem("<a>&nbsp;</a>"), "");
    EXPECT_NE(test::xml_problem("<a><br></a>"), "");
    EXPECT_NE(test::xml_problem("<a></a><b></b>"), "");
}

}  // namespace
}  // namespace dgc::fidelity
