// Flow and packet timing for the record generators (see the .cpp).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// A gap or duration drawn inside a dtbin class (log-uniform between its edges).
int64_t sample_dt(int dt_class, uint64_t random);

// Inclusive [lo, hi] of the durations in a dtbin class (0: zero).
std::pair<int64_t, int64_t> dt_class_bounds(int dt_class);

// Moves a flow's gaps (gaps[0] is the first packet's, always 0) so that they add up to a
// duration in [lo, hi], the nearest to their sum: first each gap within its own dtbin class
// (the gap mix stays as drawn), then, if that is not enough, the largest gaps (stretched up
// to `cap` each, or levelled down to a common ceiling); small in-burst gaps stand.
void fit_gaps_to_duration(std::vector<int64_t>& gaps, int64_t lo, int64_t hi, int64_t cap);

// The part of a start-gap histogram (dtbin classes) whose mean gap is `mean_gap` ns: the
// shortest classes for a busy stretch, the longest for a quiet one, the boundary class
// weighted so the mean comes out exact. Weights are the counts scaled by 1024.
std::vector<uint32_t> rate_matched_gaps(const std::vector<uint32_t>& hist, double mean_gap);

// Start time of each flow (flows in bucket order): per bucket, gaps drawn from the part of
// the chunk's start-gap histogram that matches the bucket's own rate (a flood ramping up is
// not one rate), kept when the group fits the bucket and compressed when it does not.
std::vector<int64_t> flow_start_times(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed);

// Flow start buckets in order, expanded from the per-bucket counts.
std::vector<uint8_t> start_buckets(const ChunkSide& side);

}  // namespace dgc::trainer
