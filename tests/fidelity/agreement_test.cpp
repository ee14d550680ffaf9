// The library and `dgcctl eval --json` against the naive reference (reference_metrics.cpp)
// on three real captures.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "codec/capture_reader.h"
#include "codec/fidelity/fidelity.h"
#include "perturb.h"
#include "reference_metrics.h"

namespace dgc::fidelity {
namespace {

std::string dev(const std::string& name) { return std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + name; }

std::vector<PacketRecord> load(const std::string& name) {
    auto cap = read_capture(dev(name));
    EXPECT_TRUE(cap.ok()) << cap.status().message();
    return cap.ok() ? std::move(cap->records) : std::vector<PacketRecord>{};
}

void expect_agree(const std::array<std::optional<double>, 17>& want, const MetricSet& got, const std::string& what) {
    int nontrivial = 0;
    for (int i = 0; i < kMetricCount; ++i) {
        ASSERT_EQ(want[i].has_value(), got.metrics[i].has_value()) << what << " " << kMetricNames[i];
        if (!want[i]) continue;
        EXPECT_NEAR(*got.metrics[i], *want[i], 1e-9) << what << " " << kMetricNames[i];
        if (*want[i] > 1e-6) ++nontrivial;
    }
    // The comparison must exercise real values, not a column of zeros.
    EXPECT_GE(nontrivial, 8) << what;
}

class Agreement : public ::testing::TestWithParam<const char*> {};

TEST_P(Agreement, LibraryMatchesTheNaiveSpecImplementation) {
    const std::vector<PacketRecord> real = load(GetParam());
    ASSERT_GT(real.size(), 1000u);
    const std::vector<PacketRecord> synth = test::perturb(real);
    expect_agree(reference::seventeen_metrics(real, synth), evaluate(real, synth).score, GetParam());
    // Identity is exactly zero on both.
    for (const auto& v : evaluate(real, real).score.metrics) EXPECT_EQ(v.value_or(0), 0.0);
}

// `dgcctl eval --json` end to end, each of the three traces as REAL against a fourth as SYNTH.
TEST_P(Agreement, DgcctlEvalJsonMatchesTheReference) {
    const std::string synth_name = "nDPI__gnutella.pcap";
    const std::string a = dev(GetParam()), b = dev(synth_name);
    const std::string out = ::testing::TempDir() + "/dgc_eval_" + GetParam() + ".json";
    const std::string cmd = std::string(DGC_BINARY_DIR) + "/tools/dgcctl eval --json '" + a + "' '" + b + "' > '" + out + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(out);
    const nlohmann::json j = nlohmann::json::parse(in);
    const auto want = reference::seventeen_metrics(load(GetParam()), load(synth_name));
    MetricSet got;
    for (int i = 0; i < kMetricCount; ++i) {
        const auto& v = j["metrics"][std::string(kMetricNames[i])];
        if (!v.is_null()) got.metrics[i] = v.get<double>();
    }
    expect_agree(want, got, std::string("dgcctl eval --json ") + GetParam());
    double sum = 0;
    int n = 0;
    for (const auto& w : want)
        if (w) sum += *w, ++n;
    EXPECT_NEAR(j["average"].get<double>(), sum / n, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(DevTraces, Agreement,
                         ::testing::Values("USTC-TFC2016__Tinba.pcap", "libtrace__isp-fragtest.pcap",
                                           "IoT-Dataset__ultraloq-hub-01.pcap"));

}  // namespace
}  // namespace dgc::fidelity
