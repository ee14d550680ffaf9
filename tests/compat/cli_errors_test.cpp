// The error paths of issue 14 that the daemon, status, report and I/O tests do not already
// pin (tests/fs/daemon_test.cpp, tests/compat/cli_io_test.cpp, tests/fidelity/report_cli_test.cpp,
// tests/fs/cli_json_test.cpp): every dgcctl command's usage errors exit 2 naming what is
// wrong, failures exit 1 naming the file and the reason, global options work after the
// command, and eval/info read standard input for '-'.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/codec/codec_test_util.h"

namespace {

using dgc::test::run_command;
using dgc::test::temp_dir;
using dgc::test::write_temp;

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
const std::string kTrace = std::string(DGC_SHARED_DATA) + "/pcaps/dev/nDPI__gnutella.pcap";

struct Case {
    std::string args;     // after "dgcctl "
    int exit_code;
    std::string message;  // a substring of standard error
};

// Standard error only (standard output is dropped), and the exit status.
dgc::test::CommandResult dgcctl_stderr(const std::string& args) {
    return run_command("('" + kDgcctl + "' " + args + " 2>&1 >/dev/null)");
}

TEST(CliErrors, UsageErrorsExitTwoAndFailuresOneWithTheReason) {
    const std::string notcap = write_temp("notes.txt", "not a capture\n");
    const std::string t = "'" + kTrace + "'";
    const std::vector<Case> cases = {
        // Usage (2): a missing argument or option, an unknown or malformed one, in every command.
        {"info", 2, "FILE is required"},
        {"info " + t + " --no-such-option", 2, "--no-such-option"},
        {"compress " + t, 2, "--output is required"},
        {"compress /nonexistent/in.pcap -o x.dgc", 2, "/nonexistent/in.pcap"},
        {"compress " + t + " -o x.dgc --device tpu", 2, "--device"},
        {"compress " + t + " -o x.dgc --steps -3", 2, "--steps"},
        {"expand", 2, "IN is required"},
        {"expand " + t, 2, "--output is required"},
        {"warmup " + t, 2, "--output is required"},
        {"eval", 2, "REAL is required"},
        {"eval /nonexistent/real.pcap", 2, "/nonexistent/real.pcap"},
        {"eval - -", 2, "only one of REAL and SYNTH can be '-'"},
        {"status", 2, "TARGET is required"},
        {"status /tmp --interval 0", 2, "--interval"},
        {"expire", 2, "TARGET is required"},
        {"expire /tmp", 2, "only --dry-run is supported"},
        {"scrub", 2, "TARGET is required"},
        {"export /tmp", 2, "TRACE is required"},
        {"import /tmp", 2, "FILE is required"},
        {"backup /tmp", 2, "DIR is required"},
        {"bench-parse", 2, "PATH is required"},
        // Global options are global: accepted after the command, and checked there too.
        {"info " + t + " --log-level loud", 2, "--log-level"},
        // Failures (1): the file and the reason.
        {"info " + t + " --log-level debug '" + notcap + "'", 1, "dgcctl info: " + notcap + ": "},
        {"expand '" + notcap + "' -o '" + temp_dir() + "/x.pcap'", 1, "dgcctl expand: " + notcap + ": "},
        {"eval '" + notcap + "'", 1, "dgcctl eval: " + notcap + ": "},
        {"warmup '" + notcap + "' -o '" + temp_dir() + "/x.model'", 1, "dgcctl warmup: " + notcap + ": "},
        {"export /tmp 1 -o '" + temp_dir() + "/x.dgc'", 1, "dgcctl export: /tmp: neither a mounted dgcfs volume nor a store"},
        {"scrub /tmp", 1, "/tmp: neither a mounted dgcfs volume nor a store"},
        {"expire /tmp --dry-run", 1, "dgcctl expire: /tmp: neither a mounted dgcfs volume nor a store"},
        {"backup /tmp '" + temp_dir() + "/copy'", 1, "dgcctl backup: /tmp: "},
        {"import /tmp '" + notcap + "'", 1, "dgcctl import: /tmp: "},
    };
    for (const auto& c : cases) {
        const auto r = dgcctl_stderr(c.args);
        EXPECT_EQ(r.exit_code, c.exit_code) << "dgcctl " << c.args << "\n" << r.output;
        EXPECT_NE(r.output.find(c.message), std::string::npos)
            << "dgcctl " << c.args << "\nexpected on stderr: " << c.message << "\ngot: " << r.output;
    }
}

// '-' is standard input for eval (REAL or SYNTH) and info, and gives what the file gives.
TEST(CliErrors, EvalAndInfoReadStandardInput) {
    const std::string synth = std::string(DGC_SHARED_DATA) + "/pcaps/dev/USTC-TFC2016__Tinba.pcap";
    const auto file = run_command("'" + kDgcctl + "' eval --json '" + kTrace + "' '" + synth + "' 2>/dev/null");
    ASSERT_EQ(file.exit_code, 0) << file.output;
    ASSERT_NE(file.output.find("\"verdict\""), std::string::npos) << file.output;
    const auto real_piped =
        run_command("cat '" + kTrace + "' | '" + kDgcctl + "' eval --json - '" + synth + "' 2>/dev/null");
    EXPECT_EQ(real_piped.exit_code, 0);
    EXPECT_EQ(real_piped.output, file.output) << "REAL from standard input";
    const auto synth_piped =
        run_command("'" + kDgcctl + "' eval --json '" + kTrace + "' - <'" + synth + "' 2>/dev/null");
    EXPECT_EQ(synth_piped.exit_code, 0);
    EXPECT_EQ(synth_piped.output, file.output) << "SYNTH from standard input";

    const auto info = run_command("cat '" + kTrace + "' | '" + kDgcctl + "' info - 2>/dev/null");
    EXPECT_EQ(info.exit_code, 0) << info.output;
    EXPECT_NE(info.output.find("packets:     3905 "), std::string::npos) << info.output;
}

}  // namespace
