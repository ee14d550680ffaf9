#include "trainer/udp_service_ends.h"

#include <utility>

#include "trainer/broadcast_hosts.h"
#include "trainer/host_slots.h"
#include "trainer/rng.h"
#include "trainer/udp_services.h"

namespace dgc::trainer {

void serve_udp_ends(const ChunkSide& side, const std::vector<std::array<uint8_t, 16>>& slot_addr, Endpoint (&ep)[2],
                    uint64_t stream, const std::function<void(Endpoint&, int)>& use_slot) {
    UdpEnds u;
    for (int d = 0; d < 2; ++d) {
        u.port[d] = ep[d].port;
        u.host[d] = slot_of_addr(slot_addr, ep[d].addr);
        u.pinned[d] = group_in_chunk(side, 4, ep[d].addr) || unspecified(4, ep[d].addr);
    }
    Rng rng(stream);
    const uint16_t ephemeral = ephemeral_port(rng);
    u = serve_udp_ports(side.udp_services, side.ports, u, ephemeral, rng.next(), side.format >= 54);
    if (u.hosts_swapped) std::swap(ep[0], ep[1]);
    for (int d = 0; d < 2; ++d) {
        ep[d].port = u.port[d];
        if (u.host_moved[d]) use_slot(ep[d], u.host[d]);
    }
    // Format 54: the sender's /24 broadcast (its synthetic /24 keeps .255 as its broadcast).
    if (u.to_broadcast) ep[1].addr = ep[0].addr, ep[1].addr[3] = 255;
}

void service_lengths(const ChunkSide& side, const Endpoint (&ep)[2], const std::vector<uint8_t>& dirs, std::vector<uint32_t>& lens,
                     uint64_t stream) {
    Rng rng(stream);
    for (size_t j = 0; j < dirs.size() && j < lens.size(); ++j)
        if (const auto l = service_len(side.udp_services, side.ports, ep[dirs[j]].port, ep[dirs[j] ^ 1].port, rng.next())) lens[j] = *l;
}

}  // namespace dgc::trainer
