// Issue 12's determinism target, end to end through the real binary: compressing the same
// trace gives the same .dgc bytes, also with another thread count (training pins one
// intra-op and one BLAS thread), and two warm-ups over the same inputs the same model.
// Training is not the same across CPU kernel sets (ATEN_CPU_CAPABILITY=default vs avx2
// round differently); regeneration is, and compat_golden_test checks that.
#include <gtest/gtest.h>

#include <string>

#include "tests/codec/codec_test_util.h"

namespace {

using dgc::test::read_file;
using dgc::test::run_command;
using dgc::test::temp_dir;

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
std::string dev(const char* name) { return std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + name; }

// Output bytes of one dgcctl run under `env`, or a failure naming the command.
std::string run(const std::string& env, const std::string& args, const std::string& out) {
    const std::string path = temp_dir() + "/" + out;
    const std::string cmd = "env " + env + " '" + kDgcctl + "' " + args + " -o '" + path + "' >/dev/null";
    const auto r = run_command(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    std::string bytes = read_file(path);
    EXPECT_FALSE(bytes.empty()) << cmd;
    return bytes;
}

TEST(Reproducible, CompressGivesTheSameBytesWhateverTheThreadCount) {
    const std::string args = "compress '" + dev("nDPI__gnutella.pcap") + "' --chunk-packets 1000 --steps 20";
    const std::string first = run("OMP_NUM_THREADS=1", args, "a.dgc");
    EXPECT_TRUE(run("OMP_NUM_THREADS=1", args, "b.dgc") == first) << "twice";
    EXPECT_TRUE(run("OMP_NUM_THREADS=2", args, "c.dgc") == first) << "two threads";
    // The budget decides the bytes, not the machine's load: another budget, another file.
    EXPECT_FALSE(run("OMP_NUM_THREADS=2", "compress '" + dev("nDPI__gnutella.pcap") + "' --chunk-packets 1000 --steps 21",
                     "e.dgc") == first);
}

TEST(Reproducible, WarmupGivesTheSameModelTwice) {
    const std::string args = "warmup '" + dev("nDPI__gnutella.pcap") + "' '" + dev("dnscap__dns.pcap") + "' --steps 40";
    const std::string first = run("OMP_NUM_THREADS=2", args, "a.model");
    EXPECT_TRUE(run("OMP_NUM_THREADS=1", args, "b.model") == first);
}

}  // namespace
