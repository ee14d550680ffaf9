// From sampled tokens to PacketRecords: timestamps, synthetic addresses for host slots,
// port values, per-host TTL/TOS, lengths, TCP seq/ack progression, non-IP frames.
// Pure arithmetic over the side information; the codec then builds legal frames.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

// `flows[i].first` indexes `packets`; flows hold the sampled attributes and exact sizes.
std::vector<PacketRecord> synthesize_records(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                             const std::vector<PacketTokens>& packets, uint64_t seed);

// The pool port (index into side.pool, or -1) each flow's client [0] and server [1] endpoint
// takes. Endpoints whose token is a port bucket go largest flow first, each to the pool port
// of its bucket with the most traffic still unclaimed, while that is at least half the flow:
// heavy tail ports land on big flows, single-packet ones on single packets.
std::vector<std::array<int32_t, 2>> assign_pool_ports(const ChunkSide& side, const std::vector<FlowTokens>& flows);

// Each segment's payload (payload_of(segment, direction)); a pure ACK that would repeat its
// side's last ACK (nothing new from the peer) while its own data waits for one is sent by
// the peer instead: the model's direction guess, made consistent with what was sent.
void fix_duplicate_acks(std::vector<TcpSegmentPlan>& plan, const std::function<uint32_t(uint32_t, uint8_t)>& payload_of,
                        std::vector<uint32_t>& payloads);

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
