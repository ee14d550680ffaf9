// cp in, exact bytes back from retention/, a valid and deterministic archive/ copy
// (invariant 3), and the everyday POSIX operations in retention/.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <random>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

std::string pread_all(const fsys::path& p, uint64_t off, size_t len) {
    int fd = ::open(p.c_str(), O_RDONLY);
    std::string out(len, '\0');
    size_t got = 0;
    while (got < len) {
        ssize_t n = ::pread(fd, out.data() + got, len - got, static_cast<off_t>(off + got));
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
}

TEST(Mount, CopyInThenRetentionIsExactAndArchiveIsValidAndDeterministic) {
    MountedVolume v("", "basic");
    v.start();
    const std::string name = "dnscap__dns.pcap";
    ASSERT_EQ(sh("mkdir -p '" + (v.retention() / "site-a").string() + "'"), 0);
    v.cp_in("dev/" + name, "site-a/" + name);
    const std::string original = slurp(data_path("dev/" + name));
    EXPECT_EQ(slurp(v.retention() / "site-a" / name), original) << "retention/ copy differs right after close";

    ASSERT_TRUE(v.wait_archived("site-a/" + name)) << v.daemon_log();
    const fsys::path arch = v.archive() / "site-a" / name;
    EXPECT_EQ(slurp(v.retention() / "site-a" / name), original) << "retention/ copy differs when read from the raw segment";
    EXPECT_EQ(v.xattr(v.retention() / "site-a" / name, "state"), "modelled");
    EXPECT_EQ(v.xattr(arch, "packets"), "133");
    EXPECT_FALSE(v.xattr(arch, "fidelity").empty());
    EXPECT_NE(v.xattr(arch, "model_bytes"), "0");

    // Readable by libpcap and tcpdump, with the real packet count.
    std::string err;
    EXPECT_EQ(pcap_count(arch.string(), &err), 133) << err;
    EXPECT_EQ(sh("tcpdump -r '" + arch.string() + "' -w /dev/null 2>/dev/null"), 0);

    // st_size exact, same bytes twice, random offsets agree with the sequential read.
    const std::string first = slurp(arch);
    EXPECT_EQ(static_cast<uint64_t>(fsys::file_size(arch)), first.size());
    EXPECT_EQ(slurp(arch), first);
    std::mt19937 rng(11);
    for (int i = 0; i < 300; ++i) {
        uint64_t off = rng() % first.size();
        size_t len = 1 + rng() % 5000;
        ASSERT_EQ(pread_all(arch, off, len), first.substr(off, len)) << "offset " << off << " length " << len;
    }

    v.stop();
    v.start();
    EXPECT_EQ(slurp(arch), first) << "archive bytes changed across a remount";
    EXPECT_EQ(slurp(v.retention() / "site-a" / name), original);
}

TEST(Mount, PosixOperationsInRetention) {
    MountedVolume v("", "posix");
    v.start();
    const fsys::path r = v.retention();
    // mkdir / rmdir
    ASSERT_EQ(::mkdir((r / "d1").c_str(), 0750), 0);
    ASSERT_EQ(::mkdir((r / "d1" / "d2").c_str(), 0755), 0);
    EXPECT_NE(::mkdir((r / "nope" / "d3").c_str(), 0755), 0);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_NE(::rmdir((r / "d1").c_str()), 0);
    EXPECT_EQ(errno, ENOTEMPTY);
    EXPECT_EQ(::rmdir((r / "d1" / "d2").c_str()), 0);
    struct stat st {};
    ASSERT_EQ(::stat((r / "d1").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0750u);

    // dd with random-offset writes: a sparse file filled out of order.
    const fsys::path f = r / "d1" / "dd.bin";
    ASSERT_EQ(sh("dd if=/dev/urandom of='" + (r / ".." / ".." / "src.bin").string() + "' bs=64k count=8 2>/dev/null"), 0);
    const std::string src = slurp(v.mnt() / ".." / "src.bin");
    for (int blk : {5, 1, 7, 0, 3, 6, 2, 4})
        ASSERT_EQ(sh("dd if='" + (v.mnt() / ".." / "src.bin").string() + "' of='" + f.string() +
                     "' bs=64k count=1 skip=" + std::to_string(blk) + " seek=" + std::to_string(blk) +
                     " conv=notrunc 2>/dev/null"),
                  0);
    EXPECT_EQ(slurp(f), src);

    // truncate, chmod, utimens, rename, unlink; statfs answers.
    ASSERT_EQ(::truncate(f.c_str(), 1000), 0);
    EXPECT_EQ(fsys::file_size(f), 1000u);
    ASSERT_EQ(::chmod(f.c_str(), 0600), 0);
    struct timespec ts[2] = {{1000000000, 0}, {1200000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), ts, 0), 0);
    ASSERT_TRUE(wait_until([&] { return v.xattr(f, "state").rfind("unmodelable: ", 0) == 0; }, 20))
        << "the dd file (not a capture) should be accepted as unmodelable";
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
    EXPECT_EQ(st.st_size, 1000);
    ASSERT_EQ(::rename(f.c_str(), (r / "moved.bin").c_str()), 0);
    EXPECT_FALSE(fsys::exists(f));
    EXPECT_EQ(slurp(r / "moved.bin"), src.substr(0, 1000));
    // Rewriting an accepted file in place replaces it on the next ingest.
    {
        int fd = ::open((r / "moved.bin").c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::pwrite(fd, "XY", 2, 10), 2);
        ::close(fd);
    }
    std::string expect = src.substr(0, 1000);
    expect.replace(10, 2, "XY");
    EXPECT_EQ(slurp(r / "moved.bin"), expect);
    struct statvfs sv {};
    EXPECT_EQ(::statvfs(r.c_str(), &sv), 0);
    EXPECT_GT(sv.f_blocks, 0u);
    ASSERT_EQ(::unlink((r / "moved.bin").c_str()), 0);
    EXPECT_FALSE(fsys::exists(r / "moved.bin"));
    // archive/ is read-only.
    EXPECT_NE(::mkdir((v.archive() / "x").c_str(), 0755), 0);
    EXPECT_EQ(errno, EROFS);
    fsys::remove(v.mnt() / ".." / "src.bin");
}

}  // namespace
}  // namespace dgc::fs::test
