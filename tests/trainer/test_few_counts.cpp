// FewCounts must pick a host's value exactly as the std::map it replaced did (the commonest,
// the smallest of equally common ones): the side information, and so every model, depends on it.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>

#include "trainer/few_counts.h"
#include "trainer/rng.h"

using namespace dgc::trainer;

TEST(FewCounts, ModeIsTheMapsFirstLargestCount) {
    Rng rng(7);
    for (int trial = 0; trial < 2000; ++trial) {
        FewCounts<uint16_t> few;
        std::map<uint16_t, uint64_t> map;
        const int values = 1 + static_cast<int>(rng.below(4)), adds = static_cast<int>(rng.below(12));
        for (int i = 0; i < adds; ++i) {
            const auto v = static_cast<uint16_t>(100 + 7 * rng.below(static_cast<uint64_t>(values)));
            few.add(v), ++map[v];
        }
        uint16_t want = 64 << 8;
        uint64_t n = 0;
        for (const auto& [k, c] : map)
            if (c > n) want = k, n = c;
        ASSERT_EQ(few.mode(64 << 8), want) << "trial " << trial;
        ASSERT_EQ(few.empty(), map.empty());
    }
}

TEST(FewCounts, TiesGoToTheSmallestWhateverTheOrderSeen) {
    FewCounts<uint16_t> few;
    for (uint16_t v : {9, 3, 9, 3, 5}) few.add(v);
    EXPECT_EQ(few.mode(), 3);
    EXPECT_EQ(FewCounts<uint16_t>{}.mode(42), 42);
}
