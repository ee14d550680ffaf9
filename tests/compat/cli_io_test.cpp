// dgcctl's capture commands follow tcpdump's conventions (issue 14): '-' is standard input
// or output, and an output that cannot be written fails at once, naming the path and the
// reason, before any training.
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

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
const std::string kTrace = std::string(DGC_SHARED_DATA) + "/pcaps/dev/nDPI__gnutella.pcap";

class CliIo : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fsys::temp_directory_path() / ("dgc-cli-io-" + std::to_string(::getpid()));
        fsys::create_directories(dir_);
    }
    void TearDown() override { fsys::remove_all(dir_); }
    // Exit status of a shell command whose stderr goes to dir_/err.
    int sh(const std::string& cmd) {
        const int rc = std::system(("(" + cmd + ") 2>'" + (dir_ / "err").string() + "'").c_str());
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }
    std::string err() { return slurp(dir_ / "err"); }
    std::string at(const char* name) { return "'" + (dir_ / name).string() + "'"; }
    fsys::path dir_;
};

TEST_F(CliIo, DashIsStandardInputAndOutput) {
    ASSERT_EQ(sh("cat '" + kTrace + "' | '" + kDgcctl + "' compress - -o - --steps 16 >" + at("piped.dgc")), 0) << err();
    EXPECT_NE(err().find("bytes/packet"), std::string::npos) << "the summary goes to stderr: " << err();
    ASSERT_EQ(sh("'" + kDgcctl + "' expand " + at("piped.dgc") + " -o " + at("file.pcap") + " >/dev/null"), 0) << err();
    ASSERT_EQ(sh("cat " + at("piped.dgc") + " | '" + kDgcctl + "' expand - -o - >" + at("piped.pcap")), 0) << err();
    const std::string file = slurp(dir_ / "file.pcap");
    EXPECT_GT(file.size(), 24u);
    EXPECT_TRUE(file == slurp(dir_ / "piped.pcap")) << "expand to stdout gives the file's bytes";
    EXPECT_FALSE(fsys::exists(fsys::current_path() / "-")) << "no file named '-'";
}

TEST_F(CliIo, UnwritableOutputsFailBeforeAnyWork) {
    const std::string missing = (dir_ / "no-such-dir" / "x").string();
    struct Case {
        std::string cmd, what;
    };
    for (const auto& c : {Case{"compress '" + kTrace + "' -o '" + missing + ".dgc'", "compress"},
                          Case{"warmup '" + kTrace + "' -o '" + missing + ".model'", "warmup"},
                          Case{"expand '" + kTrace + "' -o '" + missing + ".pcap'", "expand"}}) {
        EXPECT_EQ(sh("'" + kDgcctl + "' " + c.cmd), 1) << c.cmd;
        EXPECT_NE(err().find("dgcctl " + c.what + ": " + missing), std::string::npos) << err();
        EXPECT_NE(err().find("No such file or directory"), std::string::npos) << err();
        EXPECT_EQ(err().find("chunk"), std::string::npos) << "failed before training: " << err();
    }
    EXPECT_EQ(sh("'" + kDgcctl + "' compress '" + kTrace + "' -o '" + dir_.string() + "'"), 1);
    EXPECT_NE(err().find(dir_.string() + ": is a directory"), std::string::npos) << err();
}

}  // namespace
