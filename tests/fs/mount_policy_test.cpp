// Invariant 2 through a real mount: raw TTL 0 frees raw once modelled and archive/ still
// reads; a hold (policy or xattr), a failed fidelity gate or an unmodelable capture keeps raw.
#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

uint64_t raw_dir_bytes(const fsys::path& store) {
    uint64_t total = 0;
    for (const auto& e : fsys::directory_iterator(store / "raw")) total += fsys::file_size(e.path());
    return total;
}

TEST(MountPolicy, RawTtlZeroExpiresRawAfterModellingAndArchiveStillReads) {
    MountedVolume v("[defaults]\nraw_ttl = 0\n[volume]\nsweep_interval = 1\n", "ttl0");
    v.start();
    v.cp_in("dev/NetShare__raw.pcap", "caida.pcap");
    ASSERT_TRUE(v.wait_archived("caida.pcap")) << v.daemon_log();
    ASSERT_TRUE(wait_until([&] { return !fsys::exists(v.retention() / "caida.pcap"); }, 20))
        << "raw copy still in retention/ after modelling with raw_ttl = 0";
    EXPECT_EQ(raw_dir_bytes(v.store()), 0u) << "raw segment not freed";
    EXPECT_EQ(v.xattr(v.archive() / "caida.pcap", "state"), "raw-expired");
    EXPECT_EQ(v.xattr(v.archive() / "caida.pcap", "raw_bytes"), "0");
    std::string err;
    EXPECT_EQ(pcap_count((v.archive() / "caida.pcap").string(), &err), 1000) << err;
    EXPECT_NE(v.daemon_log().find("expired raw of caida.pcap"), std::string::npos) << "expiry decision not logged";
}

TEST(MountPolicy, HoldAndFailedGateKeepRaw) {
    MountedVolume v(
        "[defaults]\nraw_ttl = 0\n[volume]\nsweep_interval = 1\n"
        "[[rule]]\npath = \"legal/*\"\nhold = true\n"
        "[[rule]]\npath = \"strict/*\"\nmax_jsd = 0.000001\n",
        "hold");
    v.start();
    for (const char* d : {"legal", "strict", "xattr"}) ASSERT_EQ(::mkdir((v.retention() / d).c_str(), 0755), 0);
    // The xattr hold is set while training runs, before raw could expire.
    v.cp_in("dev/dnscap__dns.pcap", "xattr/dns.pcap");
    ASSERT_TRUE(wait_until([&] { return !v.xattr(v.retention() / "xattr/dns.pcap", "packets").empty(); }, 20));
    ASSERT_EQ(::setxattr((v.retention() / "xattr/dns.pcap").c_str(), "user.dgcfs.hold", "1", 1, 0), 0);
    v.cp_in("dev/dnscap__dns.pcap", "legal/dns.pcap");
    v.cp_in("dev/dnscap__dns.pcap", "strict/dns.pcap");
    for (const char* p : {"legal/dns.pcap", "strict/dns.pcap", "xattr/dns.pcap"})
        ASSERT_TRUE(v.wait_archived(p)) << p << "\n" << v.daemon_log();
    std::this_thread::sleep_for(std::chrono::seconds(3));  // several sweeps
    const std::string original = slurp(data_path("dev/dnscap__dns.pcap"));
    for (const char* p : {"legal/dns.pcap", "strict/dns.pcap", "xattr/dns.pcap"}) {
        EXPECT_EQ(slurp(v.retention() / p), original) << p << " lost its raw bytes";
        EXPECT_EQ(v.xattr(v.retention() / p, "state"), "modelled") << p;
    }
    EXPECT_NE(v.xattr(v.retention() / "strict/dns.pcap", "raw_expires").find("fidelity gate"), std::string::npos);
    EXPECT_NE(v.xattr(v.retention() / "legal/dns.pcap", "raw_expires").find("hold"), std::string::npos);
    EXPECT_EQ(v.xattr(v.retention() / "xattr/dns.pcap", "hold"), "1");
    // A held file cannot be deleted either; releasing the hold lets the TTL apply.
    EXPECT_NE(::unlink((v.retention() / "xattr/dns.pcap").c_str()), 0);
    EXPECT_EQ(errno, EPERM);
    ASSERT_EQ(::setxattr((v.retention() / "xattr/dns.pcap").c_str(), "user.dgcfs.hold", "0", 1, 0), 0);
    EXPECT_TRUE(wait_until([&] { return !fsys::exists(v.retention() / "xattr/dns.pcap"); }, 20));
    EXPECT_TRUE(fsys::exists(v.archive() / "xattr/dns.pcap"));
}

TEST(MountPolicy, SighupReloadsThePolicy) {
    MountedVolume v("[volume]\nsweep_interval = 1\n", "hup");
    v.start();
    v.cp_in("dev/dnscap__dns.pcap", "dns.pcap");
    ASSERT_TRUE(v.wait_archived("dns.pcap")) << v.daemon_log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ASSERT_TRUE(fsys::exists(v.retention() / "dns.pcap")) << "no TTL configured yet: raw must stay";
    {
        std::ofstream pol(v.policy_path(), std::ios::app);
        pol << "[defaults]\nraw_ttl = 0\n";
    }
    v.signal(SIGHUP);
    EXPECT_TRUE(wait_until([&] { return !fsys::exists(v.retention() / "dns.pcap"); }, 20)) << v.daemon_log();
    EXPECT_TRUE(fsys::exists(v.archive() / "dns.pcap"));
}

}  // namespace
}  // namespace dgc::fs::test
