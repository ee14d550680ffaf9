// dgcctl's capture commands follow tcpdump's conventions (issue 14): '-' is standard input
// or output, and an output that cannot be written fails at once, naming the path and the
// reason, before any training.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/codec/codec_test_util.h"

namespace {

using dgc::test::read_file;
using dgc::test::run_command;
using dgc::test::temp_dir;

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
const std::string kTrace = std::string(DGC_SHARED_DATA) + "/pcaps/dev/nDPI__gnutella.pcap";

std::string at(const char* name) { return "'" + temp_dir() + "/" + name + "'"; }
// The command's exit status and its standard error (its stdout is redirected by `cmd`).
dgc::test::CommandResult sh(const std::string& cmd) { return run_command("(" + cmd + ")"); }

TEST(CliIo, DashIsStandardInputAndOutput) {
    auto r = sh("cat '" + kTrace + "' | '" + kDgcctl + "' compress - -o - --steps 16 >" + at("piped.dgc"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("bytes/packet"), std::string::npos) << "the summary goes to stderr: " << r.output;
    r = sh("'" + kDgcctl + "' expand " + at("piped.dgc") + " -o " + at("file.pcap") + " >/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = sh("cat " + at("piped.dgc") + " | '" + kDgcctl + "' expand - -o - >" + at("piped.pcap"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string file = read_file(temp_dir() + "/file.pcap");
    EXPECT_GT(file.size(), 24u);
    EXPECT_TRUE(file == read_file(temp_dir() + "/piped.pcap")) << "expand to stdout gives the file's bytes";
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::current_path() / "-")) << "no file named '-'";
}

TEST(CliIo, UnwritableOutputsFailBeforeAnyWork) {
    const std::string missing = temp_dir() + "/no-such-dir/x";
    struct Case {
        std::string cmd, what;
    };
    for (const auto& c : {Case{"compress '" + kTrace + "' -o '" + missing + ".dgc'", "compress"},
                          Case{"warmup '" + kTrace + "' -o '" + missing + ".model'", "warmup"},
                          Case{"expand '" + kTrace + "' -o '" + missing + ".pcap'", "expand"}}) {
        const auto r = sh("'" + kDgcctl + "' " + c.cmd);
        EXPECT_EQ(r.exit_code, 1) << c.cmd;
        EXPECT_NE(r.output.find("dgcctl " + c.what + ": " + missing), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("No such file or directory"), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("chunk"), std::string::npos) << "failed before training: " << r.output;
    }
    const auto r = sh("'" + kDgcctl + "' compress '" + kTrace + "' -o '" + temp_dir() + "'");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find(temp_dir() + ": is a directory"), std::string::npos) << r.output;
}

}  // namespace
