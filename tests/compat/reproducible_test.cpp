// Issue 12's determinism target, end to end through the real binary: compressing the same
// trace gives the same .dgc bytes, also with another thread count (training pins one
// intra-op and one BLAS thread), and two warm-ups over the same inputs the same model.
// Training is not the same across CPU kernel sets (ATEN_CPU_CAPABILITY=default vs avx2
// round differently); regeneration is, and compat_golden_test checks that.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace fsys = std::filesystem;

namespace {

std::string slurp(const fsys::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string dgcctl() { return std::string(DGC_BINARY_DIR) + "/tools/dgcctl"; }
std::string dev(const char* name) { return std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + name; }

class Reproducible : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fsys::temp_directory_path() / ("dgc-repro-" + std::to_string(::getpid()));
        fsys::create_directories(dir_);
    }
    void TearDown() override { fsys::remove_all(dir_); }

    // Output bytes of one dgcctl run under `env`, or a failure naming the command.
    std::string run(const std::string& env, const std::string& args, const std::string& out) {
        const fsys::path o = dir_ / out;
        const std::string cmd = "env " + env + " '" + dgcctl() + "' " + args + " -o '" + o.string() + "' >'" +
                                (dir_ / "log").string() + "' 2>&1";
        const int rc = std::system(cmd.c_str());
        EXPECT_EQ(rc, 0) << cmd << "\n" << slurp(dir_ / "log");
        std::string bytes = slurp(o);
        EXPECT_FALSE(bytes.empty()) << cmd;
        return bytes;
    }
    fsys::path dir_;
};

TEST_F(Reproducible, CompressGivesTheSameBytesWhateverTheThreadCount) {
    const std::string args = "compress '" + dev("nDPI__gnutella.pcap") + "' --chunk-packets 1000 --steps 20";
    const std::string first = run("OMP_NUM_THREADS=1", args, "a.dgc");
    EXPECT_TRUE(run("OMP_NUM_THREADS=1", args, "b.dgc") == first) << "twice";
    EXPECT_TRUE(run("OMP_NUM_THREADS=2", args, "c.dgc") == first) << "two threads";
    // The budget decides the bytes, not the machine's load: another budget, another file.
    EXPECT_FALSE(run("OMP_NUM_THREADS=2", "compress '" + dev("nDPI__gnutella.pcap") + "' --chunk-packets 1000 --steps 21",
                  "e.dgc") == first);
}

TEST_F(Reproducible, WarmupGivesTheSameModelTwice) {
    const std::string args = "warmup '" + dev("nDPI__gnutella.pcap") + "' '" + dev("dnscap__dns.pcap") + "' --steps 40";
    const std::string first = run("OMP_NUM_THREADS=2", args, "a.model");
    EXPECT_TRUE(run("OMP_NUM_THREADS=1", args, "b.model") == first);
}

}  // namespace
