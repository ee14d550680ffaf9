// Frozen record generators of released chunk-model formats (see the .cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer::legacy {

// Format 5: header-only frames, TCP without options or handshake, addresses without class.
std::vector<PacketRecord> synthesize_records_v5(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                                const std::vector<PacketTokens>& packets, uint64_t seed);

}  // namespace dgc::trainer::legacy
