// dgcctl bench-ingest end to end on a one-hour capture of two small dev traces: the figures it
// prints are the volume's and the capture's own (every packet modelled and read back from
// archive/), not just an exit status. Mounts a real dgcfs.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "codec/capture_reader.h"
#include "tests/codec/codec_test_util.h"
#include "tools/bench_capture.h"

namespace dgc::tools::bench {
namespace {

using dgc::test::run_command;
using dgc::test::temp_dir;

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
const std::string kDev = std::string(DGC_SHARED_DATA) + "/pcaps/dev";

TEST(BenchIngest, OneHourIsModelledAndReadBackWhole) {
    const std::string keep = temp_dir() + "/ingest";
    const std::string out = temp_dir() + "/ingest.json";
    // In a subshell: run_command sends stderr (progress) to the output, and only stdout is JSON.
    const auto r = run_command("('" + kDgcctl + "' bench-ingest --hours 1 --traces dnscap__dns.pcap,nDPI__teams.pcap " +
                               "--data-dir '" + kDev + "' --train-steps 16 --json --keep '" + keep + "' >'" + out + "')");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto j = nlohmann::json::parse(dgc::test::read_file(out));

    // The recipe, rebuilt here, says how many packets the capture has.
    std::vector<Trace> traces;
    for (const char* n : {"dnscap__dns.pcap", "nDPI__teams.pcap"}) traces.push_back(*load_trace(kDev + "/" + n));
    const auto picks = build_capture(traces, Variant::kSteady, 1);
    ASSERT_TRUE(picks.ok());
    const auto kept = read_capture(keep + "/ingest-steady.pcap");
    ASSERT_TRUE(kept.ok()) << kept.status().message();
    EXPECT_EQ(kept->records.size(), picks->size());

    EXPECT_EQ(j["schema"].get<int>(), 1);
    EXPECT_EQ(j["packets"].get<uint64_t>(), picks->size());
    EXPECT_EQ(j["modelled_packets"].get<uint64_t>(), picks->size());
    EXPECT_EQ(j["archive_packets"].get<uint64_t>(), picks->size());
    EXPECT_EQ(j["chunks"].get<uint64_t>(), 1u);  // one hour, one chunk
    EXPECT_GT(j["model_bytes"].get<uint64_t>(), 0u);
    EXPECT_GT(j["peak_rss_kib"].get<long>(), 10 * 1024);
    EXPECT_NEAR(j["ratio_to_xz"].get<double>(),
                j["model_packets_per_s"].get<double>() / j["xz_packets_per_s"].get<double>(), 1e-9);
    for (const char* k : {"mean", "mean_floor", "joint", "joint_floor"}) {
        EXPECT_GE(j[k].get<double>(), 0) << k;
        EXPECT_LE(j[k].get<double>(), 1) << k;
    }
    EXPECT_EQ(j["mean_pass"].get<bool>(), j["mean"].get<double>() <= j["mean_floor"].get<double>() + 0.05);
    // user.dgcfs.decisions, where the volume has it, accounts for every chunk.
    if (!j["decisions"].is_null()) {
        unsigned reused = 0, delta = 0, keyframe = 0;
        const std::string d = j["decisions"].get<std::string>();
        ASSERT_EQ(std::sscanf(d.c_str(), "reused %u, delta %u, keyframe %u", &reused, &delta, &keyframe), 3) << d;
        EXPECT_EQ(reused + delta + keyframe, j["chunks"].get<uint64_t>()) << d;
    }
}

TEST(BenchIngest, MissingTraceFailsNamingIt) {
    const auto r = run_command("'" + kDgcctl + "' bench-ingest --hours 1 --traces no-such.pcap --data-dir '" + kDev + "'");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("no-such.pcap"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dgc::tools::bench
