// Hardening regressions (issue 15) through a real mount: metadata-only writers, readers
// that outlive raw expiry, odd names, holds, ownership and unusual writers.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "fs/catalog.h"
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
    // Training's scratch copy of a trace passes through staging too (unlinked once open):
    // what a refused name left would stay.
    EXPECT_TRUE(wait_until([&] { return staging_files(v) == 0; }, 20)) << "a refused name left a staging file behind";
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

// Runs `cmd` through sh as `uid`; returns its exit status (0 = success).
int sh_as(uid_t uid, gid_t gid, const std::string& cmd) {
    return sh("setpriv --reuid=" + std::to_string(uid) + " --regid=" + std::to_string(gid) + " --clear-groups -- sh -c '" +
              cmd + "' 2>/dev/null");
}

// Finding 6: with allow_other, ownership and modes are the retention files' own, in both
// views, and a user owns (chmod, delete) what they create. Needs root for a second user.
TEST(MountHarden, OwnersAndModesIsolateUsersUnderAllowOther) {
    if (::geteuid() != 0) GTEST_SKIP() << "SKIPPED LOUDLY: needs root to act as a second user (nobody) and allow_other";
    const uid_t other = 65534;  // nobody
    const gid_t other_gid = 65534;
    MountedVolume v("", "owners");
    v.start({"-o", "allow_other"});
    const std::string src = data_path("dev/dnscap__dns.pcap");

    // root's private capture: 0600 in retention/, 0400 in archive/, unreadable by the other user.
    v.cp_in("dev/dnscap__dns.pcap", "secret.pcap");
    ASSERT_EQ(::chmod((v.retention() / "secret.pcap").c_str(), 0600), 0);
    ASSERT_TRUE(v.wait_archived("secret.pcap")) << v.daemon_log();
    struct stat st {};
    ASSERT_EQ(::stat((v.archive() / "secret.pcap").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0400u);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_NE(sh_as(other, other_gid, "cat " + (v.archive() / "secret.pcap").string() + " >/dev/null"), 0)
        << "another user read the regenerated copy of a 0600 capture";
    EXPECT_NE(sh_as(other, other_gid, "cat " + (v.retention() / "secret.pcap").string() + " >/dev/null"), 0);

    // A directory root hands to the user; what the user creates there is theirs.
    const fsys::path home = v.retention() / "home";
    ASSERT_EQ(::mkdir(home.c_str(), 0755), 0);
    ASSERT_EQ(::chown(home.c_str(), other, other_gid), 0) << std::strerror(errno);
    ASSERT_EQ(::stat(home.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, other);
    const fsys::path mine = home / "mine.pcap";
    ASSERT_EQ(sh_as(other, other_gid, "cp " + src + " " + mine.string()), 0) << "the user could not write in their directory";
    ASSERT_EQ(::stat(mine.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, other) << "a user's file is owned by uid " << st.st_uid;
    EXPECT_EQ(st.st_gid, other_gid);
    ASSERT_TRUE(wait_until([&] { return v.xattr(mine, "packets") == "133"; }, 20)) << v.daemon_log();
    ASSERT_EQ(::stat(mine.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, other) << "ownership lost at acceptance";
    EXPECT_EQ(sh_as(other, other_gid, "chmod 600 " + mine.string()), 0) << "the owner could not chmod";
    ASSERT_EQ(::stat(mine.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);

    // Holds: the user may not lift root's hold; the owner may lift their own.
    v.cp_in("dev/dnscap__dns.pcap", "home/roots.pcap");
    ASSERT_TRUE(wait_until([&] { return !v.xattr(home / "roots.pcap", "packets").empty(); }, 20));
    ASSERT_EQ(::chmod((home / "roots.pcap").c_str(), 0666), 0);
    ASSERT_EQ(::setxattr((home / "roots.pcap").c_str(), "user.dgcfs.hold", "1", 1, 0), 0);
    EXPECT_NE(sh_as(other, other_gid, "setfattr -n user.dgcfs.hold -v 0 " + (home / "roots.pcap").string()), 0)
        << "a user lifted root's hold";
    EXPECT_EQ(v.xattr(home / "roots.pcap", "hold"), "1");
    EXPECT_EQ(sh_as(other, other_gid, "setfattr -n user.dgcfs.hold -v 1 " + mine.string()), 0);
    EXPECT_EQ(sh_as(other, other_gid, "setfattr -n user.dgcfs.hold -v 0 " + mine.string()), 0);
    EXPECT_EQ(sh_as(other, other_gid, "rm " + mine.string()), 0) << "the owner could not delete their file";
    EXPECT_FALSE(fsys::exists(mine));

    // The status file names captures: the daemon's user only.
    ASSERT_TRUE(wait_until([&] { return fsys::exists(v.store() / "status.json"); }, 5));
    ASSERT_EQ(::stat((v.store() / "status.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0u) << "status.json is readable by others";
}

// Finding 9: writers that chown their output (tcpdump -w as root hands it to its own user)
// or write with O_DIRECT (an unaligned last block) produce the whole file.
TEST(MountHarden, TcpdumpAsRootAndDirectIoWritersWork) {
    MountedVolume v("", "writers9");
    v.start();
    const std::string src = data_path("dev/dnscap__dns.pcap");  // 20228 bytes: not a multiple of 4096
    const std::string original = slurp(src);
    ASSERT_NE(original.size() % 4096, 0u);

    const fsys::path dumped = v.retention() / "tcpdump.pcap";
    EXPECT_EQ(sh("tcpdump -r '" + src + "' -w '" + dumped.string() + "' 2>/dev/null"), 0)
        << "tcpdump -w into retention/ failed:\n" << v.daemon_log();
    const fsys::path direct = v.retention() / "direct.pcap";
    EXPECT_EQ(sh("dd if='" + src + "' of='" + direct.string() + "' bs=4096 oflag=direct status=none"), 0)
        << "dd oflag=direct failed";
    if (::geteuid() == 0) {
        // And root may give a file to another owner, or to the same one.
        const fsys::path given = v.retention() / "given.pcap";
        v.cp_in("dev/dnscap__dns.pcap", "given.pcap");
        EXPECT_EQ(::chown(given.c_str(), 0, 0), 0) << std::strerror(errno);
        EXPECT_EQ(::chown(given.c_str(), 65534, 65534), 0) << std::strerror(errno);
        struct stat st {};
        ASSERT_EQ(::stat(given.c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 65534u);
    } else {
        std::cerr << "NOTE: not root, the chown-to-another-owner check is SKIPPED\n";
    }
    for (const auto& p : {dumped, direct}) {
        EXPECT_TRUE(wait_until([&] { return v.xattr(p, "packets") == "133"; }, 20)) << p << "\n" << v.daemon_log();
        EXPECT_EQ(slurp(p), original) << p << " differs from what was written";
    }
}

// Finding 2: "modelled" means "regenerates". A trace whose model this build cannot decode
// keeps its raw data although the policy would expire it, and says why.
TEST(MountHarden, RawOfATraceThatDoesNotRegenerateNeverExpires) {
    MountedVolume v("[defaults]\nraw_ttl = 0\n[volume]\nsweep_interval = 1\n", "regen");
    v.start();
    const fsys::path p = v.retention() / "dns.pcap";
    v.cp_in("dev/dnscap__dns.pcap", "dns.pcap");
    ASSERT_TRUE(wait_until([&] { return !v.xattr(p, "packets").empty(); }, 20)) << v.daemon_log();
    ASSERT_EQ(::setxattr(p.c_str(), "user.dgcfs.hold", "1", 1, 0), 0);
    ASSERT_TRUE(v.wait_archived("dns.pcap")) << v.daemon_log();
    v.stop();
    {
        // What an incompatible build would meet: the committed model no longer decodes.
        auto cat = Catalog::open((v.store() / "catalog").string(), false);
        ASSERT_TRUE(cat) << cat.status().message();
        auto t = (*cat)->trace_at("dns.pcap");
        ASSERT_TRUE(t && t->has_value());
        auto st = (*cat)->env().write(
            [&](Txn& x) { x.put(db::kModels, chunk_key((*t)->id, 0), std::string("not a model blob at all")); });
        ASSERT_TRUE(st) << st.message();
    }
    v.start();
    ASSERT_EQ(::setxattr(p.c_str(), "user.dgcfs.hold", "0", 1, 0), 0);
    EXPECT_TRUE(wait_until([&] { return v.daemon_log().find("do not regenerate with this build") != std::string::npos; },
                           20))
        << v.daemon_log();
    std::this_thread::sleep_for(std::chrono::seconds(3));  // several sweeps with raw_ttl = 0
    EXPECT_EQ(slurp(p), slurp(data_path("dev/dnscap__dns.pcap"))) << "raw expired although nothing regenerates it";
    EXPECT_EQ(v.xattr(p, "state").rfind("does not regenerate", 0), 0u) << v.xattr(p, "state");
    EXPECT_NE(v.xattr(p, "raw_expires").find("do not regenerate"), std::string::npos) << v.xattr(p, "raw_expires");
}

}  // namespace
}  // namespace dgc::fs::test
