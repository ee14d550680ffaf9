#include "trainer/synth_fields.h"

#include <algorithm>

#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

uint32_t link_header_len(uint32_t linktype) {
    switch (linktype) {
        case 1: return 14;
        case 0: case 108: return 4;
        case 113: return 16;
        case 276: return 20;
        default: return 0;
    }
}

uint16_t port_of(int token, const std::vector<uint16_t>& ranked, Rng& rng) {
    if (token < kPortRanks && token < static_cast<int>(ranked.size())) return ranked[token];
    if (token >= kPortRanks && token < kPortNone)  // a port bucket: port >> 12
        return static_cast<uint16_t>(std::max<uint32_t>(1, (static_cast<uint32_t>(token - kPortRanks) << 12) + rng.below(4096)));
    return ephemeral_port(rng);
}

int icmp_reply_of(uint8_t proto, uint8_t type) {
    if (proto == 1) return type == 8 ? 0 : type == 13 ? 14 : -1;
    return type == 128 ? 129 : type == 133 ? 134 : type == 135 ? 136 : -1;
}

int icmp_request_of(uint8_t proto, uint8_t type) {
    if (proto == 1) return type == 0 ? 8 : type == 14 ? 13 : -1;
    return type == 129 ? 128 : type == 134 ? 133 : type == 136 ? 135 : -1;
}

bool udp_partner_port(const ChunkSide& side, uint16_t port) {
    for (auto [p, q] : side.port_partners)
        for (uint8_t rank : {p, q})
            if (rank < side.ports.size() && side.ports[rank] == port) return true;
    return false;
}

uint32_t icmp_min_len(uint8_t proto, uint8_t type) {
    if (proto == 1) return (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) ? 8 + 28 : type == 13 || type == 14 ? 20 : 8;
    switch (type) {
        case 1: case 2: case 3: case 4: return 8 + 48;  // errors quote the invoking IPv6 header and 8 bytes
        case 130: case 131: case 132: return 24;        // MLDv1: multicast address
        case 134: return 16;                            // router advertisement: reachable/retrans timers
        case 135: case 136: return 24;                  // neighbour solicitation/advertisement: target
        case 137: return 40;                            // redirect: target and destination
        default: return 8;
    }
}

void set_dns_header(PacketRecord& r, bool from_responder, uint16_t id) {
    if ((r.sport != kDnsPort && r.dport != kDnsPort) || r.udp_len < 8 + kDnsHeaderLen) return;
    const bool answer = r.sport == kDnsPort && (r.dport != kDnsPort || from_responder);
    r.present |= kHasDns, r.dns_id = id, r.dns_flags = answer ? kDnsResponseFlags : kDnsQueryFlags;
}

}  // namespace dgc::trainer
