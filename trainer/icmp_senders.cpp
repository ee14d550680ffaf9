#include "trainer/icmp_senders.h"

#include <array>
#include <map>
#include <utility>

#include "trainer/broadcast_hosts.h"
#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"

namespace dgc::trainer {

IcmpErrorHosts count_icmp_error_hosts(std::span<const PacketRecord> chunk, std::span<const IcmpKind> kinds,
                                      const std::function<int(const PacketRecord&, bool)>& slot_of) {
    std::vector<std::array<std::map<int, uint32_t>, 2>> by_kind(kinds.size());  // [0] senders, [1] receivers
    std::vector<uint32_t> total(kinds.size(), 0);
    for (const PacketRecord& r : chunk) {
        if (!r.is_ip() || !(r.present & kHasIcmp) || !icmp_type_is_error(r.proto, r.icmp_type)) continue;
        for (size_t k = 0; k < kinds.size(); ++k) {
            if (kinds[k].proto != r.proto || kinds[k].type != r.icmp_type || kinds[k].code != r.icmp_code) continue;
            ++by_kind[k][0][slot_of(r, true)], ++by_kind[k][1][slot_of(r, false)], ++total[k];
            break;
        }
    }
    IcmpErrorHosts out{std::vector<uint8_t>(kinds.size(), kNoIcmpSender), std::vector<uint8_t>(kinds.size(), kNoIcmpSender)};
    // Two packets at least: nine in ten of them is then two or more from the host.
    for (size_t k = 0; k < kinds.size(); ++k)
        out.senders[k] = nine_in_ten_slot(by_kind[k][0], total[k], 2), out.receivers[k] = nine_in_ten_slot(by_kind[k][1], total[k], 2);
    return out;
}

bool send_icmp_error(const ChunkSide& side, int kind, uint8_t ip_version, const std::vector<std::array<uint8_t, 16>>& slot_addr,
                     Endpoint (&ep)[2], const std::function<void(Endpoint&, int)>& use_slot) {
    if (kind < 0 || static_cast<size_t>(kind) >= side.icmp.size() || !icmp_type_is_error(side.icmp[kind].proto, side.icmp[kind].type)) return false;
    const uint8_t sender = static_cast<size_t>(kind) < side.icmp_senders.size() ? side.icmp_senders[kind] : kNoIcmpSender;
    if (sender != kNoIcmpSender && side.hosts[sender].ip_version == ip_version) use_slot(ep[0], sender);
    const bool v39 = side.format >= 39 && static_cast<size_t>(kind) < side.icmp_receivers.size();
    const uint8_t receiver = v39 ? side.icmp_receivers[kind] : kNoIcmpSender;
    const bool named_receiver = receiver != kNoIcmpSender && side.hosts[receiver].ip_version == ip_version;
    if (named_receiver && slot_addr[receiver] != ep[0].addr) use_slot(ep[1], receiver);
    // Format 67: where the flow model drew the receiver as the sender and no host is named
    // to send, the error goes the other way round.
    const bool named_sender = sender != kNoIcmpSender && side.hosts[sender].ip_version == ip_version;
    if (side.format >= 67 && named_receiver && !named_sender && slot_addr[receiver] == ep[0].addr) {
        std::swap(ep[0], ep[1]);
        const auto& from = ep[0].addr;
        if (group_in_chunk(side, ip_version, from) || unspecified(ip_version, from) || from == ep[1].addr)
            if (const int alt = unicast_slot_but(side, ip_version, slot_addr, ep[1].addr); alt >= 0) use_slot(ep[0], alt);
        return true;
    }
    const auto& to = ep[1].addr;
    if (!group_in_chunk(side, ip_version, to) && !unspecified(ip_version, to) && to != ep[0].addr) return true;
    if (const int alt = unicast_slot_but(side, ip_version, slot_addr, ep[0].addr); alt >= 0) use_slot(ep[1], alt);
    return true;
}

}  // namespace dgc::trainer
