// Progress of long dgcctl commands (issue 14): on a terminal one line redrawn in place, into
// a pipe or file plain lines every few seconds and never a terminal control code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>

#include "progress.h"
#include "tests/codec/codec_test_util.h"

namespace {

using dgc::test::read_file;
using dgc::test::run_command;
using dgc::test::temp_dir;
using dgc::tools::plain_line_due;
using dgc::tools::progress_text;

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
const std::string kTrace = std::string(DGC_SHARED_DATA) + "/pcaps/dev/nDPI__gnutella.pcap";

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
    return n;
}

TEST(ProgressText, PercentDetailElapsedAndEtaAtThePaceSoFar) {
    EXPECT_EQ(progress_text("compress", 0.25, 10, "chunk 1/4"), "compress   25.0%  chunk 1/4  elapsed 10s  ETA 30s");
    EXPECT_EQ(progress_text("warmup", 0.5, 3700, ""), "warmup   50.0%  elapsed 1h01m  ETA 1h01m");
    EXPECT_EQ(progress_text("scrub", 0.9, 90, "x"), "scrub   90.0%  x  elapsed 1m30s  ETA 10s");
    // No pace yet, done, or unknown: no ETA.
    EXPECT_EQ(progress_text("expand", 0, 2, ""), "expand    0.0%  elapsed 2s");
    EXPECT_EQ(progress_text("expand", 1, 2, ""), "expand  100.0%  elapsed 2s");
    EXPECT_EQ(progress_text("expand", 1.5, 2, ""), "expand  100.0%  elapsed 2s");
    EXPECT_EQ(progress_text("bench-fs", -1, 75, "waiting"), "bench-fs  waiting  elapsed 1m15s");
}

TEST(ProgressText, PlainLinesAfterTheFirstSecondThenEveryFewSeconds) {
    EXPECT_FALSE(plain_line_due(0.5, -1));
    EXPECT_TRUE(plain_line_due(dgc::tools::kPlainFirst, -1));
    EXPECT_FALSE(plain_line_due(3.0, 1.0));
    EXPECT_TRUE(plain_line_due(1.0 + dgc::tools::kPlainEvery, 1.0));
}

TEST(Progress, IntoAFileNoControlCodesAndAtMostOneLinePerInterval) {
    const std::string path = temp_dir() + "/progress.txt";
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    {
        dgc::tools::Progress p("test", f);
        p.update(0.1, "early");  // within the first second: nothing
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        for (int i = 0; i < 1000; ++i) p.update(0.5, "step");
        p.note("a line that stays");
    }
    std::fclose(f);
    const std::string s = read_file(path);
    EXPECT_EQ(s.find('\x1b'), std::string::npos) << s;
    EXPECT_EQ(s.find('\r'), std::string::npos) << s;
    EXPECT_EQ(s.find("early"), std::string::npos) << s;
    EXPECT_EQ(count(s, "test   50.0%  step  elapsed 1s  ETA 1s\n"), 1u) << s;
    EXPECT_NE(s.find("a line that stays\n"), std::string::npos) << s;
}

// A warm-up that runs several seconds, its stderr into a file: plain progress lines.
TEST(CommandProgress, WarmupIntoAPipeShowsPlainLines) {
    const auto r = run_command("'" + kDgcctl + "' warmup '" + kTrace + "' -o '" + temp_dir() +
                               "/plain.model' --steps 300 2>&1 >/dev/null | cat");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find('\r'), std::string::npos) << r.output;
    EXPECT_GE(count(r.output, "warmup  "), 1u) << r.output;
    EXPECT_NE(r.output.find("step "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("/300  elapsed "), std::string::npos) << r.output;
}

// The same on a terminal (script(1) gives it one): the line is redrawn in place.
TEST(CommandProgress, WarmupOnATerminalRedrawsOneLine) {
    ASSERT_TRUE(dgc::test::have_tool("script")) << "script(1) (util-linux) is needed to give dgcctl a terminal";
    const std::string log = temp_dir() + "/tty.log";
    const auto r = run_command("script -qec \"'" + kDgcctl + "' warmup '" + kTrace + "' -o '" + temp_dir() +
                               "/tty.model' --steps 300 >/dev/null\" '" + log + "' </dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string s = read_file(log);
    EXPECT_GE(count(s, "\rwarmup  "), 2u) << "redrawn several times:\n" << s;
    EXPECT_NE(s.find("\x1b[K"), std::string::npos) << "each redraw erases the rest of the old line";
}

}  // namespace
