// `dgcctl eval --json --report --model` end to end: the JSON's "verdict" matches the
// numbers printed beside it, the existing keys stay, the report carries the metadata, and
// an unwritable report fails before any work with the reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <span>

#include "codec/fidelity/report_verdict.h"

namespace dgc::fidelity {
namespace {

std::string dev(const std::string& name) { return std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + name; }
std::string dgcctl() { return std::string(DGC_BINARY_DIR) + "/tools/dgcctl"; }
std::string slurp(const std::string& path) {
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
std::optional<double> num(const nlohmann::json& v) {
    return v.is_null() ? std::nullopt : std::optional<double>(v.get<double>());
}
std::string tmp(const std::string& name) { return ::testing::TempDir() + "/dgc_cli_" + std::to_string(::getpid()) + name; }

TEST(ReportCli, JsonVerdictAndReportMetadata) {
    const std::string real = dev("USTC-TFC2016__Tinba.pcap"), synth = dev("nDPI__gnutella.pcap");
    const std::string model = dev("PcapPlusPlus__example.pcap");  // any file: the report shows its size
    const std::string json = tmp(".json"), html = tmp(".html");
    const std::string cmd = dgcctl() + " eval --json '" + real + "' '" + synth + "' --report '" + html + "' --model '" +
                            model + "' > '" + json + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const nlohmann::json j = nlohmann::json::parse(slurp(json));
    for (const char* key : {"metrics", "average", "floor", "floor_average", "packets", "replay", "joint", "joint_average",
                            "joint_floor", "joint_floor_average", "semantics", "verdict"})
        EXPECT_TRUE(j.contains(key)) << key;
    const nlohmann::json& v = j["verdict"];
    for (int i = 0; i < kMetricCount; ++i) {
        const std::string n(kMetricNames[i]);
        const Verdict want = verdict_of(num(j["metrics"][n]), num(j["floor"][n]), kMetricMargin);
        EXPECT_EQ(v["metrics"][n].is_null() ? "undefined" : v["metrics"][n].get<std::string>(), verdict_name(want)) << n;
    }
    for (int i = 0; i < kJointCount; ++i) {
        const std::string n(kJointNames[i]);
        const Verdict want = verdict_of(num(j["joint"][n]), num(j["joint_floor"][n]), kJointMargin);
        EXPECT_EQ(v["joint"][n].is_null() ? "undefined" : v["joint"][n].get<std::string>(), verdict_name(want)) << n;
    }
    for (int i = 0; i < kSemanticCount; ++i) {
        const std::string n(kSemanticNames[i]);
        const nlohmann::json& pass = j["semantics"]["checks"][n]["pass"];
        EXPECT_EQ(v["semantics"][n], pass.is_null() ? nlohmann::json(nullptr) : nlohmann::json(pass.get<bool>() ? "pass" : "fail"))
            << n;
    }
    EXPECT_EQ(v["overall"], "fail");  // a DNS trojan's trace is no gnutella
    EXPECT_EQ(v["average"], "fail");

    const std::string page = slurp(html);
    EXPECT_NE(page.find("class=\"verdict fail\""), std::string::npos);
    for (const std::string& f : {real, synth, model})
        EXPECT_NE(page.find(std::to_string(std::filesystem::file_size(f)) + " bytes"), std::string::npos) << f;
    EXPECT_NE(page.find(model), std::string::npos);
    const std::string version = tmp("_version.txt");
    ASSERT_EQ(std::system((dgcctl() + " --version > '" + version + "'").c_str()), 0);
    std::string v_line = slurp(version);
    v_line = v_line.substr(0, v_line.find('\n'));
    EXPECT_TRUE(std::regex_match(v_line, std::regex("dgcctl [0-9]+\\.[0-9]+\\.[0-9]+"))) << v_line;
    EXPECT_NE(page.find("<td colspan=\"3\">" + v_line + "</td>"), std::string::npos) << "the version --version prints";
    EXPECT_TRUE(std::regex_search(page, std::regex("<td colspan=\"3\">20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z</td>")));
}

// The text table's pass column and verdict line say what --json says.
TEST(ReportCli, TextTableMarksMatchTheJsonVerdict) {
    const std::string real = dev("nDPI__gnutella.pcap"), synth = dev("USTC-TFC2016__Tinba.pcap");
    const std::string json = tmp("_t.json"), text = tmp("_t.txt");
    ASSERT_EQ(std::system((dgcctl() + " eval --json '" + real + "' '" + synth + "' > '" + json + "'").c_str()), 0);
    ASSERT_EQ(std::system((dgcctl() + " eval '" + real + "' '" + synth + "' > '" + text + "'").c_str()), 0);
    const nlohmann::json v = nlohmann::json::parse(slurp(json))["verdict"];
    const std::string t = slurp(text);
    auto mark = [](const nlohmann::json& x) { return x.is_null() ? std::string("-") : x == "pass" ? "ok" : "FAIL"; };
    for (auto [family, names] : {std::pair{"metrics", std::span<const std::string_view>(kMetricNames)},
                                 std::pair{"joint", std::span<const std::string_view>(kJointNames)},
                                 std::pair{"semantics", std::span<const std::string_view>(kSemanticNames)}})
        for (auto n : names) {
            std::string pattern(1, '\n');
            pattern.append(n).append(" +\\S+ +\\S+ +(\\S+)\n");
            std::smatch m;
            ASSERT_TRUE(std::regex_search(t, m, std::regex(pattern))) << n;
            EXPECT_EQ(m[1], mark(v[family][std::string(n)])) << n;
        }
    EXPECT_NE(t.find(std::string("\nverdict  ") + (v["overall"] == "pass" ? "PASS" : "FAIL")), std::string::npos) << t;
}

// REAL alone: no verdict, and the report counts REAL's packets, not its halves' (which
// hold no non-IP packets).
TEST(ReportCli, FloorOnlyHasNoVerdictAndRealsCounts) {
    const std::string json = tmp("_floor.json"), html = tmp("_floor.html");
    const std::string cmd = dgcctl() + " eval --json '" + dev("nDPI__gnutella.pcap") + "' --report '" + html + "' > '" +
                            json + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const nlohmann::json j = nlohmann::json::parse(slurp(json));
    EXPECT_TRUE(j.contains("floor"));
    EXPECT_FALSE(j.contains("verdict"));
    const uint64_t ip = j["packets"]["real"]["ip"], nonip = j["packets"]["real"]["nonip"];
    ASSERT_GT(nonip, 0u);
    const std::string page = slurp(html);
    EXPECT_NE(page.find(std::to_string(ip) + " IP, " + std::to_string(nonip) + " non-IP packets"), std::string::npos);
    EXPECT_NE(page.find("class=\"verdict none\""), std::string::npos);
}

TEST(ReportCli, UnwritableReportFailsFirstWithTheReason) {
    const std::string out = tmp("_unwritable.out"), err = tmp("_unwritable.err");
    const std::string cmd = dgcctl() + " eval '" + dev("USTC-TFC2016__Tinba.pcap") + "' '" + dev("nDPI__gnutella.pcap") +
                            "' --report /nonexistent-dir/r.html > '" + out + "' 2> '" + err + "'";
    const int rc = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(rc));
    EXPECT_EQ(WEXITSTATUS(rc), 1);
    EXPECT_NE(slurp(err).find("cannot write report /nonexistent-dir/r.html: No such file or directory"), std::string::npos)
        << slurp(err);
    EXPECT_EQ(slurp(out), "") << "no table: it failed before the work";
}

TEST(ReportCli, UnreadableInputLeavesNoReport) {
    const std::string bad = tmp("_bad.pcap"), html = tmp("_bad.html"), err = tmp("_bad.err");
    std::ofstream(bad) << "not a capture\n";
    const int rc = std::system((dgcctl() + " eval '" + bad + "' --report '" + html + "' 2> '" + err + "'").c_str());
    ASSERT_TRUE(WIFEXITED(rc));
    EXPECT_EQ(WEXITSTATUS(rc), 1);
    EXPECT_NE(slurp(err).find(bad), std::string::npos) << slurp(err);
    EXPECT_FALSE(std::filesystem::exists(html));
}

TEST(SeriesCli, ATraceAgainstItselfAndAgainstAnother) {
    // A capture against itself: every series correlates 1. Against another week-long
    // capture on its own clock, the grid spans both and nothing follows (r below 0.5).
    const std::string real = dev("IoT-Dataset__ultraloq-hub-01.pcap"), other = dev("IoT-Dataset__blink-cam-02.pcap");
    const std::string same = tmp("_series_same.json"), diff = tmp("_series_diff.json");
    ASSERT_EQ(std::system((dgcctl() + " series --json '" + real + "' '" + real + "' > '" + same + "'").c_str()), 0);
    ASSERT_EQ(std::system((dgcctl() + " series --json --epoch 3600 '" + real + "' '" + other + "' > '" + diff + "'").c_str()), 0);
    const nlohmann::json a = nlohmann::json::parse(slurp(same)), b = nlohmann::json::parse(slurp(diff));
    EXPECT_EQ(a["schema"], 1);
    ASSERT_EQ(a["epochs"].size(), 2u);
    EXPECT_EQ(a["epochs"][0]["seconds"], 3600.0);
    EXPECT_EQ(a["epochs"][1]["seconds"], 600.0);
    EXPECT_GT(a["epochs"][1]["count"].get<int>(), 1000);  // a week in 10-minute epochs
    for (const auto& e : a["epochs"])
        for (const char* k : {"packets", "bytes", "sources", "pairs"}) EXPECT_NEAR(e["pearson"][k].get<double>(), 1.0, 1e-9) << k;
    ASSERT_EQ(b["epochs"].size(), 1u);
    for (const char* k : {"packets", "bytes", "sources", "pairs"}) {
        const auto& r = b["epochs"][0]["pearson"][k];
        if (!r.is_null()) {
            EXPECT_LT(r.get<double>(), 0.5) << k;
        }
    }
}

TEST(SeriesCli, EmptyOrUnreadableCaptureFails) {
    const std::string bad = tmp("_series_bad.pcap"), err = tmp("_series_bad.err");
    std::ofstream(bad) << "not a capture\n";
    const int rc = std::system((dgcctl() + " series '" + bad + "' '" + dev("nDPI__gnutella.pcap") + "' 2> '" + err + "'").c_str());
    ASSERT_TRUE(WIFEXITED(rc));
    EXPECT_EQ(WEXITSTATUS(rc), 1);
    EXPECT_NE(slurp(err).find(bad), std::string::npos) << slurp(err);
}

}  // namespace
}  // namespace dgc::fidelity
