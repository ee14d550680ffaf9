// The non-IP frames of a regenerated chunk: as many per time bucket as the chunk had, their
// type and size from its mix; ARP with bodies between the chunk's on-link hosts (format 23:
// a reply answers the latest request, from the host it asked; format 37: each frame's hosts
// from the chunk's ARP roles, arp_roles.h; format 61: a chunk's one on-link host ARPs with
// its gateway, not itself).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// Appends the chunk's non-IP frames to `out`. `slot_addr` and `slot_mac` are the ranked
// hosts' synthetic addresses, as the IP flows use them.
void append_nonip_frames(const ChunkSide& side, std::span<const std::array<uint8_t, 16>> slot_addr,
                         std::span<const std::array<uint8_t, 6>> slot_mac, uint64_t seed, std::vector<PacketRecord>& out);

}  // namespace dgc::trainer
