// Format 63: a /24's .255 that sends is a host. Up to format 62 the generator took every
// IPv4 address ending in .255 for its subnet's directed broadcast, which only receives: a
// flow the model opened from one had its ends swapped and got no answer. In the dev traces
// the .255 addresses that send are public hosts of wider subnets (amp.UDP.snmp's 63 SNMP
// reflectors, schlage's cloud server, spoofed SYN sources), while the private .255 ones are
// LAN broadcasts (NBNS, BROWSER) that never send. amp.UDP.snmp's victim regenerated 51 SNMP
// requests to .255 reflectors (real: none; they answered from .255) and its routers' time
// exceeded errors quoted them.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// The scopes of a side's bcast_host_scopes.
inline constexpr uint8_t kPublicBcastHosts = 1;   // a public-class .255 sent a packet
inline constexpr uint8_t kPrivateBcastHosts = 2;  // a private, shared or link-local .255 did
inline constexpr uint8_t kBcastHostScopes = kPublicBcastHosts | kPrivateBcastHosts;

// The scopes whose .255 addresses sent an IPv4 packet in the chunk.
uint8_t count_bcast_host_scopes(std::span<const PacketRecord> chunk);

// is_group (host_slots.h) as the side's chunk had it: a .255 of a scope whose .255 addresses
// sent is a host (from format 63; before, every .255 is a group).
bool group_in_chunk(const ChunkSide& side, uint8_t ip_version, const std::array<uint8_t, 16>& a);

}  // namespace dgc::trainer
