// Writer patterns from real tools: concurrent cp while reading archive/, rsync's
// temp-file-and-rename, and a long-open writer (tcpdump -w) that pauses between writes.
#include <fcntl.h>

#include <atomic>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

TEST(MountWriters, FourConcurrentCopiesWhileReadingArchive) {
    MountedVolume v("", "concurrent");
    v.start();
    v.cp_in("dev/dnscap__dns.pcap", "first.pcap");
    ASSERT_TRUE(v.wait_archived("first.pcap")) << v.daemon_log();
    const std::string reference = slurp(v.archive() / "first.pcap");

    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, mismatches{0};
    std::thread reader([&] {
        while (!done) {
            if (slurp(v.archive() / "first.pcap") != reference) ++mismatches;
            ++reads;
        }
    });
    const std::vector<std::string> files = {"nDPI__teams.pcap", "nDPI__wechat.pcap", "NetShare__raw.pcap",
                                            "nDPI__reddit.pcap"};
    std::vector<std::thread> writers;
    std::vector<int> rc(files.size(), -1);
    for (size_t i = 0; i < files.size(); ++i)
        writers.emplace_back([&, i] {
            rc[i] = sh("cp '" + data_path("dev/" + files[i]) + "' '" + (v.retention() / files[i]).string() + "'");
        });
    for (auto& w : writers) w.join();
    done = true;
    reader.join();
    for (size_t i = 0; i < files.size(); ++i) {
        EXPECT_EQ(rc[i], 0) << files[i];
        EXPECT_EQ(slurp(v.retention() / files[i]), slurp(data_path("dev/" + files[i]))) << files[i];
    }
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(mismatches.load(), 0) << "archive bytes changed under concurrent writers";
    // All four reach the archive (training is queued behind each other on one worker).
    for (const auto& f : files) EXPECT_TRUE(v.wait_archived(f, 120)) << f << "\n" << v.daemon_log();
}

TEST(MountWriters, RsyncTempFileAndRename) {
    MountedVolume v("", "rsync");
    v.start();
    const std::string src = data_path("dev/NetShare__raw.pcap");
    ASSERT_EQ(sh("rsync -a '" + src + "' '" + v.retention().string() + "/caida.pcap'"), 0);
    EXPECT_EQ(slurp(v.retention() / "caida.pcap"), slurp(src));
    ASSERT_TRUE(v.wait_archived("caida.pcap")) << v.daemon_log();
    int entries = 0;
    for (const auto& e : fsys::directory_iterator(v.retention())) {
        ++entries;
        EXPECT_EQ(e.path().filename(), "caida.pcap") << "rsync temp file left behind";
    }
    EXPECT_EQ(entries, 1);
    // A second rsync of different content over the same name replaces it.
    ASSERT_EQ(sh("rsync -a --no-whole-file '" + data_path("dev/dnscap__dns.pcap") + "' '" + v.retention().string() +
                 "/caida.pcap'"),
              0);
    EXPECT_EQ(slurp(v.retention() / "caida.pcap"), slurp(data_path("dev/dnscap__dns.pcap")));
    EXPECT_TRUE(wait_until([&] { return v.xattr(v.retention() / "caida.pcap", "packets") == "133"; }, 30));
}

TEST(MountWriters, LongOpenWriterIsAcceptedOnlyAfterClose) {
    MountedVolume v("", "longwriter");
    v.start();
    const std::string data = slurp(data_path("dev/dnscap__dns.pcap"));
    const fsys::path p = v.retention() / "live.pcap";
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    // Like tcpdump -w: the header, then records in bursts, quiet longer than the ingest delay.
    for (size_t off = 0; off < data.size(); off += 7000) {
        size_t n = std::min<size_t>(7000, data.size() - off);
        ASSERT_EQ(::write(fd, data.data() + off, n), static_cast<ssize_t>(n));
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        EXPECT_EQ(v.xattr(p, "state"), "staging") << "accepted while its writer still had it open";
    }
    ASSERT_EQ(::fsync(fd), 0);
    ASSERT_EQ(::close(fd), 0);
    EXPECT_EQ(slurp(p), data);
    ASSERT_TRUE(wait_until([&] { return v.xattr(p, "packets") == "133"; }, 20)) << v.daemon_log();
    ASSERT_TRUE(v.wait_archived("live.pcap")) << v.daemon_log();
    EXPECT_EQ(slurp(p), data);
}

}  // namespace
}  // namespace dgc::fs::test
