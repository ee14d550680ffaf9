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
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

class ShareQuota;

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

// Format 7: FINs carry data at the chunk's share of such FINs; a capture without pure ACKs
// also loses the bare ACK after a FIN exchange (the slot goes to the closer's last data).
void shape_teardown(std::vector<TcpSegmentPlan>& plan, ShareQuota& data_fins, bool no_pure_acks);

// Format 7 (`pure_acks` given): a pure ACK that acknowledges nothing on either side is a
// request and carries data even before its side sent any; a pure ACK beyond the chunk's
// share of them carries data; so does a FIN the plan gave data. Such a segment repeats its
// side's last payload, else the peer's, else `min_data`.
void fix_duplicate_acks(std::vector<TcpSegmentPlan>& plan, const std::function<uint32_t(uint32_t, uint8_t)>& payload_of,
                        std::vector<uint32_t>& payloads, ShareQuota* pure_acks = nullptr, uint32_t min_data = 1);

}  // namespace dgc::trainer
