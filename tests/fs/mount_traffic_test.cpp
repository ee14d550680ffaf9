// archive/ read as an analyst reads it: tshark's TCP analysis finds no SYN carrying data,
// no ACK of an unseen segment and no missing previous segment beyond what the real
// capture itself shows, and connections open with a handshake where the real ones do.
#include <cmath>
#include <cstdio>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

// Frames of `pcap` that tshark's display filter matches (-1 when tshark fails).
long tshark_count(const std::string& pcap, const std::string& filter) {
    const std::string cmd = "tshark -n -r '" + pcap + "' -Y '" + filter + "' -T fields -e frame.number 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return -1;
    long n = 0;
    for (int c; (c = std::fgetc(p)) != EOF;) n += c == '\n';
    return ::pclose(p) == 0 ? n : -1;
}

TEST(MountTraffic, ArchiveIsRightAsTrafficForTshark) {
    MountedVolume v("", "traffic");
    v.start();
    const std::string name = "PcapPlusPlus__example.pcap";
    v.cp_in("dev/" + name, name);
    ASSERT_TRUE(v.wait_archived(name)) << v.daemon_log();
    const std::string real = data_path("dev/" + name), synth = (v.archive() / name).string();
    // What the codec owns never goes wrong; capture loss comes back at the real capture's
    // rate, drawn per segment, so its counts may exceed the real ones by sampling noise only.
    for (const char* filter : {"tcp.flags.syn == 1 && tcp.len > 0", "_ws.malformed"}) {
        const long r = tshark_count(real, filter), s = tshark_count(synth, filter);
        ASSERT_GE(r, 0) << "tshark failed on the real capture";
        ASSERT_GE(s, 0) << "tshark failed on archive/" << name;
        EXPECT_LE(s, r) << filter << ": archive " << s << ", real " << r;
    }
    for (const char* filter : {"tcp.analysis.ack_lost_segment", "tcp.analysis.lost_segment"}) {
        const long r = tshark_count(real, filter), s = tshark_count(synth, filter);
        ASSERT_GE(r, 0) << "tshark failed on the real capture";
        ASSERT_GE(s, 0) << "tshark failed on archive/" << name;
        EXPECT_LE(static_cast<double>(s), r + 3 * std::sqrt(static_cast<double>(r)) + 6) << filter << ": archive " << s << ", real " << r;
    }
    // The real capture opens connections with SYN / SYN-ACK / ACK; so does the archive.
    const long syn = tshark_count(real, "tcp.flags.syn == 1 && tcp.flags.ack == 0");
    ASSERT_GT(syn, 20);
    EXPECT_GT(tshark_count(synth, "tcp.flags.syn == 1 && tcp.flags.ack == 1"), 0);
    EXPECT_GT(tshark_count(synth, "tcp.completeness >= 7"), 0) << "no connection completes its handshake";
    EXPECT_GT(tshark_count(synth, "tcp.option_kind == 8"), 0) << "no TCP timestamps";
    v.stop();
}

}  // namespace
}  // namespace dgc::fs::test
