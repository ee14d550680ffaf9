// The record generator of chunk-model format 5 (builds up to 2e332fa), frozen: a stored
// format-5 model must regenerate the bytes it regenerated when it was written (design
// invariant 6; tests/golden pins it). Do not change this file; a better generator is a new
// format version (trainer/synth_records.cpp).
#include "trainer/legacy/synth_records_v5.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "trainer/rng.h"
#include "trainer/synth_records.h"

namespace dgc::trainer::legacy {

namespace {
// Moves the earliest (or latest) IP (or non-IP) record to `t`, when `when`.
void pin_extreme(std::vector<PacketRecord>& out, bool ip, bool latest, int64_t t, bool when) {
    if (!when) return;
    PacketRecord* pick = nullptr;
    for (auto& r : out)
        if (r.is_ip() == ip && (!pick || (latest ? r.t_ns > pick->t_ns : r.t_ns < pick->t_ns))) pick = &r;
    if (pick) pick->t_ns = t;
}


constexpr uint64_t kSlotSalt = 0x51075107ULL;
// The spec ends a flow at a gap of more than 60 s; generated in-flow gaps stay at or below it.
constexpr int64_t kMaxFlowGap = 60'000'000'000;

std::array<uint8_t, 16> synth_address(uint64_t h, uint8_t version) {
    std::array<uint8_t, 16> a{};
    if (version == 4) {
        uint8_t first = static_cast<uint8_t>(1 + h % 223);
        if (first == 127 || first == 10) first = 100;
        a[0] = first;
        a[1] = static_cast<uint8_t>(h >> 16);
        a[2] = static_cast<uint8_t>(h >> 24);
        a[3] = static_cast<uint8_t>(1 + (h >> 32) % 254);
    } else {
        // 2001:db8::/32, the documentation prefix: visibly synthetic.
        a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
        uint64_t x = h;
        for (int i = 4; i < 16; ++i) {
            if (i == 10) x = mix64(h);
            a[i] = static_cast<uint8_t>(x), x >>= 8;
        }
    }
    return a;
}

uint32_t link_header_len(uint32_t linktype) {
    switch (linktype) {
        case 1: return 14;
        case 0: case 108: return 4;
        case 113: return 16;
        case 276: return 20;
        default: return 0;
    }
}

uint16_t port_of(int token, const std::vector<uint16_t>& ranked, Rng& rng) {
    if (token < kPortRanks && token < static_cast<int>(ranked.size())) return ranked[token];
    if (token >= kPortRanks && token < kPortNone) {
        uint32_t base = static_cast<uint32_t>(token - kPortRanks) << 12;
        return static_cast<uint16_t>(std::max<uint32_t>(1, base + rng.below(4096)));
    }
    return static_cast<uint16_t>(49152 + rng.below(16384));
}

struct Endpoint {
    std::array<uint8_t, 16> addr{};
    uint16_t port = 0;
    uint8_t ttl = 64, tos = 0;
    uint16_t window = 0;
    uint32_t next_seq = 0;
};

// The spec's flow key (protocol and the unordered endpoint pair), hashed.
uint64_t flow_key(uint8_t proto, const Endpoint& a, const Endpoint& b) {
    auto one = [](const Endpoint& e) {
        uint64_t h = e.port;
        for (int i = 0; i < 16; i += 8) {
            uint64_t w = 0;
            for (int k = 0; k < 8; ++k) w = w << 8 | e.addr[i + k];
            h = mix64(h ^ w);
        }
        return h;
    };
    const uint64_t x = one(a), y = one(b);
    return mix64(std::min(x, y) ^ mix64(std::max(x, y) ^ proto));
}

}  // namespace

std::vector<PacketRecord> synthesize_records_v5(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                                const std::vector<PacketTokens>& packets, uint64_t seed) {
    std::vector<PacketRecord> out;
    out.reserve(side.ip_packets + side.nonip_packets);
    const int64_t t_end = side.t0 + side.span, ip_end = side.ip_t0 + side.ip_span;
    const uint32_t lhl = link_header_len(side.linktype);
    std::vector<uint32_t> other_w;
    for (const auto& t : side.other_ttl) other_w.push_back(t.count);

    // One address hash per ranked host slot: from the host's id when the side has one, so a
    // host keeps its synthetic address across the chunks of a trace; two slots that share an
    // id inside this chunk are told apart by their slot.
    std::vector<uint64_t> slot_hash(side.hosts.size());
    for (size_t k = 0; k < slot_hash.size(); ++k) {
        if (k < side.host_ids.size()) {
            slot_hash[k] = mix64(kSlotSalt ^ side.host_ids[k]);
            for (size_t m = 0; m < k; ++m)
                if (side.host_ids[m] == side.host_ids[k]) slot_hash[k] = mix64(slot_hash[k] ^ (seed + k));
        } else {
            slot_hash[k] = mix64(seed ^ kSlotSalt ^ static_cast<uint64_t>(k));
        }
    }

    // Unranked hosts: a pool of exactly side.other_hosts addresses. Each "other" endpoint
    // takes a fresh pool address with the share of fresh addresses still unused among the
    // endpoints still to come, else one already in use: the chunk gets the real number of
    // distinct hosts, and a tail host may serve several flows as real ones do.
    uint64_t other_left = 0;
    for (const auto& f : flows)
        for (int col : {kAttrCliHost, kAttrSrvHost}) other_left += f.a[col] >= static_cast<int>(side.hosts.size());
    uint64_t fresh_left = side.other_hosts ? std::min<uint64_t>(side.other_hosts, other_left) : other_left;
    uint64_t pool_used = 0;
    Rng pool_rng(mix64(seed ^ 0x9001ULL));
    auto other_hash = [&]() {
        const bool fresh = pool_used == 0 || (fresh_left && pool_rng.below(other_left) < fresh_left);
        const uint64_t idx = fresh ? pool_used++ : pool_rng.below(pool_used);
        if (fresh && fresh_left) --fresh_left;
        if (other_left) --other_left;
        return mix64(seed ^ (idx << 1) ^ 0x0743E4ULL);
    };
    // A pool host keeps one TTL/TOS over all its flows, drawn from the unranked hosts' mix.
    auto other_ttl_of = [&](uint64_t h) -> const TtlTos& {
        Rng r(mix64(h ^ 0x77CULL));
        return side.other_ttl[r.pick(other_w)];
    };

    const std::vector<int64_t> starts = flow_start_times(side, flows, seed);
    const std::vector<std::array<int32_t, 2>> pool_pick = assign_pool_ports(side, flows);
    std::unordered_map<uint64_t, int64_t> key_end;  // flow key hash -> last packet time so far
    for (size_t fi = 0; fi < flows.size(); ++fi) {
        const FlowTokens& f = flows[fi];
        Rng rng(mix64(seed ^ (fi * 0x9e3779b97f4a7c15ULL)));
        const ProtoEntry& pe = proto_of(side, f);
        Endpoint ep[2];
        for (int d = 0; d < 2; ++d) {
            int slot = f.a[d == 0 ? kAttrCliHost : kAttrSrvHost];
            uint64_t h = (slot < static_cast<int>(side.hosts.size())) ? slot_hash[slot] : other_hash();
            ep[d].addr = synth_address(h, pe.ip_version);
            if (slot < static_cast<int>(side.hosts.size())) {
                ep[d].ttl = side.hosts[slot].ttl, ep[d].tos = side.hosts[slot].tos;
            } else if (!side.other_ttl.empty()) {
                const auto& t = other_ttl_of(h);
                ep[d].ttl = t.ttl, ep[d].tos = t.tos;
            }
            ep[d].port = !pe.ports              ? 0
                         : pool_pick[fi][d] >= 0 ? side.pool[pool_pick[fi][d]].port
                                                 : port_of(f.a[d == 0 ? kAttrCliPort : kAttrSrvPort], side.ports, rng);
            ep[d].window = static_cast<uint16_t>(1024 + rng.below(64000));
            ep[d].next_seq = static_cast<uint32_t>(rng.next());
        }
        if (ep[0].addr == ep[1].addr && ep[0].port == ep[1].port) ep[1].addr[3] ^= 1;

        // The generated gaps stand when they add up to the duration class the flow model
        // drew with the flow's size; otherwise they move to the nearest duration in that
        // class (the packet model alone spreads a flow's length over neighbouring classes;
        // the flow model keeps the (packets, duration) pairing). A gap never exceeds the 60 s
        // that would split the flow. A flow that would run past the chunk's end starts
        // earlier, and is compressed only when it is longer than the chunk.
        int64_t start = starts[fi];
        const uint32_t n = f.packets;
        std::vector<int64_t> cum(n, 0);
        for (uint32_t j = 1; j < n; ++j) cum[j] = std::min(sample_dt(packets[f.first + j].gap, rng.next()), kMaxFlowGap);
        if (n >= 2) {
            auto [lo, hi] = dt_class_bounds(f.a[kAttrDur]);
            hi = std::min<int64_t>(hi, kMaxFlowGap * (n - 1));
            fit_gaps_to_duration(cum, std::min(lo, hi), hi, kMaxFlowGap);
        }
        for (uint32_t j = 1; j < n; ++j) cum[j] += cum[j - 1];
        const int64_t total = n ? cum[n - 1] : 0;
        double scale = 1.0;
        if (start + total > ip_end) {
            start = std::max(side.ip_t0, ip_end - total);
            if (start + total > ip_end) scale = static_cast<double>(ip_end - start) / static_cast<double>(total);
        }
        // Flows that share a key (a long connection the 60 s rule cuts into several flows,
        // as IoT keep-alives are) must stay more than 60 s apart or they would read as one:
        // a flow that comes too close to its key's previous one starts later when it still
        // fits the chunk, and otherwise takes a fresh client port.
        if (scale == 1.0) {
            for (int attempt = 0; attempt < 2; ++attempt) {
                auto it = key_end.find(flow_key(pe.proto, ep[0], ep[1]));
                if (it == key_end.end() || start > it->second + kMaxFlowGap) break;
                const int64_t later = it->second + kMaxFlowGap + 1 + rng.between(0, kMaxFlowGap / 4);
                if (later + total <= ip_end) {
                    start = later;
                    break;
                }
                if (!pe.ports || attempt) break;
                ep[0].port = static_cast<uint16_t>(49152 + rng.below(16384));
            }
        }
        key_end[flow_key(pe.proto, ep[0], ep[1])] = start + static_cast<int64_t>(std::llround(static_cast<double>(total) * scale));

        const bool tcp = pe.proto == 6 && pe.ports, udp = pe.proto == 17 && pe.ports;
        const bool icmp = pe.proto == 1 || pe.proto == 58;
        const uint32_t ip_hdr = pe.ip_version == 4 ? 20 : 40;
        const uint32_t l4_min = tcp ? 20 : (udp || icmp) ? 8 : 0;
        uint16_t ip_id = static_cast<uint16_t>(rng.next());
        for (uint32_t j = 0; j < n; ++j) {
            const PacketTokens& pt = packets[f.first + j];
            PacketRecord r;
            r.t_ns = start + (scale == 1.0 ? cum[j] : static_cast<int64_t>(std::llround(static_cast<double>(cum[j]) * scale)));
            Endpoint& s = ep[pt.dir & 1];
            Endpoint& d = ep[(pt.dir & 1) ^ 1];
            r.linktype = static_cast<uint16_t>(side.linktype);
            r.ip_version = pe.ip_version;
            r.ethertype = pe.ip_version == 4 ? 0x0800 : 0x86dd;
            r.present = kHasIp;
            r.src = s.addr, r.dst = d.addr;
            r.proto = pe.proto;
            uint32_t len = static_cast<uint32_t>(pt.len) * 16 + static_cast<uint32_t>(rng.below(16));
            r.ip_len = std::clamp<uint32_t>(len, ip_hdr + l4_min, 65535);
            r.ttl = s.ttl, r.tos = s.tos;
            // An IPv6 record's ip_id is its fragment header's id: only fragments carry one.
            const bool fragment = !pe.ports && (pe.proto == 6 || pe.proto == 17);
            r.ip_id = (pe.ip_version == 4 || fragment) ? ip_id++ : 0;
            if (pe.ports) {
                r.present |= kHasPorts;
                r.sport = s.port, r.dport = d.port;
            } else if (fragment) {
                r.frag_offset = static_cast<uint16_t>(185);  // a non-first fragment carries no ports
            }
            if (tcp) {
                r.present |= kHasTcp;
                r.df = true;
                r.tcp_flags = side.flags.empty() ? 0x10 : side.flags[std::min<size_t>(pt.flag, side.flags.size() - 1)];
                r.window = s.window;
                r.seq = s.next_seq;
                if (r.tcp_flags & 0x10) r.ack = d.next_seq;
                uint32_t payload = r.ip_len - ip_hdr - 20;
                s.next_seq += payload + ((r.tcp_flags & 0x02) ? 1 : 0) + ((r.tcp_flags & 0x01) ? 1 : 0);
            } else if (udp) {
                r.present |= kHasUdp;
                r.udp_len = static_cast<uint16_t>(r.ip_len - ip_hdr);
            } else if (icmp) {
                r.present |= kHasIcmp;
                bool v6 = pe.proto == 58;
                r.icmp_type = static_cast<uint8_t>(pt.dir == 0 ? (v6 ? 128 : 8) : (v6 ? 129 : 0));
            }
            r.wirelen = lhl + r.ip_len;
            r.caplen = r.wirelen;
            out.push_back(r);
        }
    }

    // Non-IP frames: exact count per time bucket, type/size drawn from the chunk's own mix.
    if (side.nonip_packets && !side.nonip_types.empty()) {
        Rng rng(mix64(seed ^ 0x4E4F4E4950ULL));
        std::vector<uint32_t> w;
        for (const auto& t : side.nonip_types) w.push_back(t.count);
        for (int b = 0; b < kTimeBuckets; ++b) {
            const int64_t lo = bucket_first(b, side.t0, side.span);
            const int64_t hi = std::max(lo, bucket_last(b, side.t0, side.span));
            for (uint32_t k = 0; k < side.nonip_per_bucket[b]; ++k) {
                const auto& t = side.nonip_types[rng.pick(w)];
                PacketRecord r;
                r.t_ns = std::min(rng.between(lo, hi), t_end);
                r.linktype = static_cast<uint16_t>(side.linktype);
                r.ethertype = t.ethertype;
                r.wirelen = t.wirelen;
                r.caplen = t.caplen;
                out.push_back(r);
            }
        }
    }
    // The chunk's exact time spans are side information: the first and last IP packets go
    // to the IP span's ends (the metrics' time grid is theirs), and a non-IP frame to each
    // end of the whole span that lies outside it.
    pin_extreme(out, true, false, side.ip_t0, side.ip_packets);
    pin_extreme(out, true, true, ip_end, side.ip_packets);
    pin_extreme(out, false, false, side.t0, side.t0 < side.ip_t0 || !side.ip_packets);
    pin_extreme(out, false, true, t_end, t_end > ip_end || !side.ip_packets);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; });
    return out;
}

}  // namespace dgc::trainer::legacy
