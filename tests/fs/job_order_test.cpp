#include "fs/job_order.h"

#include <gtest/gtest.h>

#include <vector>

namespace dgc::fs {
namespace {

QueuedJob chosen(uint64_t packets, bool keyframe = false) {
    QueuedJob q;
    q.prepared = q.chosen = true;
    q.chosen_keyframe = keyframe;
    q.packets = packets;
    return q;
}

QueuedJob claimed(bool adds_no_keyframe) {
    QueuedJob q;
    q.claimed = true;
    q.claimed_adds_no_keyframe = adds_no_keyframe;
    return q;
}

JobStep prepare(size_t i, bool choose) { return {JobStep::kPrepare, i, choose}; }
JobStep claim(size_t i) { return {JobStep::kClaim, i}; }

TEST(JobOrder, AnEmptyQueueWaits) { EXPECT_EQ(next_job_step({}, false, true, true), JobStep{}); }

TEST(JobOrder, TheFirstOpenChunkIsPreparedWithItsParentWhereTheLibraryIsSettled) {
    std::vector<QueuedJob> q(3);
    EXPECT_EQ(next_job_step(q, false, true, true), prepare(0, true));
    // Analysed while the library was not settled: only the choice is left to make.
    q[0].prepared = true;
    EXPECT_EQ(next_job_step(q, false, false, false), prepare(0, true));
}

TEST(JobOrder, NoParentIsChosenBehindAJobThatMayAddAKeyframe) {
    // Job 0 trains and has not chosen its parent yet: the others are only analysed.
    std::vector<QueuedJob> q{claimed(false), {}, {}};
    EXPECT_EQ(next_job_step(q, false, true, true), prepare(1, false));
    q[1].prepared = true;
    EXPECT_EQ(next_job_step(q, false, true, true), prepare(2, false));
    q[2].prepared = true;
    EXPECT_EQ(next_job_step(q, false, true, true), JobStep{});
    // While no parent can be chosen, only the count bounds what an idle worker analyses.
    q.push_back({});
    EXPECT_EQ(next_job_step(q, false, false, true), prepare(3, false));
    EXPECT_EQ(next_job_step(q, false, true, false), JobStep{});
    q.pop_back();
    // Nor while a keyframe that left the queue is not yet in the library.
    q[0] = claimed(true);
    EXPECT_EQ(next_job_step(q, true, true, true), JobStep{});
    EXPECT_EQ(next_job_step(q, false, true, true), prepare(1, true));
}

TEST(JobOrder, AChunkBeingChosenHoldsBackTheChoicesAfterIt) {
    std::vector<QueuedJob> q(3);
    q[0].busy = true;
    EXPECT_EQ(next_job_step(q, false, true, true), prepare(1, false));
    q[1].prepared = true;
    q[2].busy = true;
    EXPECT_EQ(next_job_step(q, false, true, true), JobStep{});
}

TEST(JobOrder, AChunkThatTrainsAKeyframeGoesFirst) {
    std::vector<QueuedJob> q{chosen(40000), chosen(100, true), {}};
    EXPECT_EQ(next_job_step(q, false, true, true), claim(1));
}

TEST(JobOrder, TheLargestChosenChunkIsClaimedOnceNoMoreCanBePrepared) {
    std::vector<QueuedJob> q{claimed(true), chosen(5000), chosen(48000), chosen(9000), chosen(48000), {}};
    // Room to prepare: the next open chunk is prepared and its parent chosen first.
    EXPECT_EQ(next_job_step(q, false, true, true), prepare(5, true));
    // None: the largest (the first of equals) trains; then the open chunk, by itself.
    EXPECT_EQ(next_job_step(q, false, false, false), claim(2));
    q.resize(5);
    EXPECT_EQ(next_job_step(q, false, true, true), claim(2));
    q = {QueuedJob{}};
    EXPECT_EQ(next_job_step(q, false, false, false), claim(0));
}

TEST(JobOrder, AnOpenChunkTwiceEveryChosenOneIsReachedPastTheBound) {
    std::vector<QueuedJob> q{chosen(5000), chosen(9000), {}};
    q[2].planned = 17000;  // a few percent, or even most, larger: it waits for room
    EXPECT_EQ(next_job_step(q, false, false, true), claim(1));
    q[2].planned = 48000;
    EXPECT_EQ(next_job_step(q, false, false, true), prepare(2, true));
    q[2].prepared = true;  // then chosen, and claimed first
    q[2].chosen = true;
    q[2].packets = 48000;
    EXPECT_EQ(next_job_step(q, false, false, true), claim(2));
    // A large chunk behind a small open one: the small one is prepared and chosen first.
    q = {chosen(5000), chosen(9000), {}, {}};
    q[2].planned = 4600;
    q[3].planned = 48000;
    EXPECT_EQ(next_job_step(q, false, false, true), prepare(2, true));
    EXPECT_EQ(next_job_step(q, false, false, false), claim(1));  // the count bound holds
    // No larger one: the small open chunk waits for room; the one after it is only analysed.
    q[3].planned = 9000;
    EXPECT_EQ(next_job_step(q, false, false, true), prepare(3, false));
}

TEST(JobOrder, AChunkPassedOverTooOftenIsClaimedNext) {
    std::vector<QueuedJob> q{chosen(100), chosen(48000), chosen(200)};
    q[0].passed_over = kMaxPassedOver - 1;
    EXPECT_EQ(next_job_step(q, false, false, false), claim(1));
    q[0].passed_over = q[2].passed_over = kMaxPassedOver;
    EXPECT_EQ(next_job_step(q, false, false, false), claim(0));
}

TEST(JobOrder, ARetryIsClaimedAsItIsAndABackoffIsSkipped) {
    std::vector<QueuedJob> q(3);
    q[0].skipped = true;
    q[1].direct = true;
    EXPECT_EQ(next_job_step(q, false, true, true), claim(1));
    // A direct job claimed: whether it adds a keyframe is open until it chooses.
    q[1] = claimed(false);
    EXPECT_EQ(next_job_step(q, false, true, true), prepare(2, false));
}

}  // namespace
}  // namespace dgc::fs
