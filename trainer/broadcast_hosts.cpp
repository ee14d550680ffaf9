#include "trainer/broadcast_hosts.h"

#include "codec/address_class.h"
#include "trainer/host_slots.h"

namespace dgc::trainer {

namespace {
// The scope bit of a /24's .255, or 0 where `a` is not one.
uint8_t bcast_scope(uint8_t v, const std::array<uint8_t, 16>& a) {
    if (v != 4 || host_kind_of(4, a.data()) != HostKind::kSubnetBroadcast) return 0;
    return classify_address(4, a.data()) == AddrClass::kPublic4 ? kPublicBcastHosts : kPrivateBcastHosts;
}
}  // namespace

uint8_t count_bcast_host_scopes(std::span<const PacketRecord> chunk) {
    uint8_t scopes = 0;
    for (const PacketRecord& r : chunk)
        if (r.is_ip()) scopes |= bcast_scope(r.ip_version, r.src);
    return scopes;
}

bool group_in_chunk(const ChunkSide& side, uint8_t ip_version, const std::array<uint8_t, 16>& a) {
    if (side.format >= 63 && (side.bcast_host_scopes & bcast_scope(ip_version, a))) return false;
    return is_group(ip_version, a);
}

}  // namespace dgc::trainer
