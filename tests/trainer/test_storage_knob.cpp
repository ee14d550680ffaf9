// The storage knob's arithmetic (issue 12 item 3): rank and pool are pure functions of
// packets, side bytes and the knob; 0.49 is the former fixed budget, value for value.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "trainer/pipeline_policy.h"

using namespace dgc::trainer;

namespace {

// The adapter rank and pool fill before the knob existed, as the code stood (commit 3c85673).
int former_lora_rank_for(uint64_t packets, uint64_t side_bytes) {
    const double bytes = 0.49 * static_cast<double>(packets) - static_cast<double>(side_bytes) - 700.0;
    if (bytes >= 400.0 && bytes < 1500.0) return kTimeSizeOnlyRank1;
    return std::clamp(static_cast<int>(bytes / 1500.0), 0, 4);
}
uint64_t former_pool_fill_bytes(uint64_t packets) { return static_cast<uint64_t>(0.49 * static_cast<double>(packets)); }

// kTimeSizeOnlyRank1 is less than one full rank: order ranks by what they can express.
double capacity(int rank) { return rank == kTimeSizeOnlyRank1 ? 0.5 : rank; }

constexpr uint64_t kPackets[] = {1, 100, 1000, 3905, 5000, 7000, 10000, 20000, 49085, 200000, 1000000};
constexpr uint64_t kSides[] = {0, 100, 300, 580, 1000, 2000, 5000, 20000};
constexpr double kKnobs[] = {0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.49, 0.5, 1.0, 2.0, 4.0};

TEST(StorageKnob, KnobPointFourNineIsTheFormerBudgetExactly) {
    for (uint64_t p : kPackets) {
        EXPECT_EQ(pool_fill_bytes(p, 0.49), former_pool_fill_bytes(p)) << p;
        for (uint64_t s : kSides) EXPECT_EQ(lora_rank_for(p, s, 0.49), former_lora_rank_for(p, s)) << p << " " << s;
    }
}

TEST(StorageKnob, RankAndPoolGrowWithTheKnob) {
    for (uint64_t p : kPackets)
        for (uint64_t s : kSides)
            for (size_t i = 1; i < std::size(kKnobs); ++i) {
                EXPECT_LE(capacity(lora_rank_for(p, s, kKnobs[i - 1])), capacity(lora_rank_for(p, s, kKnobs[i])))
                    << p << " packets, side " << s << ", knob " << kKnobs[i];
                EXPECT_LE(pool_fill_bytes(p, kKnobs[i - 1]), pool_fill_bytes(p, kKnobs[i]));
            }
    // At 0.1 a 20K-packet chunk with a 600-byte side affords the gap/length/direction
    // adapter only, 40K one full rank, 10K head biases alone; the default 0.49 gives the 20K
    // chunk four.
    EXPECT_EQ(lora_rank_for(20000, 600, 0.1), kTimeSizeOnlyRank1);
    EXPECT_EQ(lora_rank_for(10000, 600, 0.1), 0);
    EXPECT_EQ(lora_rank_for(40000, 600, 0.1), 1);
    EXPECT_EQ(lora_rank_for(20000, 600, kDefaultBytesPerPacket), 4);
    EXPECT_EQ(pool_fill_bytes(20000, 0.1), 2000u);
}

TEST(StorageKnob, ASideOverTheKnobGetsNoRankAndNoPool) {
    // ultraloq's chunks: ~6K packets with ~1 kB of side information.
    EXPECT_TRUE(side_exceeds_budget(6000, 1000, 0.1));
    EXPECT_EQ(lora_rank_for(6000, 1000, 0.1), 0);
    EXPECT_LT(pool_fill_bytes(6000, 0.1), 1000u);  // the blob alone is over: encode_with_pool adds no port
    EXPECT_FALSE(side_exceeds_budget(6000, 1000, 0.25));
    EXPECT_FALSE(side_exceeds_budget(6000, 600, 0.1));
}

TEST(StorageKnob, ValidRangeIsZeroExclusiveToFour) {
    EXPECT_TRUE(valid_bytes_per_packet(kDefaultBytesPerPacket));
    EXPECT_TRUE(valid_bytes_per_packet(4.0));
    EXPECT_TRUE(valid_bytes_per_packet(0.001));
    EXPECT_FALSE(valid_bytes_per_packet(0.0));
    EXPECT_FALSE(valid_bytes_per_packet(-0.1));
    EXPECT_FALSE(valid_bytes_per_packet(4.01));
    EXPECT_FALSE(valid_bytes_per_packet(std::nan("")));
}

}  // namespace
