#include "fs/chunk_map.h"

#include <gtest/gtest.h>

namespace dgc::fs {
namespace {

TEST(ChunkMap, HeaderThenChunksInOrder) {
    ChunkMap m(24, {100, 50, 10});
    EXPECT_EQ(m.total_size(), 184u);
    auto s = m.slices(0, 1000);
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(s[0], (ChunkSlice{ChunkSlice::kHeader, 0, 24, 0}));
    EXPECT_EQ(s[1], (ChunkSlice{0, 0, 100, 24}));
    EXPECT_EQ(s[2], (ChunkSlice{1, 0, 50, 124}));
    EXPECT_EQ(s[3], (ChunkSlice{2, 0, 10, 174}));
}

TEST(ChunkMap, MidRangeTouchesOnlyItsChunks) {
    ChunkMap m(24, {100, 50, 10});
    auto s = m.slices(120, 10);  // bytes 96..99 of chunk 0 and 0..5 of chunk 1
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0], (ChunkSlice{0, 96, 4, 0}));
    EXPECT_EQ(s[1], (ChunkSlice{1, 0, 6, 4}));
    s = m.slices(130, 5);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0], (ChunkSlice{1, 6, 5, 0}));
    s = m.slices(10, 20);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0], (ChunkSlice{ChunkSlice::kHeader, 10, 14, 0}));
    EXPECT_EQ(s[1], (ChunkSlice{0, 0, 6, 14}));
}

TEST(ChunkMap, ClipsAtEndAndSkipsEmptyChunks) {
    ChunkMap m(24, {0, 30, 0, 20});
    EXPECT_EQ(m.total_size(), 74u);
    EXPECT_TRUE(m.slices(74, 10).empty());
    EXPECT_TRUE(m.slices(500, 10).empty());
    auto s = m.slices(24, 100);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0], (ChunkSlice{1, 0, 30, 0}));
    EXPECT_EQ(s[1], (ChunkSlice{3, 0, 20, 30}));
    s = m.slices(70, 100);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0], (ChunkSlice{3, 16, 4, 0}));
}

TEST(ChunkMap, SlicesTileTheRequestWithoutGaps) {
    ChunkMap m(24, {7, 0, 13, 1, 40, 0, 3});
    for (uint64_t off = 0; off <= m.total_size(); ++off)
        for (uint64_t len = 0; len <= 30; ++len) {
            uint64_t pos = off, out = 0;
            for (const auto& sl : m.slices(off, len)) {
                ASSERT_EQ(sl.out_offset, out);
                ASSERT_GT(sl.length, 0u);
                pos += sl.length;
                out += sl.length;
            }
            ASSERT_EQ(pos, std::min(m.total_size(), off + len)) << off << "+" << len;
        }
}

}  // namespace
}  // namespace dgc::fs
