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
#include "trainer/flow_timing.h"
#include "trainer/flow_choices.h"
#include "trainer/tcp_plan.h"
#include "trainer/tcp_shape.h"

namespace dgc::trainer {

// `flows[i].first` indexes `packets`; flows hold the sampled attributes and exact sizes.
std::vector<PacketRecord> synthesize_records(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                             const std::vector<PacketTokens>& packets, uint64_t seed);

}  // namespace dgc::trainer
