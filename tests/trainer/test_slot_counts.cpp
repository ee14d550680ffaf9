// meet_slot_counts (trainer/service_counts.h): format 35's fewest, likeliest changes that
// bring the drawn server ports to the chunk's counts.
#include <gtest/gtest.h>

#include <vector>

#include "trainer/service_counts.h"

using dgc::trainer::meet_slot_counts;

TEST(SlotCounts, TheFlowsLikeliestInTheSlotShortOfItsCountMove) {
    // Four flows drew slot 0; the chunk had two in each. Rows: weights of slots 0 and 1.
    const std::vector<uint32_t> w = {100, 10, 100, 90, 100, 50, 100, 5};
    EXPECT_EQ(meet_slot_counts(w, 2, {0, 0, 0, 0}, std::vector<int64_t>{2, 2}), (std::vector<int>{0, 1, 1, 0}));
    // Drawn as the chunk had them: nothing moves, however likely another slot is.
    EXPECT_EQ(meet_slot_counts(w, 2, {1, 0, 1, 0}, std::vector<int64_t>{2, 2}), (std::vector<int>{1, 0, 1, 0}));
}

TEST(SlotCounts, ARatioCountsNotAWeight) {
    // Flow 0 is the likelier in slot 1 (60 against 40) but far likelier where it is; flow 1
    // barely prefers slot 0. The move costs flow 1 least.
    const std::vector<uint32_t> w = {1000, 60, 50, 40};
    EXPECT_EQ(meet_slot_counts(w, 2, {0, 0}, std::vector<int64_t>{1, 1}), (std::vector<int>{0, 1}));
}

TEST(SlotCounts, NoWeightNoMoveAndUncoveredFlowsStay) {
    // Slot 2 is short, but no flow may take it; flow 2 is not covered by the counts.
    const std::vector<uint32_t> w = {5, 5, 0, 5, 5, 0, 9, 9, 9};
    EXPECT_EQ(meet_slot_counts(w, 3, {0, 0, -1}, std::vector<int64_t>{1, 0, 1}), (std::vector<int>{0, 0, -1}));
    // A flow in a slot it may not take (weight 0) moves before any other.
    const std::vector<uint32_t> v = {0, 1, 1000, 999};
    EXPECT_EQ(meet_slot_counts(v, 2, {0, 0}, std::vector<int64_t>{1, 1}), (std::vector<int>{1, 0}));
}

TEST(SlotCounts, EachFlowMovesOnceAndTiesGoToTheEarlierFlow) {
    // Three flows in slot 0, the chunk had one in each slot; every ratio is the same.
    const std::vector<uint32_t> w = {10, 10, 10, 10, 10, 10, 10, 10, 10};
    EXPECT_EQ(meet_slot_counts(w, 3, {0, 0, 0}, std::vector<int64_t>{1, 1, 1}), (std::vector<int>{1, 2, 0}));
}
