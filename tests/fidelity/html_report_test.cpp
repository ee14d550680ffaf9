// The HTML report: well-formed XML (checked by xml_check.h), one chart per
// metric card, and the per-second series of both traces.
#include <gtest/gtest.h>

#include <fstream>

#include "codec/capture_reader.h"
#include "codec/fidelity/report_html.h"
#include "perturb.h"
#include "xml_check.h"

namespace dgc::fidelity {
namespace {

size_t count(const std::string& s, const std::string& needle) {
    size_t n = 0;
    for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
}

TEST(HtmlReport, WellFormedWithAChartPerMetric) {
    auto cap = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/USTC-TFC2016__Tinba.pcap");
    ASSERT_TRUE(cap.ok()) << cap.status().message();
    const auto synth = test::perturb(cap->records);
    const TraceProfile rp = profile_trace(cap->records), sp = profile_trace(synth);
    const FidelityReport score = evaluate(rp, sp);
    const FidelityReport fl = floor(cap->records);
    HtmlReportInput in{"Tinba <vs> perturbed & co", "real", "synthetic", &rp, &sp, &score, &fl, false};
    const std::string html = render_html_report(in);

    for (auto name : kMetricNames) {
        const size_t at = html.find("<h3>" + std::string(name) + " <span");
        ASSERT_NE(at, std::string::npos) << name;
        const size_t end = html.find("</div>", at);
        EXPECT_NE(html.substr(at, end - at).find("<svg"), std::string::npos) << name;
    }
    for (auto name : kJointNames) EXPECT_NE(html.find("<h3>" + std::string(name) + " <span"), std::string::npos);
    // 17 + 5 metric charts, 4 time series, 22 + 2 summary bars.
    EXPECT_EQ(count(html, "<svg"), 17u + 5u + 4u + 24u);
    EXPECT_NE(html.find("Tinba &lt;vs&gt; perturbed &amp; co"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("http://", html.find("<body")), html.find("http://www.w3.org/2000/svg"));

    EXPECT_EQ(test::xml_problem(html), "");
    std::ofstream(::testing::TempDir() + "/dgc_report.html") << html;  // for a look when it fails
}

TEST(HtmlReport, FloorOnlyShowsTheHalvesAndNoScore) {
    auto cap = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/nDPI__gnutella.pcap");
    ASSERT_TRUE(cap.ok()) << cap.status().message();
    const FlowHashSplit halves = split_by_flow_hash(cap->records);
    const TraceProfile a = profile_trace(halves.first), b = profile_trace(halves.second);
    const FidelityReport fl = evaluate(a, b);
    HtmlReportInput in{"floor", "half A", "half B", &a, &b, &fl, &fl, true};
    const std::string html = render_html_report(in);
    EXPECT_EQ(html.find("JSD 0"), std::string::npos);  // the floor is not a score
    EXPECT_EQ(count(html, "floor 0.") + count(html, "floor 1.") + count(html, "floor undefined"), 22u);
    EXPECT_NE(html.find("half B"), std::string::npos);
    EXPECT_EQ(count(html, "<svg"), 17u + 5u + 4u + 24u);
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
