// Invariant 1: kill -9 during ingest and during training; after a remount every closed
// file is raw-readable or archived, jobs resume, and an unclosed file is intact or absent.
#include <fcntl.h>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

TEST(MountCrash, KillDuringIngestLosesNothingClosed) {
    MountedVolume v("", "crash-ingest");
    v.start();
    const std::string a = slurp(data_path("dev/nDPI__teams.pcap"));
    v.cp_in("dev/nDPI__teams.pcap", "teams.pcap");  // close() returned: accepted
    // A writer that has not closed: half a file, still open when the daemon dies.
    const fsys::path open_path = v.retention() / "unclosed.pcap";
    int fd = ::open(open_path.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, a.data(), 5000), 5000);
    v.kill9();  // inside the quiet period or the ingest itself
    ::close(fd);

    v.start();
    EXPECT_EQ(slurp(v.retention() / "teams.pcap"), a) << "closed file lost or changed by the crash";
    EXPECT_FALSE(fsys::exists(open_path)) << "an unclosed file must be absent (or intact), never half-accepted";
    ASSERT_TRUE(v.wait_archived("teams.pcap", 120)) << v.daemon_log();
    std::string err;
    EXPECT_GT(pcap_count((v.archive() / "teams.pcap").string(), &err), 0) << err;
}

TEST(MountCrash, KillDuringTrainingResumesTheJobs) {
    MountedVolume v("", "crash-train");
    v.start();
    const std::string a = slurp(data_path("dev/NetShare__raw.pcap"));
    v.cp_in("dev/NetShare__raw.pcap", "caida.pcap");
    v.cp_in("dev/dnscap__dns.pcap", "dns.pcap");
    ASSERT_TRUE(wait_until([&] { return v.xattr(v.retention() / "caida.pcap", "state").rfind("training", 0) == 0; }, 30))
        << v.daemon_log();
    v.kill9();
    v.start();
    EXPECT_EQ(slurp(v.retention() / "caida.pcap"), a);
    EXPECT_EQ(slurp(v.retention() / "dns.pcap"), slurp(data_path("dev/dnscap__dns.pcap")));
    EXPECT_NE(v.daemon_log().find("jobs resume"), std::string::npos);
    ASSERT_TRUE(v.wait_archived("caida.pcap", 120)) << v.daemon_log();
    ASSERT_TRUE(v.wait_archived("dns.pcap", 120)) << v.daemon_log();
    std::string err;
    EXPECT_EQ(pcap_count((v.archive() / "caida.pcap").string(), &err), 1000) << err;
    EXPECT_EQ(pcap_count((v.archive() / "dns.pcap").string(), &err), 133) << err;
}

}  // namespace
}  // namespace dgc::fs::test
