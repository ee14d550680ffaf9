// The record generator's side of format 28 (udp_services.h): a UDP flow's Endpoints after
// serve_udp_ports, and its datagrams at their service's lengths. Pure; pinned by the golden
// fixtures.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "trainer/chunk_tokens.h"
#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

// Moves an IPv4 UDP flow's ends ([0] sends first) as serve_udp_ports says: `slot_addr` holds
// the ranked hosts' synthetic addresses, `use_slot` makes an end a ranked host; a client's
// fresh port comes from the random stream `stream`.
void serve_udp_ends(const ChunkSide& side, const std::vector<std::array<uint8_t, 16>>& slot_addr, Endpoint (&ep)[2],
                    uint64_t stream, const std::function<void(Endpoint&, int)>& use_slot);

// The flow's datagrams (`dirs[j]`: 0 from ep[0]) of a service with a length at its share
// (service_len), from the random stream `stream`.
void service_lengths(const ChunkSide& side, const Endpoint (&ep)[2], const std::vector<uint8_t>& dirs, std::vector<uint32_t>& lens,
                     uint64_t stream);

}  // namespace dgc::trainer
