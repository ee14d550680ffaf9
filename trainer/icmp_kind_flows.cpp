#include "trainer/icmp_kind_flows.h"

#include <algorithm>

namespace dgc::trainer {

std::vector<IcmpOpened> count_icmp_opened(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                          const std::vector<IcmpKind>& kinds) {
    std::vector<IcmpOpened> out(kinds.size());
    for (const Flow& f : flows) {
        if (f.key.proto != 1 && f.key.proto != 58) continue;
        // A fragment without the ICMP header says nothing of the kind.
        const auto first = std::find_if(f.packets.begin(), f.packets.end(), [&](uint32_t i) { return (chunk[i].present & kHasIcmp) != 0; });
        if (first == f.packets.end()) continue;
        const PacketRecord& r = chunk[*first];
        const auto k = std::find_if(kinds.begin(), kinds.end(), [&](const IcmpKind& e) {
            return e.proto == r.proto && e.type == r.icmp_type && e.code == r.icmp_code;
        });
        if (k == kinds.end()) continue;
        IcmpOpened& o = out[static_cast<size_t>(k - kinds.begin())];
        ++o.flows, o.packets += f.packets.size();
    }
    return out;
}

bool icmp_opened_valid(const ChunkSide& side) {
    uint64_t flows = 0, packets = 0;
    for (const IcmpOpened& o : side.icmp_opened) {
        if (o.packets < o.flows) return false;
        flows += o.flows, packets += o.packets;
    }
    return flows <= side.flows() && packets <= side.ip_packets;
}

std::vector<int> opening_kinds(const ChunkSide& side, uint8_t proto) {
    std::vector<int> out;
    for (size_t k = 0; k < side.icmp.size() && k < side.icmp_opened.size(); ++k)
        if (side.icmp[k].proto == proto && side.icmp_opened[k].flows) out.push_back(static_cast<int>(k));
    return out;
}

void give_kinds_their_flows(const ChunkSide& side, const std::vector<int>& kinds, const std::vector<size_t>& flows,
                            const std::vector<FlowTokens>& drawn, std::vector<int>& out) {
    auto opened = [&](size_t i) -> const IcmpOpened& { return side.icmp_opened[static_cast<size_t>(kinds[i])]; };
    uint64_t total = 0;
    for (size_t i = 0; i < kinds.size(); ++i) total += opened(i).flows;
    if (total == 0 || flows.empty()) return;
    // Flows per kind: the chunk's counts, brought to the flows there are by largest remainder
    // (ties to the kind listed first).
    const uint64_t n = flows.size();
    std::vector<uint64_t> take(kinds.size());
    std::vector<std::pair<uint64_t, size_t>> remainder;
    uint64_t given = 0;
    for (size_t i = 0; i < kinds.size(); ++i) {
        take[i] = opened(i).flows * n / total, given += take[i];
        remainder.emplace_back(opened(i).flows * n % total, i);
    }
    std::stable_sort(remainder.begin(), remainder.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t j = 0; given < n && j < remainder.size(); ++j) ++take[remainder[j].second], ++given;
    // Largest flow first, each to the kind with the most packets beyond one a flow still to
    // place while it has flows left: a kind's share of the packets follows the chunk's as its
    // flows do (Tinba's net unreachables take its flow of 1,389, the port unreachables single
    // packets; isp-fragtest's echo flows, not its single-packet host unreachables, the
    // larger ones).
    std::vector<int64_t> beyond(kinds.size());
    for (size_t i = 0; i < kinds.size(); ++i) beyond[i] = static_cast<int64_t>(opened(i).packets) - static_cast<int64_t>(take[i]);
    for (size_t f : flows) {
        size_t best = kinds.size();
        for (size_t i = 0; i < kinds.size(); ++i)
            if (take[i] && (best == kinds.size() || beyond[i] > beyond[best])) best = i;
        if (best == kinds.size()) break;
        out[f] = kinds[best];
        --take[best], beyond[best] -= static_cast<int64_t>(drawn[f].packets) - 1;
    }
}

}  // namespace dgc::trainer
