#include "trainer/gateway_twins.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "codec/address_class.h"
#include "trainer/chunk_semantics.h"
#include "trainer/chunk_tokens.h"
#include "trainer/few_counts.h"
#include "trainer/key_hash.h"

namespace dgc::trainer {

namespace {

// A host's MACs as the capture saw them: on the frames it sent, and on those sent to it.
struct HostMacs {
    int slot = -1;
    FewCounts<uint16_t> from, to;
};

int twin_of(const std::vector<GatewayTwin>& twins, size_t gateway) {
    for (size_t i = 0; i < twins.size(); ++i)
        if (twins[i].gateway == gateway) return static_cast<int>(i);
    return -1;
}

int gateway_of(const ChunkSide& side, uint16_t mac) {
    const auto& g = side.gateway_macs;
    const auto it = std::find_if(g.begin(), g.end(), [&](const GatewayMac& e) { return e.mac == mac; });
    return mac && it != g.end() ? static_cast<int>(it - g.begin()) : -1;
}

// Whether a host seen from `from` and to `to` takes `twin` of `gateway`.
bool takes(const GatewayTwin& twin, uint16_t gateway, uint16_t from, uint16_t to) {
    return twin.receives ? from == gateway && to == twin.mac : to == gateway && from == twin.mac;
}

}  // namespace

GatewayTwins count_gateway_twins(std::span<const PacketRecord> chunk, const ChunkSide& side,
                                 const std::function<int(const PacketRecord&, bool)>& slot_of) {
    GatewayTwins out;
    const auto& gateways = side.gateway_macs;
    if (gateways.empty()) return out;
    constexpr std::array<uint8_t, 6> kNoMac{};
    std::unordered_map<HostKey, HostMacs, KeyHash> seen;
    auto host = [&](const PacketRecord& r, bool src) -> HostMacs& {
        auto [it, fresh] = seen.try_emplace(host_key(r, src));
        if (fresh) it->second.slot = slot_of(r, src);
        return it->second;
    };
    for (const auto& r : chunk) {
        if (!r.is_ip()) continue;
        std::array<uint8_t, 6> group;
        if (r.eth_src != kNoMac) host(r, true).from.add(mac_id_of(r.eth_src));
        if (r.eth_dst != kNoMac && !group_mac(r.ip_version, r.dst.data(), group)) host(r, false).to.add(mac_id_of(r.eth_dst));
    }
    // Per gateway, (other MAC, receives) by hosts.
    std::vector<std::map<std::pair<uint16_t, bool>, uint32_t>> pairs(gateways.size());
    for (const auto& [k, h] : seen) {
        if (h.from.empty() || h.to.empty()) continue;
        const uint16_t from = h.from.mode(), to = h.to.mode();
        if (from == to) continue;
        if (const int g = gateway_of(side, from); g >= 0) pairs[g][{to, true}]++;
        if (const int g = gateway_of(side, to); g >= 0) pairs[g][{from, false}]++;
    }
    for (size_t g = 0; g < gateways.size(); ++g) {
        std::pair<uint16_t, bool> best{};
        uint32_t n = 0;
        for (const auto& [p, c] : pairs[g])
            if (c > n) best = p, n = c;
        if (n >= 2 && 2 * uint64_t{n} >= gateways[g].hosts && best.first && best.first != gateways[g].mac)
            out.twins.push_back({static_cast<uint8_t>(g), best.first, best.second});
    }
    if (out.twins.empty()) return out;
    std::vector<const HostMacs*> by_slot(side.host_sem.size(), nullptr);
    for (const auto& [k, h] : seen)
        if (h.slot >= 0 && static_cast<size_t>(h.slot) < by_slot.size()) by_slot[h.slot] = &h;
    for (size_t k = 0; k < side.host_sem.size(); ++k) {
        const int g = gateway_of(side, side.host_sem[k].mac);
        const int t = g < 0 ? -1 : twin_of(out.twins, g);
        const HostMacs* h = by_slot[k];
        out.hosts.push_back(t >= 0 && h && !h->from.empty() && !h->to.empty() &&
                            takes(out.twins[t], gateways[g].mac, h->from.mode(), h->to.mode()));
    }
    return out;
}

void use_gateway_twins(const ChunkSide& side, std::span<const std::array<uint8_t, 16>> slot_addr, std::vector<PacketRecord>& records) {
    const GatewayTwins& twins = side.gateway_twins;
    if (twins.twins.empty()) return;
    struct Rewrite {
        std::array<uint8_t, 6> gateway, twin;
        bool receives;
        std::vector<std::array<uint8_t, 16>> kept;  // ranked hosts behind it that do not take the twin
    };
    std::vector<Rewrite> rw;
    for (const auto& t : twins.twins) rw.push_back({synth_mac(side.gateway_macs[t.gateway].mac), synth_mac(t.mac), t.receives, {}});
    for (size_t k = 0; k < side.host_sem.size() && k < slot_addr.size(); ++k) {
        const int g = gateway_of(side, side.host_sem[k].mac);
        const int t = g < 0 ? -1 : twin_of(twins.twins, g);
        if (t >= 0 && !(k < twins.hosts.size() && twins.hosts[k])) rw[t].kept.push_back(slot_addr[k]);
    }
    for (auto& r : records) {
        if (!r.is_ip()) continue;
        bool done[2] = {false, false};  // [0] the source MAC, [1] the destination's: once each
        for (const auto& w : rw) {
            auto& mac = w.receives ? r.eth_dst : r.eth_src;
            const auto& addr = w.receives ? r.dst : r.src;
            if (!done[w.receives] && mac == w.gateway && std::find(w.kept.begin(), w.kept.end(), addr) == w.kept.end())
                mac = w.twin, done[w.receives] = true;
        }
    }
}

}  // namespace dgc::trainer
