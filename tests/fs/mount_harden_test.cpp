// Hardening regressions (issue 15) through a real mount: metadata-only writers, readers
// that outlive raw expiry, odd names, holds, ownership and unusual writers.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

size_t count_of(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

size_t staging_files(const MountedVolume& v) {
    size_t n = 0;
    for (const auto& e : fsys::directory_iterator(v.store() / "staging")) (void)e, ++n;
    return n;
}

// Finding 4: touch (open for write, nothing written, then utimens) changes metadata only.
TEST(MountHarden, TouchOfAnAcceptedFileKeepsItsModelsAndArchiveBytes) {
    MountedVolume v("", "touch");
    v.start();
    v.cp_in("dev/dnscap__dns.pcap", "dns.pcap");
    ASSERT_TRUE(v.wait_archived("dns.pcap")) << v.daemon_log();
    const std::string archived = slurp(v.archive() / "dns.pcap");
    ASSERT_FALSE(archived.empty());
    struct stat before {};
    ASSERT_EQ(::stat((v.retention() / "dns.pcap").c_str(), &before), 0);

    ASSERT_EQ(sh("touch -d @1893553445 '" + (v.retention() / "dns.pcap").string() + "'"), 0);
    // And a plain open for writing, closed without a write (what `touch` does first).
    int fd = ::open((v.retention() / "dns.pcap").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::close(fd), 0);
    ASSERT_TRUE(wait_until([&] { return count_of(v.daemon_log(), "closed unchanged") >= 1 && staging_files(v) == 0; },
                           20))
        << v.daemon_log();
    std::this_thread::sleep_for(std::chrono::seconds(2));  // a re-ingest would have started by now

    EXPECT_EQ(count_of(v.daemon_log(), "accepted dns.pcap"), 1u) << "touch re-ingested the file:\n" << v.daemon_log();
    EXPECT_EQ(v.xattr(v.retention() / "dns.pcap", "state"), "modelled");
    ASSERT_TRUE(fsys::exists(v.archive() / "dns.pcap")) << "archive file vanished after touch";
    EXPECT_EQ(slurp(v.archive() / "dns.pcap"), archived) << "archive bytes changed after touch";
    EXPECT_EQ(slurp(v.retention() / "dns.pcap"), slurp(data_path("dev/dnscap__dns.pcap")));
    struct stat after {};
    ASSERT_EQ(::stat((v.retention() / "dns.pcap").c_str(), &after), 0);
    EXPECT_NE(after.st_mtime, before.st_mtime) << "touch -d did not set mtime";
    EXPECT_EQ(after.st_mtime, 1893553445) << "mtime is not the one touch -d asked for";

    // A real change still re-ingests.
    ASSERT_EQ(sh("cp '" + data_path("dev/NetShare__raw.pcap") + "' '" + (v.retention() / "dns.pcap").string() + "'"), 0);
    EXPECT_TRUE(wait_until([&] { return v.xattr(v.retention() / "dns.pcap", "packets") == "1000"; }, 30))
        << v.daemon_log();
}

// Finding 5: raw expiring under an open reader must not cut its stream short.
TEST(MountHarden, OpenRetentionReaderOutlivesRawExpiry) {
    MountedVolume v("[defaults]\nraw_ttl = 0\n[volume]\nsweep_interval = 1\n", "expiry-reader");
    v.start();
    const fsys::path p = v.retention() / "caida.pcap";
    v.cp_in("dev/NetShare__raw.pcap", "caida.pcap");
    // Held while it trains, so raw is still there when the reader opens it.
    ASSERT_TRUE(wait_until([&] { return !v.xattr(p, "packets").empty(); }, 20)) << v.daemon_log();
    ASSERT_EQ(::setxattr(p.c_str(), "user.dgcfs.hold", "1", 1, 0), 0);
    ASSERT_TRUE(v.wait_archived("caida.pcap")) << v.daemon_log();

    const std::string original = slurp(data_path("dev/NetShare__raw.pcap"));
    int fd = ::open(p.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    std::string got(original.size(), '\0');
    const size_t half = original.size() / 2;
    ASSERT_EQ(::pread(fd, got.data(), half, 0), static_cast<ssize_t>(half));

    ASSERT_EQ(::setxattr(p.c_str(), "user.dgcfs.hold", "0", 1, 0), 0);
    // Expiry is due now, and waits for the reader.
    const bool deferred = wait_until(
        [&] { return v.daemon_log().find("caida.pcap: raw expires once its open readers close it") != std::string::npos; },
        20);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the kernel's attribute cache
    struct stat st {};
    const int fstat_rc = ::fstat(fd, &st);
    size_t off = half;
    while (off < original.size()) {
        ssize_t n = ::pread(fd, got.data() + off, original.size() - off, static_cast<off_t>(off));
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    ::close(fd);  // before any assertion: an open file would keep the mount busy
    EXPECT_TRUE(deferred) << v.daemon_log();
    EXPECT_EQ(fstat_rc, 0) << std::strerror(errno);
    EXPECT_EQ(static_cast<size_t>(st.st_size), original.size());
    EXPECT_EQ(off, original.size()) << "read stopped early after raw became due to expire";
    EXPECT_EQ(got, original) << "bytes read across the expiry differ from the capture";
    // Once the reader is gone, raw expires.
    EXPECT_TRUE(wait_until([&] { return !fsys::exists(p); }, 20)) << "raw never expired\n" << v.daemon_log();
    EXPECT_TRUE(fsys::exists(v.archive() / "caida.pcap"));
}

// errno of creating `p` for writing (0 when it worked; the file is closed again).
int create_errno(const fsys::path& p) {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
}

// Finding 7: names are refused up front with the errno a local filesystem gives, never EIO,
// and nothing is left in staging.
TEST(MountHarden, OddNamesGetTheRightErrnoAndLeaveNothingInStaging) {
    MountedVolume v("", "names");
    v.start();
    EXPECT_EQ(create_errno(v.retention() / std::string(256, 'n')), ENAMETOOLONG);
    EXPECT_EQ(::mkdir((v.retention() / std::string(300, 'd')).c_str(), 0755), -1);
    EXPECT_EQ(errno, ENAMETOOLONG);
    EXPECT_NE(sh("cp '" + data_path("dev/dnscap__dns.pcap") + "' '" + (v.retention() / std::string(1000, 'c')).string() +
                 "' 2>/dev/null"),
              0)
        << "cp of a 1000-byte name reported success";
    EXPECT_EQ(create_errno(v.retention() / "bad\xFF\xFEname.pcap"), EILSEQ);

    // Depth: every level works until the path no longer fits a catalog key, then ENAMETOOLONG.
    fsys::path deep = v.retention();
    int depth = 0, err = 0;
    for (; depth < 400; ++depth) {
        deep /= "d";
        if (::mkdir(deep.c_str(), 0755) != 0) {
            err = errno;
            break;
        }
    }
    EXPECT_GT(depth, 101);
    EXPECT_EQ(err, ENAMETOOLONG) << "at depth " << depth << ": " << std::strerror(err);

    // A name of exactly NAME_MAX bytes and one with a newline work.
    const std::string longest(255, 'l');
    v.cp_in("dev/dnscap__dns.pcap", longest);
    v.cp_in("dev/dnscap__dns.pcap", "two\nlines.pcap");
    EXPECT_TRUE(wait_until([&] { return v.xattr(v.retention() / longest, "packets") == "133"; }, 20)) << v.daemon_log();
    EXPECT_TRUE(wait_until([&] { return v.xattr(v.retention() / "two\nlines.pcap", "packets") == "133"; }, 20));
    EXPECT_EQ(staging_files(v), 0u) << "a refused name left a staging file behind";
    const std::string log = v.daemon_log();
    EXPECT_NE(log.find("accepted two\\nlines.pcap"), std::string::npos) << "newline not escaped in the log";
    EXPECT_EQ(log.find("two\nlines"), std::string::npos) << "a raw newline from a file name reached the log";
    EXPECT_EQ(log.find("Input/output error"), std::string::npos);
}

// Finding 8: a hold is lifted only by an explicit `user.dgcfs.hold=0`, and a hold on a
// directory holds everything below it.
TEST(MountHarden, HoldsLiftOnlyExplicitlyAndCoverDirectorySubtrees) {
    MountedVolume v("[defaults]\nraw_ttl = 0\n[volume]\nsweep_interval = 1\n", "holds");
    v.start();
    ASSERT_EQ(::mkdir((v.retention() / "legal").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((v.retention() / "legal/sub").c_str(), 0755), 0);
    const fsys::path dir = v.retention() / "legal";
    ASSERT_EQ(::setxattr(dir.c_str(), "user.dgcfs.hold", "1", 1, 0), 0) << std::strerror(errno);
    EXPECT_EQ(v.xattr(dir, "hold"), "1");
    v.cp_in("dev/dnscap__dns.pcap", "legal/sub/dns.pcap");
    v.cp_in("dev/dnscap__dns.pcap", "own.pcap");
    const fsys::path own = v.retention() / "own.pcap";
    ASSERT_TRUE(wait_until([&] { return !v.xattr(own, "packets").empty(); }, 20)) << v.daemon_log();
    ASSERT_EQ(::setxattr(own.c_str(), "user.dgcfs.hold", "1", 1, 0), 0);
    EXPECT_EQ(::removexattr(own.c_str(), "user.dgcfs.hold"), -1) << "setfattr -x lifted a hold";
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(v.xattr(own, "hold"), "1");
    EXPECT_EQ(::removexattr(dir.c_str(), "user.dgcfs.hold"), -1);
    EXPECT_EQ(v.xattr(dir, "hold"), "1");

    const fsys::path held = v.retention() / "legal/sub/dns.pcap";
    for (const char* p : {"own.pcap", "legal/sub/dns.pcap"}) ASSERT_TRUE(v.wait_archived(p)) << p << v.daemon_log();
    std::this_thread::sleep_for(std::chrono::seconds(3));  // several sweeps with raw_ttl = 0
    const std::string original = slurp(data_path("dev/dnscap__dns.pcap"));
    EXPECT_EQ(slurp(held), original) << "raw under a held directory expired";
    EXPECT_EQ(slurp(own), original) << "raw of a held file expired";
    EXPECT_NE(v.xattr(held, "raw_expires").find("hold"), std::string::npos) << v.xattr(held, "raw_expires");
    EXPECT_EQ(::unlink(held.c_str()), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::rename(held.c_str(), (v.retention() / "moved.pcap").c_str()), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::open(held.c_str(), O_WRONLY | O_TRUNC), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::rmdir((v.retention() / "legal").c_str()), -1);

    // The explicit release, logged, lets the TTL apply.
    ASSERT_EQ(::setxattr(dir.c_str(), "user.dgcfs.hold", "0", 1, 0), 0);
    ASSERT_EQ(::setxattr(own.c_str(), "user.dgcfs.hold", "0", 1, 0), 0);
    EXPECT_TRUE(wait_until([&] { return !fsys::exists(held) && !fsys::exists(own); }, 20)) << v.daemon_log();
    EXPECT_TRUE(fsys::exists(v.archive() / "legal/sub/dns.pcap"));
    const std::string log = v.daemon_log();
    EXPECT_NE(log.find("legal/ (and below): legal hold released by uid 0"), std::string::npos) << log;
    EXPECT_NE(log.find("own.pcap: legal hold released by uid 0"), std::string::npos);
    EXPECT_NE(log.find("removing user.dgcfs.hold refused"), std::string::npos);
}

}  // namespace
}  // namespace dgc::fs::test
