// dgcctl backup of a live store: taken while a capture is being copied in, the copy mounts
// elsewhere and reads every trace accepted before the backup began, byte for byte, in
// retention/ (raw kept) and archive/ (modelled, raw expired or not).
#include "tests/codec/codec_test_util.h"
#include "tests/fs/mounted_volume.h"
#include "tests/shell_quote.h"

#include <map>
#include <thread>

namespace dgc::fs::test {
namespace {

int run(const std::string& cmd, std::string* out) {
    auto r = dgc::test::run_command(cmd);
    *out = r.output;
    return r.exit_code;
}

using dgc::testing::shell_quote;
std::string dgcctl() { return std::string(DGC_BINARY_DIR) + "/tools/dgcctl"; }

TEST(Backup, ALiveStoreCopiedDuringIngestMountsAndReadsEveryEarlierTrace) {
    MountedVolume v("[volume]\nsweep_interval = 1\n[[rule]]\npath = \"expire/*\"\nraw_ttl = 0\n", "backup");
    v.start();
    fsys::create_directories(v.retention() / "keep");
    fsys::create_directories(v.retention() / "expire");
    v.cp_in("dev/dnscap__dns.pcap", "keep/dns.pcap");
    v.cp_in("dev/NetShare__raw.pcap", "expire/raw.pcap");
    ASSERT_TRUE(v.wait_archived("keep/dns.pcap")) << v.daemon_log();
    ASSERT_TRUE(v.wait_archived("expire/raw.pcap")) << v.daemon_log();
    ASSERT_TRUE(wait_until([&] { return !fsys::exists(v.retention() / "expire/raw.pcap"); }, 30)) << v.daemon_log();
    // Accepted (close() returned) but maybe not ingested or modelled yet when the backup starts.
    v.cp_in("dev/nDPI__teams.pcap", "keep/teams.pcap");

    const std::map<std::string, std::string> raw = {
        {"keep/dns.pcap", slurp(data_path("dev/dnscap__dns.pcap"))},
        {"keep/teams.pcap", slurp(data_path("dev/nDPI__teams.pcap"))},
    };
    const std::map<std::string, std::string> archived = {
        {"keep/dns.pcap", slurp(v.archive() / "keep/dns.pcap")},
        {"expire/raw.pcap", slurp(v.archive() / "expire/raw.pcap")},
    };

    // A capture streams in while the backup runs; the backup neither waits for it nor needs it.
    const std::string big = "dev/IoT-Dataset__lockly-hub-01.pcap";
    std::thread writer([&] { v.cp_in(big, "keep/big.pcap"); });
    MountedVolume copy("", "backupcopy");  // its store directory exists and is empty
    std::string out;
    const int code = run(dgcctl() + " backup " + shell_quote(v.store()) + " " + shell_quote(copy.store()), &out);
    writer.join();
    ASSERT_EQ(code, 0) << out;
    EXPECT_NE(out.find(" traces, catalog "), std::string::npos) << out;
    EXPECT_FALSE(fsys::exists(copy.store() / "catalog" / "lock.mdb"));

    copy.start();
    for (const auto& [rel, bytes] : raw) EXPECT_EQ(slurp(copy.retention() / rel), bytes) << rel;
    for (const auto& [rel, bytes] : archived) EXPECT_EQ(slurp(copy.archive() / rel), bytes) << rel;
    EXPECT_FALSE(fsys::exists(copy.retention() / "expire/raw.pcap")) << "raw expired before the backup came back";
    // The capture in flight is in the copy whole or not at all.
    if (fsys::exists(copy.retention() / "keep/big.pcap")) {
        EXPECT_EQ(slurp(copy.retention() / "keep/big.pcap"), slurp(data_path(big)));
    }
    copy.stop();
    v.stop();

    // Refusals: a directory that is not empty, a path that is no store.
    std::string busy;
    EXPECT_EQ(run(dgcctl() + " backup " + shell_quote(v.store()) + " " + shell_quote(copy.store()), &busy), 1);
    EXPECT_NE(busy.find(copy.store().string() + ": not empty"), std::string::npos) << busy;
    std::string nostore;
    EXPECT_EQ(run(dgcctl() + " backup " + shell_quote(copy.store().parent_path()) + " " + shell_quote(copy.store() / "x"), &nostore), 1);
    EXPECT_NE(nostore.find("neither a mounted dgcfs volume nor a store"), std::string::npos) << nostore;
}

}  // namespace
}  // namespace dgc::fs::test
