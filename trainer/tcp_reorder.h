// Format 57: segments that arrive out of order. A path that reorders delivers a segment after
// the one sent behind it: tshark sees the later data first ("previous segment not captured")
// and the earlier a moment after ("out-of-order"). nDPI's teams trace has 22 such segments,
// seven other dev traces one to six; the side counted them among the resends (format 14's
// retrans), and the generator, which only resends, regenerated none. The side now keeps them
// per end; the flows draw that many fewer gaps and resends, and the generator swaps as many
// pairs of back-to-back data segments. Pure: the encoder counts (count_flow_semantics),
// synthesize_records applies.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// `side` with the loss its flows draw: each end's gaps and resends, in the chunk's and in its
// lossy flows' counts, less the reordered segments (a reorder shows as one of each), at
// least 0.
ChunkSide without_reorders(const ChunkSide& side);

// Swaps `reordered[end]` pairs of `records`' back-to-back data segments of one direction
// (0: from the client, tcp_segment_ends' ends) on the connections whose flow_key
// (synth_endpoint.h, protocol 6) `lossy` holds (the flows that draw the chunk's loss, format
// 14: a path that reorders is a lossy one): two segments of one
// 4-tuple with nothing of it between them, the second's data right after the first's, sent
// within the connection's handshake RTT (3 ms where it has none) so that tshark calls the late
// one out of order. Each takes the other's place in time. Fewer where there are fewer such
// pairs; `seed` picks which.
void reorder_segments(const std::array<uint32_t, 2>& reordered, uint64_t seed, const std::vector<uint64_t>& lossy,
                      std::vector<PacketRecord>& records);

}  // namespace dgc::trainer
