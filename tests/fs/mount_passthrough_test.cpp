// Kernel passthrough of staging files: writes skip the daemon where the kernel offers it,
// and the file behaves the same either way (bytes, mtime, readers during a write, a
// writer while a raw reader is open).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

// FUSE passthrough arrived in Linux 6.9 (and needs root for its backing-file ioctl).
bool kernel_offers_passthrough() {
    struct utsname u {};
    if (::uname(&u) != 0) return false;
    int major = 0, minor = 0;
    if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return (major > 6 || (major == 6 && minor >= 9)) && ::geteuid() == 0 &&
           sh("zcat /proc/config.gz 2>/dev/null | grep -q '^CONFIG_FUSE_PASSTHROUGH=y'") == 0;
}

int64_t mtime_s(const fsys::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtim.tv_sec) : -1;
}

void exercise(MountedVolume& v) {
    const std::string src = data_path("dev/dnscap__dns.pcap");
    const std::string data = slurp(src);
    // cp -p: bytes written, then the old mtime set on the open file.
    ASSERT_EQ(sh("cp -p '" + src + "' '" + (v.retention() / "kept.pcap").string() + "'"), 0);
    EXPECT_EQ(slurp(v.retention() / "kept.pcap"), data);
    EXPECT_EQ(mtime_s(v.retention() / "kept.pcap"), mtime_s(src)) << "cp -p lost the mtime while staging";

    // A reader while the writer still has the file open sees what was written so far.
    const fsys::path live = v.retention() / "live.pcap";
    int w = ::open(live.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(w, 0);
    ASSERT_EQ(::write(w, data.data(), 4096), 4096);
    EXPECT_EQ(slurp(live), data.substr(0, 4096));
    ASSERT_EQ(::write(w, data.data() + 4096, data.size() - 4096), static_cast<ssize_t>(data.size() - 4096));
    EXPECT_EQ(slurp(live), data);
    ASSERT_EQ(::close(w), 0);
    ASSERT_TRUE(wait_until([&] { return v.xattr(live, "packets") == "133"; }, 30)) << v.daemon_log();
    EXPECT_EQ(mtime_s(v.retention() / "kept.pcap"), mtime_s(src)) << "ingest lost the cp -p mtime";

    // Overwriting an accepted file while a reader holds its raw bytes open, after a rename.
    int r = ::open(live.c_str(), O_RDONLY);
    ASSERT_GE(r, 0);
    char head[24];
    ASSERT_EQ(::read(r, head, sizeof head), static_cast<ssize_t>(sizeof head));
    const fsys::path moved = v.retention() / "moved.pcap";
    ASSERT_EQ(::rename(live.c_str(), moved.c_str()), 0);
    const std::string other = slurp(data_path("dev/PcapPlusPlus__example.pcap"));
    ASSERT_EQ(sh("cp '" + data_path("dev/PcapPlusPlus__example.pcap") + "' '" + moved.string() + "'"), 0);
    EXPECT_EQ(slurp(moved), other);
    ::close(r);
}

TEST(MountPassthrough, WritesSkipTheDaemonWhereOfferedAndFilesBehaveTheSame) {
    MountedVolume v("", "passthrough");
    v.start();
    exercise(v);
    const bool on = v.daemon_log().find("kernel passthrough: on") != std::string::npos;
    EXPECT_EQ(on, kernel_offers_passthrough()) << v.daemon_log();
}

TEST(MountPassthrough, NoPassthroughFlagSendsWritesThroughTheDaemon) {
    MountedVolume v("", "nopassthrough");
    v.start({"--no-passthrough"});
    exercise(v);
    EXPECT_EQ(v.daemon_log().find("kernel passthrough: on"), std::string::npos);
}

}  // namespace
}  // namespace dgc::fs::test
