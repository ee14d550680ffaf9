// The storage knob through a real mount (issue 12 item 3): dgcfs --bytes-per-packet (in
// place of the policy's [training] value) applies to every trace, a policy rule's to its
// subtree; the same traffic copied under each stores models sized by its knob. And drift-aware
// reuse (item 1): traffic the volume has seen is stored without weights, each chunk's
// decision shown in xattrs, status and the log.
#include <cstdio>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

TEST(MountKnob, ARuleKnobOverridesTheGlobalOneForItsSubtree) {
    // Reuse off: the later copies repeat the seed's traffic, which reuse would store with no
    // weights at all, whatever the knob (ReuseStoresRepeatedTrafficWithoutWeights below).
    MountedVolume v("reuse = false\n[[rule]]\npath = \"fine/*\"\nbytes_per_packet = 0.5\n", "knob");
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
    // biases only, 0.5 adapters and exact ports, within its budget. Format 21's packets per
    // start bucket raised that floor (coarse 5,887 B against fine 10,999 B).
    EXPECT_LT(3 * coarse, 2 * fine) << "coarse " << coarse << " B, fine " << fine << " B";
    // Side and head biases are a chunk's floor: Tinba's last chunk (2,000 packets) needs a
    // few bytes over its 1,000 since formats 65 and 66 placed its gaps.
    EXPECT_LE(fine, packets * 101 / 200);
}

TEST(MountKnob, ReuseStoresRepeatedTrafficWithoutWeights) {
    MountedVolume v("", "reuse");
    v.start();
    v.cp_in("dev/USTC-TFC2016__Tinba.pcap", "monday.pcap");
    ASSERT_TRUE(v.wait_archived("monday.pcap", 180)) << v.daemon_log();
    v.cp_in("dev/USTC-TFC2016__Tinba.pcap", "tuesday.pcap");
    ASSERT_TRUE(v.wait_archived("tuesday.pcap", 180)) << v.daemon_log();
    int reused[2] = {0, 0}, delta[2] = {0, 0}, key[2] = {0, 0};
    const char* names[2] = {"monday.pcap", "tuesday.pcap"};
    for (int i = 0; i < 2; ++i) {
        const std::string d = v.xattr(v.archive() / names[i], "decisions");
        ASSERT_EQ(std::sscanf(d.c_str(), "reused %d, delta %d, keyframe %d", &reused[i], &delta[i], &key[i]), 3) << d;
        EXPECT_EQ(reused[i] + delta[i] + key[i], 6) << names[i] << ": " << d;  // 22,000 packets in 4,000-packet chunks
    }
    // A fresh volume's first chunk is a keyframe. The repeat needs none: each of its chunks
    // decides as Monday's did against the same library, and its first reuses the keyframe
    // trained on the same records.
    EXPECT_EQ(key[0], 1);
    EXPECT_EQ(key[1], 0);
    EXPECT_EQ(reused[1], reused[0] + 1);
    EXPECT_LT(std::stoull(v.xattr(v.archive() / "tuesday.pcap", "model_bytes")),
              std::stoull(v.xattr(v.archive() / "monday.pcap", "model_bytes")));
    // What a reused chunk stores regenerates: the archive file reads whole.
    EXPECT_EQ(pcap_count((v.archive() / "tuesday.pcap").string()), 22000);
    const std::string log = v.daemon_log();
    EXPECT_NE(log.find("; reused t1c0: 17-mean"), std::string::npos) << log;
}

// Whether some chunk started training before the one ahead of it was modelled.
bool chunks_overlapped(const std::string& log, const std::string& name, int chunks) {
    for (int k = 1; k < chunks; ++k) {
        const auto next_started = log.find("training " + name + " chunk " + std::to_string(k + 1) + "/");
        const auto done = log.find("modelled " + name + " chunk " + std::to_string(k) + "/");
        if (next_started != std::string::npos && done != std::string::npos && next_started < done) return true;
    }
    return false;
}

TEST(MountKnob, TwoWorkersStoreTheModelsOneWorkerStores) {
    // Tinba's six chunks: with two workers a chunk chooses its parent as soon as every one
    // ahead of it has chosen one and trains no keyframe, so every chunk chooses among the
    // keyframes a one-worker volume offers it, and the same models regenerate the same bytes
    // (chunks read, analysed and given their parents ahead, then trained largest first).
    std::string archived[2], decisions[2], model_bytes[2];
    for (int workers : {1, 2}) {
        MountedVolume v("", "workers" + std::to_string(workers));
        v.set_workers(workers);
        v.start();
        v.cp_in("dev/USTC-TFC2016__Tinba.pcap", "t.pcap");
        ASSERT_TRUE(v.wait_archived("t.pcap", 180)) << v.daemon_log();
        archived[workers - 1] = slurp(v.archive() / "t.pcap");
        decisions[workers - 1] = v.xattr(v.archive() / "t.pcap", "decisions");
        model_bytes[workers - 1] = v.xattr(v.archive() / "t.pcap", "model_bytes");
        if (workers == 2) {
            EXPECT_TRUE(chunks_overlapped(v.daemon_log(), "t.pcap", 6)) << v.daemon_log();
            // While the first chunk trains its keyframe, the other worker prepares the next.
            EXPECT_NE(v.daemon_log().find("prepared t.pcap chunk 2/6 ahead"), std::string::npos) << v.daemon_log();
            // Once the keyframe is in the library, the chunks after it choose their parents
            // ahead of training.
            EXPECT_NE(v.daemon_log().find("chose the parent of t.pcap chunk 2/6 ahead: t1c0"), std::string::npos)
                << v.daemon_log();
        }
    }
    EXPECT_EQ(decisions[0], decisions[1]);
    EXPECT_EQ(model_bytes[0], model_bytes[1]);
    ASSERT_GT(archived[0].size(), 24u);
    EXPECT_TRUE(archived[0] == archived[1]) << archived[0].size() << " and " << archived[1].size() << " bytes";
}

}  // namespace
}  // namespace dgc::fs::test
