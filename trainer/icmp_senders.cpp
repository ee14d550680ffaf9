#include "trainer/icmp_senders.h"

#include <map>

#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"

namespace dgc::trainer {

bool icmp_error_type(uint8_t proto, uint8_t type) {
    if (proto == 58) return type < 128;  // ICMPv6 errors are types 0-127
    return proto == 1 && (type == 3 || type == 4 || type == 5 || type == 11 || type == 12);
}

std::vector<uint8_t> count_icmp_senders(std::span<const PacketRecord> chunk, std::span<const IcmpKind> kinds,
                                        const std::function<int(const PacketRecord&)>& slot_of) {
    std::vector<std::map<int, uint64_t>> by_kind(kinds.size());
    std::vector<uint64_t> total(kinds.size(), 0);
    for (const PacketRecord& r : chunk) {
        if (!r.is_ip() || !(r.present & kHasIcmp) || !icmp_error_type(r.proto, r.icmp_type)) continue;
        for (size_t k = 0; k < kinds.size(); ++k) {
            if (kinds[k].proto != r.proto || kinds[k].type != r.icmp_type || kinds[k].code != r.icmp_code) continue;
            ++by_kind[k][slot_of(r)], ++total[k];
            break;
        }
    }
    std::vector<uint8_t> out(kinds.size(), kNoIcmpSender);
    for (size_t k = 0; k < kinds.size(); ++k)
        for (const auto& [slot, n] : by_kind[k])
            if (slot >= 0 && slot < kNoIcmpSender && n >= 2 && n * 10 >= total[k] * 9) out[k] = static_cast<uint8_t>(slot);
    return out;
}

bool send_icmp_error(const ChunkSide& side, int kind, uint8_t ip_version, const std::vector<std::array<uint8_t, 16>>& slot_addr,
                     Endpoint (&ep)[2], const std::function<void(Endpoint&, int)>& use_slot) {
    if (kind < 0 || static_cast<size_t>(kind) >= side.icmp.size() || !icmp_error_type(side.icmp[kind].proto, side.icmp[kind].type)) return false;
    const uint8_t sender = static_cast<size_t>(kind) < side.icmp_senders.size() ? side.icmp_senders[kind] : kNoIcmpSender;
    if (sender != kNoIcmpSender && side.hosts[sender].ip_version == ip_version) use_slot(ep[0], sender);
    const auto& to = ep[1].addr;
    if (!is_group(ip_version, to) && !unspecified(ip_version, to) && to != ep[0].addr) return true;
    int alt = unicast_slot(side, ip_version);
    if (alt >= 0 && slot_addr[alt] == ep[0].addr) alt = unicast_slot(side, ip_version, alt);
    if (alt >= 0) use_slot(ep[1], alt);
    return true;
}

}  // namespace dgc::trainer
