#include "trainer/nonip_frames.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "codec/address_class.h"
#include "trainer/arp_roles.h"
#include "trainer/rng.h"

namespace dgc::trainer {

namespace {

constexpr std::array<uint8_t, 6> kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Which ranked hosts ARP frames are between. Formats 6 and 7: every IPv4 host of a class
// that is not exact, equally. Format 8: the on-link ones only (no public address is ARPed
// for on a LAN whose hosts are private), busier hosts more often (a device announces
// itself; weights 1/(position+1) in rank order), and the chunk's request kinds.
struct ArpPlan {
    std::vector<size_t> hosts;
    std::vector<uint32_t> weights;
    bool weighted = false;
    uint64_t requests = 0;  // ARP request frames of the chunk (format 8; 0: no kinds to draw)
};

ArpPlan plan_arp(const ChunkSide& side) {
    ArpPlan p;
    std::vector<size_t> local;
    for (size_t k = 0; k < side.hosts.size() && k < side.host_sem.size(); ++k) {
        const auto c = static_cast<AddrClass>(side.host_sem[k].addr_class);
        if (class_version(c) != 4 || addr_class_is_exact(c)) continue;
        // Format 23: a subnet's broadcast or network address is no host's: it never ARPs.
        if (side.format >= 23 && static_cast<HostKind>(side.host_sem[k].host_kind) != HostKind::kHost) continue;
        p.hosts.push_back(k);
        if (c != AddrClass::kPublic4) local.push_back(k);
    }
    if (side.format < 8) return p;
    if (!local.empty()) p.hosts = std::move(local);
    p.weighted = true;
    for (size_t i = 0; i < p.hosts.size(); ++i) p.weights.push_back(static_cast<uint32_t>(720720 / (i + 1)));
    for (const auto& t : side.nonip_types)
        if (t.ethertype == 0x0806 && t.arp_op == 1) p.requests += t.count;
    return p;
}

// Format 61: the gateway an on-link host ARPs for when the chunk ranks no other on-link host
// (the gateway's own address rarely carries IP: dnscap's container asked 172.17.42.1, which
// sent none, and format 60 had it ask and answer itself). Its MAC is the one the chunk's
// public hosts are seen behind most (their slot's synthetic MAC); its address, in `host`'s
// synthetic /24, the first of .1, .254, .2, .3, ... that no ranked host has. None where no
// public host is behind a MAC other than `host`'s.
std::optional<std::pair<std::array<uint8_t, 16>, std::array<uint8_t, 6>>> arp_gateway(
    const ChunkSide& side, size_t host, std::span<const std::array<uint8_t, 16>> slot_addr,
    std::span<const std::array<uint8_t, 6>> slot_mac) {
    std::map<uint16_t, std::pair<uint32_t, size_t>> behind;  // MAC id -> (public hosts, first slot)
    for (size_t k = 0; k < side.host_sem.size() && k < slot_mac.size(); ++k) {
        const HostSemantics& h = side.host_sem[k];
        if (static_cast<AddrClass>(h.addr_class) != AddrClass::kPublic4 || h.mac == 0 || h.mac == side.host_sem[host].mac) continue;
        auto& [n, first] = behind.try_emplace(h.mac, 0, k).first->second;
        ++n;
    }
    if (behind.empty()) return std::nullopt;
    const auto most = std::max_element(behind.begin(), behind.end(),
                                       [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
    std::array<uint8_t, 16> addr = slot_addr[host];
    auto taken = [&](uint8_t last) {
        addr[3] = last;
        return std::find(slot_addr.begin(), slot_addr.end(), addr) != slot_addr.end();
    };
    if (taken(1) && taken(254))
        for (uint8_t last = 2; last < 254 && taken(last); ++last) {}
    return std::pair{addr, slot_mac[most->second.second]};
}

}  // namespace

void append_nonip_frames(const ChunkSide& side, std::span<const std::array<uint8_t, 16>> ranked_addr,
                         std::span<const std::array<uint8_t, 6>> ranked_mac, uint64_t seed, std::vector<PacketRecord>& out) {
    const int64_t t_end = side.t0 + side.span;
    const bool ethernet = side.linktype == 1;
    if (side.nonip_packets && !side.nonip_types.empty()) {
        Rng rng(mix64(seed ^ 0x4E4F4E4950ULL));
        std::vector<uint32_t> w;
        for (const auto& t : side.nonip_types) w.push_back(t.count);
        // Format 63: frame types drawn without replacement, each as often as the chunk sent it
        // (frames past the kept types' counts at their shares): drawn with replacement,
        // dnscap's 5 ARP requests and 5 replies came back as 8 and 2.
        std::vector<uint32_t> w_left = side.format >= 63 ? w : std::vector<uint32_t>{};
        auto draw_type = [&] {
            const bool left = std::any_of(w_left.begin(), w_left.end(), [](uint32_t n) { return n > 0; });
            const size_t i = rng.pick(left ? w_left : w);
            if (left) --w_left[i];
            return i;
        };
        const ArpPlan arp = plan_arp(side);
        // Format 61: with one on-link host, its gateway stands in the slot after the ranked ones.
        std::vector<std::array<uint8_t, 16>> slot_addr(ranked_addr.begin(), ranked_addr.end());
        std::vector<std::array<uint8_t, 6>> slot_mac(ranked_mac.begin(), ranked_mac.end());
        std::optional<size_t> gateway;
        if (side.format >= 61 && arp.hosts.size() == 1)
            if (const auto g = arp_gateway(side, arp.hosts[0], ranked_addr, ranked_mac)) {
                gateway = slot_addr.size();
                slot_addr.push_back(g->first), slot_mac.push_back(g->second);
            }
        const bool v23 = side.format >= 23, v37 = side.format >= 37;
        // Format 37: each frame's hosts from the chunk's ARP roles, where they cover its kind.
        std::array<uint64_t, kArpKinds> kind_frames{};
        kind_frames[kArpAnnouncement] = side.arp_gratuitous, kind_frames[kArpProbe] = side.arp_probes;
        kind_frames[kArpRequest] = arp.requests - std::min<uint64_t>(arp.requests, uint64_t{side.arp_gratuitous} + side.arp_probes);
        for (const auto& t : side.nonip_types)
            if (t.ethertype == 0x0806 && t.arp_op == 2) kind_frames[kArpReply] += t.count;
        auto role_of = [&](ArpKind kind) { return v37 ? draw_arp_role(side.arp_roles, kind, kind_frames[kind], rng) : nullptr; };
        // Format 37: request frames' kinds drawn without replacement, so that the requests a
        // waiting reply asks for come out of the chunk's count rather than on top of it
        // (format 23 drew each at the chunk's shares: ultraloq's week had 253 requests for 193).
        // Once the counts are spent (the frame types are drawn with replacement), at their shares.
        const std::array<uint32_t, 3> kinds_all = {static_cast<uint32_t>(kind_frames[kArpAnnouncement]),
                                                   static_cast<uint32_t>(kind_frames[kArpProbe]),
                                                   static_cast<uint32_t>(kind_frames[kArpRequest])};
        std::array<uint32_t, 3> kinds_left = kinds_all;
        auto request_kind = [&](bool forced) {
            static constexpr ArpKind kOf[3] = {kArpAnnouncement, kArpProbe, kArpRequest};
            const bool any = kinds_left[0] || kinds_left[1] || kinds_left[2];
            const size_t i = forced ? 2 : rng.pick(any ? kinds_left : kinds_all);
            if (kinds_left[i]) --kinds_left[i];
            return kOf[i];
        };
        // A role's frame goes to its target's MAC at the role's unicast share, else to broadcast.
        auto role_eth_dst = [&](const ArpRole& role) {
            return rng.below(role.frames) < role.unicast ? slot_mac[role.target] : kBroadcastMac;
        };
        auto arp_host = [&] { return arp.hosts[arp.weighted ? rng.pick(arp.weights) : rng.below(arp.hosts.size())]; };
        // Format 23: the requests that asked another host and got no reply yet, latest last.
        struct Asked {
            size_t sender = 0, target = 0;
            int64_t t = 0;
        };
        std::vector<Asked> pending;
        std::vector<size_t> waiting;  // format 23: replies (in `out`) drawn before any request they could answer
        for (int b = 0; b < kTimeBuckets; ++b) {
            const int64_t lo = bucket_first(b, side.t0, side.span);
            const int64_t hi = std::max(lo, bucket_last(b, side.t0, side.span));
            for (uint32_t k = 0; k < side.nonip_per_bucket[b]; ++k) {
                const auto& t = side.nonip_types[draw_type()];
                PacketRecord r;
                r.t_ns = std::min(rng.between(lo, hi), t_end);
                r.linktype = static_cast<uint16_t>(side.linktype);
                r.ethertype = t.ethertype;
                r.wirelen = t.wirelen;
                r.caplen = t.caplen;
                if (t.ethertype == 0x0806 && t.arp_op && ethernet && !arp.hosts.empty()) {
                    size_t a = arp_host(), c = arp_host();
                    // Format 23: a host asks another host, and a reply answers the latest
                    // request still unanswered, from the host asked, right after it (the
                    // chunk's frames per bucket stand but for such a reply, which follows
                    // its request).
                    for (int tries = 0; v23 && c == a && arp.hosts.size() > 1 && tries < 16; ++tries) c = arp_host();
                    if (gateway) c = *gateway;
                    const ArpRole* reply_role = nullptr;
                    if (v23 && t.arp_op == 2) {
                        if (pending.empty()) {
                            if ((reply_role = role_of(kArpReply))) a = reply_role->sender, c = reply_role->target;
                            waiting.push_back(out.size());
                        } else {
                            a = pending.back().target, c = pending.back().sender;
                            r.t_ns = std::min(pending.back().t + rng.between(100'000, 2'000'000), t_end);
                            pending.pop_back();
                        }
                    }
                    r.arp_op = t.arp_op;
                    r.src = slot_addr[a], r.dst = slot_addr[c];
                    r.eth_src = slot_mac[a];
                    r.eth_dst = t.arp_op == 1 ? kBroadcastMac : slot_mac[c];
                    if (reply_role) r.eth_dst = role_eth_dst(*reply_role);
                    if (t.arp_op == 1 && arp.requests) {
                        // Format 8: announcements and probes at the chunk's shares.
                        // Format 23: a request that a reply drawn earlier waits for asks.
                        const bool forced = v23 && !waiting.empty() && a != c;
                        ArpKind kind = kArpRequest;
                        if (v37) {
                            kind = request_kind(forced);
                        } else {
                            const uint64_t u = forced ? arp.requests : rng.below(arp.requests);
                            kind = u < side.arp_gratuitous                                  ? kArpAnnouncement
                                   : u < uint64_t{side.arp_gratuitous} + side.arp_probes ? kArpProbe
                                                                                          : kArpRequest;
                        }
                        const ArpRole* role = role_of(kind);
                        if (role) {
                            a = role->sender, c = role->target;
                            r.src = slot_addr[a], r.dst = slot_addr[c], r.eth_src = slot_mac[a];
                            r.eth_dst = role_eth_dst(*role);
                        }
                        if (kind == kArpAnnouncement) {
                            // Format 23: from the busiest on-link host. In the four dev traces
                            // that announce (three IoT hubs, gnutella), one host sends them all.
                            if (v23 && !role) r.src = slot_addr[arp.hosts[0]], r.eth_src = slot_mac[arp.hosts[0]];
                            r.dst = r.src;
                        } else if (kind == kArpProbe) {
                            if (v23) r.dst = r.src;  // a probe asks for the address its sender is to take
                            r.src = {};
                        } else if (v23 && a != c && !waiting.empty()) {
                            // A reply drawn earlier answers this request instead.
                            PacketRecord& reply = out[waiting.back()];
                            waiting.pop_back();
                            reply.t_ns = std::min(r.t_ns + rng.between(100'000, 2'000'000), t_end);
                            reply.src = slot_addr[c], reply.dst = slot_addr[a];
                            reply.eth_src = slot_mac[c], reply.eth_dst = slot_mac[a];
                        } else if (v23 && a != c) {
                            pending.push_back({a, c, r.t_ns});
                        }
                    }
                }
                out.push_back(r);
            }
        }
    }
}

}  // namespace dgc::trainer
