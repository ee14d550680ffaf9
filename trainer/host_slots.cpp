#include "trainer/host_slots.h"

#include <algorithm>
#include <set>

#include "trainer/rng.h"

namespace dgc::trainer {

std::array<uint8_t, 16> exact_stand_in(AddrClass c, uint64_t idx, uint8_t side_format) {
    std::array<uint8_t, 16> a{};
    switch (c) {
        case AddrClass::kMulticast4:
            a = side_format >= 37 ? std::array<uint8_t, 16>{239, 255, static_cast<uint8_t>(idx / 254 % 255), static_cast<uint8_t>(1 + idx % 254)}
                                  : std::array<uint8_t, 16>{224, 0, 0, static_cast<uint8_t>(251 - idx % 250)};
            break;
        case AddrClass::kBroadcast4: a = kLimitedBroadcast; break;
        case AddrClass::kLoopback4: a = {127, 0, 0, static_cast<uint8_t>(1 + idx % 254)}; break;
        case AddrClass::kMulticast6:
            a[0] = 0xff, a[1] = 0x02, a[11] = 1, a[12] = 0xff;
            a[13] = static_cast<uint8_t>(idx >> 16), a[14] = static_cast<uint8_t>(idx >> 8), a[15] = static_cast<uint8_t>(idx);
            break;
        case AddrClass::kLoopback6: a[15] = 1; break;
        default: break;  // unspecified: all zero
    }
    return a;
}

bool local_control_block(uint8_t v, const std::array<uint8_t, 16>& a) { return v == 4 && a[0] == 224 && a[1] == 0 && a[2] == 0; }

bool unspecified(uint8_t v, const std::array<uint8_t, 16>& a) {
    const AddrClass c = classify_address(v, a.data());
    return c == AddrClass::kUnspecified4 || c == AddrClass::kUnspecified6;
}

bool is_group(uint8_t v, const std::array<uint8_t, 16>& a) {
    const AddrClass c = classify_address(v, a.data());
    return c == AddrClass::kMulticast4 || c == AddrClass::kMulticast6 || c == AddrClass::kBroadcast4 ||
           host_kind_of(v, a.data()) == HostKind::kSubnetBroadcast;
}

namespace {
// The first ranked host after slot `after` of IP version `v` whose class and kind fit.
int first_slot(const ChunkSide& side, uint8_t v, bool (*fits)(AddrClass, uint8_t host_kind), int after = -1) {
    for (size_t s = static_cast<size_t>(after + 1); s < std::min(side.hosts.size(), side.host_sem.size()); ++s) {
        const auto c = static_cast<AddrClass>(side.host_sem[s].addr_class);
        if (class_version(c) == v && fits(c, side.host_sem[s].host_kind)) return static_cast<int>(s);
    }
    return -1;
}
}  // namespace

int unicast_slot(const ChunkSide& side, uint8_t v, int after) {
    return first_slot(side, v, [](AddrClass c, uint8_t kind) { return !addr_class_is_exact(c) && kind == 0; }, after);
}

int unicast_slot_but(const ChunkSide& side, uint8_t v, const std::vector<std::array<uint8_t, 16>>& slot_addr,
                     const std::array<uint8_t, 16>& a) {
    const int alt = unicast_slot(side, v);
    return alt >= 0 && slot_addr[alt] == a ? unicast_slot(side, v, alt) : alt;
}

uint8_t nine_in_ten_slot(const std::map<int, uint32_t>& by_slot, uint32_t total, uint32_t min_total) {
    for (auto [slot, n] : by_slot)
        if (slot >= 0 && total >= min_total && n * 10 >= total * 9) return static_cast<uint8_t>(slot);
    return kNoSlot;
}

int unspecified_slot(const ChunkSide& side, uint8_t v) {
    return first_slot(side, v, [](AddrClass c, uint8_t) { return c == AddrClass::kUnspecified4 || c == AddrClass::kUnspecified6; });
}

namespace {
bool group_class(AddrClass c, uint8_t kind) {
    return c == AddrClass::kMulticast4 || c == AddrClass::kMulticast6 || c == AddrClass::kBroadcast4 ||
           static_cast<HostKind>(kind) == HostKind::kSubnetBroadcast;
}
}  // namespace

int group_slot(const ChunkSide& side, uint8_t v) { return first_slot(side, v, group_class); }

bool group_host(const ChunkSide& side, int slot) {
    return slot >= 0 && slot < static_cast<int>(side.host_sem.size()) &&
           group_class(static_cast<AddrClass>(side.host_sem[slot].addr_class), side.host_sem[slot].host_kind);
}

int same_version_slot(const ChunkSide& side, int slot, uint8_t v) {
    const int n = static_cast<int>(std::min(side.hosts.size(), side.host_sem.size()));
    for (int k = 1; k <= n; ++k) {
        const int s = (slot + k) % n;
        if (class_version(static_cast<AddrClass>(side.host_sem[s].addr_class)) == v) return s;
    }
    return -1;
}

int slot_of_addr(const std::vector<std::array<uint8_t, 16>>& slot_addr, const std::array<uint8_t, 16>& a) {
    const auto it = std::find(slot_addr.begin(), slot_addr.end(), a);
    return it == slot_addr.end() ? -1 : static_cast<int>(it - slot_addr.begin());
}

RankedAddresses ranked_addresses(const ChunkSide& side, uint64_t seed) {
    constexpr uint64_t kSlotSalt = 0x51075107ULL;
    RankedAddresses r{std::vector<std::array<uint8_t, 16>>(side.hosts.size()), std::vector<std::array<uint8_t, 6>>(side.hosts.size())};
    std::set<std::array<uint8_t, 16>> taken;
    for (size_t k = 0; k < side.hosts.size(); ++k) {
        const HostSemantics hs = k < side.host_sem.size() ? side.host_sem[k] : HostSemantics{};
        const auto cls = static_cast<AddrClass>(hs.addr_class);
        const uint64_t id = k < side.host_ids.size() ? side.host_ids[k] : mix64(seed ^ k);
        if (addr_class_is_exact(cls)) {
            r.addr[k] = hs.exact;
        } else {
            for (uint64_t attempt = 0; attempt < 64; ++attempt) {
                r.addr[k] = synth_address_of(cls, hs.subnet, mix64(kSlotSalt ^ id ^ (attempt << 20)), static_cast<HostKind>(hs.host_kind));
                if (static_cast<HostKind>(hs.host_kind) != HostKind::kHost || taken.insert(r.addr[k]).second) break;
            }
        }
        r.mac[k] = synth_mac(hs.mac ? hs.mac : static_cast<uint16_t>(mix64(id ^ 0x3AC)));
    }
    return r;
}

}  // namespace dgc::trainer
