#include "trainer/service_counts.h"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "trainer/rng.h"

namespace dgc::trainer {

std::vector<int> meet_slot_counts(std::span<const uint32_t> weights, size_t slots, std::vector<int> at,
                                  std::span<const int64_t> counts) {
    const auto weight = [&](size_t i, size_t slot) { return weights[i * slots + slot]; };
    // A flow in a slot it may not take (a UDP flow drawn at a port that served only TCP) is
    // not that slot's: it counts for none and moves first, wherever a slot is short.
    std::vector<char> stray(at.size(), 0);
    std::vector<int64_t> excess(counts.size(), 0);
    for (size_t i = 0; i < at.size(); ++i) {
        if (at[i] < 0) continue;
        stray[i] = weight(i, at[i]) == 0;
        if (!stray[i]) ++excess[at[i]];
    }
    for (size_t k = 0; k < counts.size(); ++k) excess[k] -= counts[k];
    struct Move {
        uint32_t flow, to;
        uint64_t gain, keep;  // the ratio gain / keep, compared exactly
    };
    std::vector<Move> moves;
    for (size_t i = 0; i < at.size(); ++i) {
        if (at[i] < 0 || (!stray[i] && excess[at[i]] <= 0)) continue;
        for (size_t v = 0; v < counts.size(); ++v)
            if (excess[v] < 0 && weight(i, v) > 0)
                moves.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(v), weight(i, v), std::max<uint64_t>(weight(i, at[i]), 1)});
    }
    // Weights are below 2^25, so the cross products fit in 64 bits.
    std::sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) {
        const uint64_t l = a.gain * b.keep, r = b.gain * a.keep;
        return l != r ? l > r : std::tie(a.flow, a.to) < std::tie(b.flow, b.to);
    });
    std::vector<char> moved(at.size(), 0);
    for (const Move& m : moves) {
        int& from = at[m.flow];
        if (moved[m.flow] || (!stray[m.flow] && excess[from] <= 0) || excess[m.to] >= 0) continue;
        if (!stray[m.flow]) --excess[from];
        ++excess[m.to];
        from = static_cast<int>(m.to), moved[m.flow] = 1;
    }
    return at;
}

ServerPortCounts::ServerPortCounts(const ChunkSide& side, bool server_port_column)
    : side_(side), slots_(side.ports.size() + 1),
      active_(server_port_column && side.format >= 35 && side.udp_port_flows.size() == side.ports.size() &&
              side.port_protos.size() == side.ports.size()) {}

void ServerPortCounts::note(int64_t flow, uint8_t proto, std::span<const float> probs, int drawn) {
    if (!active_ || proto == 6) return;
    const size_t ranked = slots_ - 1;
    weights_.resize(weights_.size() + slots_, 0);
    uint32_t* w = &weights_[weights_.size() - slots_];
    uint8_t best = kPortRanks;
    for (size_t k = 0; k < ranked; ++k)
        w[k] = side_.port_protos[k] & port_proto_bit(proto) ? static_cast<uint32_t>(draw_weight(probs[k])) : 0;
    for (int u = kPortRanks; u < kPortNone; ++u)
        if (const auto wu = static_cast<uint32_t>(draw_weight(probs[u])); wu > w[ranked]) w[ranked] = wu, best = static_cast<uint8_t>(u);
    flow_.push_back(flow);
    at_.push_back(drawn < kPortRanks ? drawn : static_cast<int>(ranked));
    unranked_.push_back(best);
}

void ServerPortCounts::meet(std::vector<FlowTokens>& flows, std::vector<int64_t>& chosen) const {
    if (!active_) return;
    std::vector<int64_t> counts(side_.udp_port_flows.begin(), side_.udp_port_flows.end());
    const auto covered = static_cast<int64_t>(at_.size());
    const int64_t in_ranks = std::accumulate(counts.begin(), counts.end(), int64_t{0});
    if (in_ranks > covered) return;
    counts.push_back(covered - in_ranks);
    const std::vector<int> to = meet_slot_counts(weights_, slots_, at_, counts);
    const int ranked = static_cast<int>(slots_ - 1);
    for (size_t u = 0; u < to.size(); ++u)
        if (to[u] != at_[u])
            chosen[flow_[u]] = flows[flow_[u]].a[kAttrSrvPort] = static_cast<uint8_t>(to[u] < ranked ? to[u] : unranked_[u]);
}

}  // namespace dgc::trainer
