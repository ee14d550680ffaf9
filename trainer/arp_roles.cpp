#include "trainer/arp_roles.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace dgc::trainer {

namespace {
bool ip4_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b) {
    return std::equal(a.begin(), a.begin() + 4, b.begin());
}
}  // namespace

ArpKind arp_kind(const PacketRecord& r) {
    if (r.arp_op == 2) return kArpReply;
    if (r.arp_op != 1) return kArpKinds;
    if (ip4_equal(r.src, std::array<uint8_t, 16>{})) return kArpProbe;
    return ip4_equal(r.src, r.dst) ? kArpAnnouncement : kArpRequest;
}

std::vector<ArpRole> count_arp_roles(std::span<const PacketRecord> chunk,
                                     const std::function<int(const std::array<uint8_t, 16>&)>& slot_of) {
    constexpr std::array<uint8_t, 6> kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    std::map<std::tuple<uint8_t, uint8_t, uint8_t>, ArpRole> by_key;
    for (const PacketRecord& r : chunk) {
        if (r.is_ip() || r.ethertype != 0x0806) continue;
        const ArpKind kind = arp_kind(r);
        if (kind == kArpKinds) continue;
        // A probe comes from no address: the host it belongs to is the one it asks for.
        const int sender = slot_of(kind == kArpProbe ? r.dst : r.src);
        const int target = kind == kArpProbe || kind == kArpAnnouncement ? sender : slot_of(r.dst);
        if (sender < 0 || target < 0 || sender > 0xff || target > 0xff) continue;
        ArpRole& role = by_key[{kind, static_cast<uint8_t>(sender), static_cast<uint8_t>(target)}];
        role.kind = kind, role.sender = static_cast<uint8_t>(sender), role.target = static_cast<uint8_t>(target);
        ++role.frames;
        role.unicast += r.eth_dst != kBroadcast;
    }
    std::vector<ArpRole> roles;
    for (const auto& [key, role] : by_key) roles.push_back(role);
    std::stable_sort(roles.begin(), roles.end(), [](const ArpRole& a, const ArpRole& b) { return a.frames > b.frames; });
    if (roles.size() > kArpRoles) roles.resize(kArpRoles);
    return roles;
}

const ArpRole* draw_arp_role(std::span<const ArpRole> roles, ArpKind kind, uint64_t frames_of_kind, Rng& rng) {
    std::vector<const ArpRole*> of_kind;
    std::vector<uint32_t> weights;
    uint64_t covered = 0;
    for (const ArpRole& r : roles)
        if (r.kind == kind) of_kind.push_back(&r), weights.push_back(r.frames), covered += r.frames;
    if (of_kind.empty()) return nullptr;
    weights.push_back(static_cast<uint32_t>(std::min<uint64_t>(frames_of_kind - std::min(frames_of_kind, covered), UINT32_MAX)));
    const size_t i = rng.pick(weights);
    return i < of_kind.size() ? of_kind[i] : nullptr;
}

}  // namespace dgc::trainer
