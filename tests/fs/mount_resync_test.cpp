// Issue 15 finding 1 through a real mount: a capture with damage in the middle is modelled
// whole (every valid record on both sides of the damage), the skipped byte range is recorded
// and shown (xattr, log, dgcctl status/info/scrub), raw stays byte-exact, and archive/
// regenerates. Garbage to the end of the file keeps what came before and is reported too.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <set>

#include "tests/codec/codec_test_util.h"
#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

using nlohmann::json;

constexpr size_t kGarbage = 4096;

std::string dgcctl(const std::string& args) {
    return dgc::test::run_command(std::string(DGC_BINARY_DIR) + "/tools/dgcctl " + args).output;
}

// Byte offsets of each record of a little-endian classic pcap, and the record count.
std::vector<size_t> record_offsets(const std::string& pcap) {
    std::vector<size_t> at;
    for (size_t p = 24; p + 16 <= pcap.size();) {
        at.push_back(p);
        uint32_t caplen;
        std::memcpy(&caplen, pcap.data() + p + 8, 4);
        p += 16 + caplen;
    }
    return at;
}

std::string hex(size_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%zx", v);
    return b;
}

TEST(MountResync, DamagedCaptureIsModelledWholeAndTheSkipIsShown) {
    // The case: nDPI's reddit capture (1,942 records), 4 KB of garbage at record 971.
    const std::string original = slurp(data_path("dev/nDPI__reddit.pcap"));
    const auto offsets = record_offsets(original);
    ASSERT_EQ(offsets.size(), 1942u);
    const size_t cut = offsets[971];
    const std::string middle = original.substr(0, cut) + dgc::test::random_bytes(kGarbage, 15) + original.substr(cut);
    const std::string tail = original.substr(0, cut) + dgc::test::random_bytes(kGarbage, 16);

    MountedVolume v("", "resync");
    v.start();
    const fsys::path work = v.store().parent_path();
    std::ofstream(work / "middle.pcap", std::ios::binary) << middle;
    std::ofstream(work / "tail.pcap", std::ios::binary) << tail;
    for (const char* name : {"middle.pcap", "tail.pcap"})
        ASSERT_EQ(sh("cp '" + (work / name).string() + "' '" + v.retention().string() + "/'"), 0);
    v.cp_in("dev/nDPI__reddit.pcap", "clean.pcap");
    for (const char* name : {"middle.pcap", "tail.pcap", "clean.pcap"})
        ASSERT_TRUE(v.wait_archived(name, 240)) << name << ": " << v.xattr(v.retention() / name, "state") << "\n"
                                                 << v.daemon_log();

    // Every valid record on both sides of the damage is modelled; the range is named.
    const fsys::path mid = v.retention() / "middle.pcap";
    EXPECT_EQ(v.xattr(mid, "packets"), "1942");
    EXPECT_EQ(v.xattr(mid, "state"), "modelled");
    EXPECT_EQ(v.xattr(mid, "skipped"), "1 range, 4096 bytes at " + hex(cut));
    EXPECT_EQ(pcap_count((v.archive() / "middle.pcap").string()), 1942);
    // Garbage to the end: what came before is kept, the tail is reported, never silent.
    EXPECT_EQ(v.xattr(v.retention() / "tail.pcap", "packets"), "971");
    EXPECT_EQ(v.xattr(v.retention() / "tail.pcap", "skipped"), "1 range, 4096 bytes at " + hex(cut));
    EXPECT_EQ(pcap_count((v.archive() / "tail.pcap").string()), 971);
    EXPECT_EQ(v.xattr(v.retention() / "clean.pcap", "skipped"), "none");
    EXPECT_EQ(v.xattr(v.retention() / "clean.pcap", "packets"), "1942");

    // Raw keeps the damaged bytes exactly; only the model leaves them out.
    EXPECT_EQ(slurp(mid), middle);
    EXPECT_EQ(slurp(v.retention() / "tail.pcap"), tail);
    // archive/ regenerates the same bytes on a second read.
    EXPECT_EQ(slurp(v.archive() / "middle.pcap"), slurp(v.archive() / "middle.pcap"));

    const std::string log = v.daemon_log();
    EXPECT_NE(log.find("accepted middle.pcap: skipped damaged bytes, 1 range, 4096 bytes at " + hex(cut)),
              std::string::npos)
        << log;

    const json st = json::parse(dgcctl("status --json '" + v.mnt().string() + "'"), nullptr, false);
    ASSERT_TRUE(st.is_object());
    EXPECT_EQ(st["traces"]["with_skipped"], 2);
    ASSERT_EQ(st["skipped"].size(), 2u);
    std::set<std::string> paths;
    for (const auto& k : st["skipped"]) {
        paths.insert(k["path"].get<std::string>());
        EXPECT_EQ(k["bytes"], kGarbage);
    }
    EXPECT_EQ(paths, (std::set<std::string>{"middle.pcap", "tail.pcap"}));
    EXPECT_NE(dgcctl("status '" + v.mnt().string() + "'").find("skipped:    2 traces"), std::string::npos);

    const std::string info = dgcctl("info '" + mid.string() + "'");
    EXPECT_NE(info.find("skipped:     1 range, 4096 bytes at " + hex(cut)), std::string::npos) << info;
    EXPECT_NE(info.find("packets:     1942"), std::string::npos) << info;

    const std::string scrub = dgcctl("scrub --no-regenerate '" + v.mnt().string() + "'");
    EXPECT_NE(scrub.find("note input-skipped: middle.pcap: the capture as written had damaged bytes its models "
                         "leave out: 1 range, 4096 bytes at " + hex(cut)),
              std::string::npos)
        << scrub;
}

}  // namespace
}  // namespace dgc::fs::test
