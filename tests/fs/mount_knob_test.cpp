// The storage knob through a real mount (issue 12 item 3): dgcfs --bytes-per-packet (in
// place of the policy's [training] value) applies to every trace, a policy rule's to its
// subtree; the same traffic copied under each stores models sized by its knob.
#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

TEST(MountKnob, ARuleKnobOverridesTheGlobalOneForItsSubtree) {
    MountedVolume v("[[rule]]\npath = \"fine/*\"\nbytes_per_packet = 0.5\n", "knob");
    v.start({"--bytes-per-packet", "0.05"});
    // The first copy trains the keyframe the later copies' chunks fine-tune.
    v.cp_in("dev/USTC-TFC2016__Tinba.pcap", "seed.pcap");
    ASSERT_TRUE(v.wait_archived("seed.pcap", 180)) << v.daemon_log();
    for (const char* d : {"coarse", "fine"}) ASSERT_EQ(::mkdir((v.retention() / d).c_str(), 0755), 0);
    v.cp_in("dev/USTC-TFC2016__Tinba.pcap", "coarse/t.pcap");
    v.cp_in("dev/USTC-TFC2016__Tinba.pcap", "fine/t.pcap");
    for (const char* p : {"coarse/t.pcap", "fine/t.pcap"}) ASSERT_TRUE(v.wait_archived(p, 180)) << p << "\n" << v.daemon_log();
    const uint64_t coarse = std::stoull(v.xattr(v.retention() / "coarse/t.pcap", "model_bytes"));
    const uint64_t fine = std::stoull(v.xattr(v.retention() / "fine/t.pcap", "model_bytes"));
    const uint64_t packets = std::stoull(v.xattr(v.retention() / "fine/t.pcap", "packets"));
    ASSERT_EQ(packets, 22000u);
    EXPECT_GT(coarse, 0u);
    // Tinba's 4,000-packet chunks: ~0.1 B/packet of side, so 0.05 leaves side and head
    // biases only, 0.5 adapters and exact ports, within its budget.
    EXPECT_LT(2 * coarse, fine) << "coarse " << coarse << " B, fine " << fine << " B";
    EXPECT_LE(fine, packets / 2);
}

}  // namespace
}  // namespace dgc::fs::test
