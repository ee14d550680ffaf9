// From sampled tokens to PacketRecords: timestamps, synthetic addresses for host slots,
// port values, per-host TTL/TOS, lengths, TCP seq/ack progression, non-IP frames.
// Pure arithmetic over the side information; the codec then builds legal frames.
#pragma once

#include <cstdint>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// `flows[i].first` indexes `packets`; flows hold the sampled attributes and exact sizes.
std::vector<PacketRecord> synthesize_records(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                             const std::vector<PacketTokens>& packets, uint64_t seed);

// A gap or duration drawn inside a dtbin class (log-uniform between its edges).
int64_t sample_dt(int dt_class, uint64_t random);

// Start time of each flow (flows in bucket order): per bucket, gaps drawn from the chunk's
// start-gap histogram, kept when the group fits the bucket and compressed when it does not.
std::vector<int64_t> flow_start_times(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed);

// Flow start buckets in order, expanded from the per-bucket counts.
std::vector<uint8_t> start_buckets(const ChunkSide& side);

}  // namespace dgc::trainer
