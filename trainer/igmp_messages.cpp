#include "trainer/igmp_messages.h"

#include <algorithm>
#include <map>

#include "codec/address_class.h"
#include "trainer/host_slots.h"
#include "trainer/rng.h"

namespace dgc::trainer {
namespace {

constexpr std::array<uint8_t, 4> kAllSystems{224, 0, 0, 1}, kAllRouters{224, 0, 0, 2}, kV3Reports{224, 0, 0, 22};
constexpr uint32_t kIpHeader = 24;             // IPv4 with the Router Alert option
constexpr uint32_t kV2Len = 8, kV3QueryLen = 12;  // a version 3 query without sources
constexpr uint8_t kQueryMaxResp = 100;         // 10 s, both versions' default
constexpr uint8_t kModeIsExclude = 2, kChangeToExclude = 4;

bool is(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 4>& g) { return std::equal(g.begin(), g.end(), a.begin()); }

std::array<uint8_t, 4> v4(const std::array<uint8_t, 16>& a) { return {a[0], a[1], a[2], a[3]}; }

}  // namespace

bool igmp_control_group(const std::array<uint8_t, 16>& a) { return is(a, kAllSystems) || is(a, kAllRouters) || is(a, kV3Reports); }

std::vector<IgmpDest> count_igmp_dests(std::span<const PacketRecord> chunk, const std::function<int(const PacketRecord&, bool)>& slot_of) {
    struct Seen {
        std::map<uint16_t, uint32_t> lens;  // IP length -> messages
        std::map<int, uint32_t> senders;    // slot -> messages
    };
    std::map<int, Seen> by_slot;
    for (const PacketRecord& r : chunk)
        if (r.is_ip() && r.ip_version == 4 && r.proto == 2 && r.ip_len >= kIgmpMinIpLen && r.ip_len <= 65535)
            if (const int s = slot_of(r, false); s >= 0 && s < kNoSlot) {
                ++by_slot[s].lens[static_cast<uint16_t>(r.ip_len)];
                ++by_slot[s].senders[slot_of(r, true)];
            }
    std::vector<IgmpDest> out;
    for (const auto& [slot, seen] : by_slot) {
        IgmpDest d{static_cast<uint8_t>(slot), 0, 0};
        uint32_t most = 0;
        for (auto [len, n] : seen.lens) {
            d.packets += n;
            if (n > most) most = n, d.ip_len = len;
        }
        d.sender = nine_in_ten_slot(seen.senders, d.packets, 2);
        out.push_back(d);
    }
    std::stable_sort(out.begin(), out.end(), [](const IgmpDest& a, const IgmpDest& b) { return a.packets > b.packets; });
    if (out.size() > kIgmpDests) out.resize(kIgmpDests);
    return out;
}

void set_igmp_message(PacketRecord& r, std::span<const std::array<uint8_t, 16>> groups, uint64_t offset, bool answers_query) {
    const std::array<uint8_t, 16>& dst = r.dst;
    r.present |= kHasIgmp;
    r.icmp_code = 0, r.icmp_rest = 0, r.igmp_records = {};
    auto group = [&](uint64_t i) { return groups.empty() ? std::array<uint8_t, 4>{} : v4(groups[(offset + i) % groups.size()]); };
    auto word = [](const std::array<uint8_t, 4>& g) { return uint32_t{g[0]} << 24 | uint32_t{g[1]} << 16 | uint32_t{g[2]} << 8 | g[3]; };
    const bool multicast = classify_address(4, dst.data()) == AddrClass::kMulticast4;
    uint32_t len = kV2Len;
    if (is(dst, kV3Reports)) {
        // One record per group, as many as the length holds (at least one; none where the
        // chunk has no other group to name).
        const size_t most = std::min(groups.size(), kIgmpRecordsKept);
        const size_t n = std::clamp<size_t>(r.ip_len > kIpHeader + 16 ? (r.ip_len - kIpHeader - 8) / 8 : 1, std::min<size_t>(1, most), most);
        r.icmp_type = kIgmpV3Report;
        r.icmp_rest = static_cast<uint32_t>(n);
        for (size_t i = 0; i < n; ++i) r.igmp_records[i] = {answers_query ? kModeIsExclude : kChangeToExclude, group(i)};
        len = 8 + 8 * static_cast<uint32_t>(n);
    } else if (is(dst, kAllRouters) && !groups.empty()) {
        r.icmp_type = kIgmpLeave;
        r.icmp_rest = word(group(0));
    } else if (multicast && !igmp_control_group(dst)) {
        r.icmp_type = kIgmpV2Report;
        r.icmp_rest = word(v4(dst));
    } else {
        // A general query: to all systems, or to one host (RFC 3376 allows it); version 3
        // where the length has its room.
        r.icmp_type = kIgmpQuery;
        r.icmp_code = kQueryMaxResp;
        if (r.ip_len >= kIpHeader + kV3QueryLen) len = kV3QueryLen;
    }
    r.ip_len = kIpHeader + len;
    r.ttl = 1;
}

bool igmp_dests_valid(std::span<const IgmpDest> dests, size_t hosts) {
    for (size_t i = 0; i < dests.size(); ++i) {
        const IgmpDest& d = dests[i];
        const bool ranked = d.slot < hosts && (d.sender < hosts || d.sender == kNoSlot) && d.sender != d.slot;
        const bool ordered = i == 0 || d.packets <= dests[i - 1].packets;
        const bool once = std::none_of(dests.begin(), dests.begin() + static_cast<std::ptrdiff_t>(i), [&](const IgmpDest& e) { return e.slot == d.slot; });
        if (!ranked || !ordered || !once || !d.packets || d.ip_len < kIgmpMinIpLen) return false;
    }
    return true;
}

IgmpSender::IgmpSender(std::span<const IgmpDest> dests, std::span<const std::array<uint8_t, 16>> slot_addr)
    : dests_(dests), slot_addr_(slot_addr) {
    for (const auto& a : slot_addr)
        if (classify_address(4, a.data()) == AddrClass::kMulticast4 && !igmp_control_group(a) && std::count(a.begin() + 4, a.end(), 0) == 12)
            groups_.push_back(a);
    for (const IgmpDest& d : dests) queried_ |= d.slot < slot_addr.size() && is(slot_addr[d.slot], kAllSystems);
}

int IgmpSender::receiver(const std::array<uint8_t, 16>& dst, uint64_t stream) const {
    std::vector<uint32_t> w;
    for (const IgmpDest& d : dests_) {
        if (d.slot < slot_addr_.size() && slot_addr_[d.slot] == dst) return -1;
        w.push_back(d.packets);
    }
    if (w.empty()) return -1;
    Rng rng(stream);
    return dests_[rng.pick(w)].slot;
}

int IgmpSender::sender(const std::array<uint8_t, 16>& dst) const {
    for (const IgmpDest& d : dests_)
        if (d.slot < slot_addr_.size() && slot_addr_[d.slot] == dst) return d.sender < slot_addr_.size() ? d.sender : -1;
    return -1;
}

void IgmpSender::message(PacketRecord& r, uint64_t flow_offset, uint32_t j) const {
    for (const IgmpDest& d : dests_)
        if (d.slot < slot_addr_.size() && slot_addr_[d.slot] == r.dst) r.ip_len = d.ip_len;
    set_igmp_message(r, groups_, flow_offset + j, queried_);
}

}  // namespace dgc::trainer
