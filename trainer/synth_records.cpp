#include "trainer/synth_records.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <unordered_map>

#include "codec/fidelity/binning.h"
#include "trainer/rng.h"

namespace dgc::trainer {

int64_t sample_dt(int dt_class, uint64_t random) {
    if (dt_class <= 0) return 0;
    const auto& e = fidelity::dt_edges();
    int idx = std::min(dt_class - 1, fidelity::kDtEdges - 1);
    double lo = static_cast<double>(idx == 0 ? 1 : e[idx]);
    double hi = static_cast<double>(idx + 1 < fidelity::kDtEdges ? e[idx + 1] : e[idx] * 10 / 8);
    if (idx == 0) lo = static_cast<double>(e[0]);
    double u = static_cast<double>(random >> 11) / 9007199254740992.0;  // [0,1)
    auto v = static_cast<int64_t>(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))));
    return std::clamp<int64_t>(v, idx == 0 ? 1 : e[idx], idx + 1 < fidelity::kDtEdges ? e[idx + 1] - 1 : v);
}

std::pair<int64_t, int64_t> dt_class_bounds(int dt_class) {
    if (dt_class <= 0) return {0, 0};
    const auto& e = fidelity::dt_edges();
    const int idx = std::min(dt_class - 1, fidelity::kDtEdges - 1);
    return {idx == 0 ? 1 : e[idx], idx + 1 < fidelity::kDtEdges ? e[idx + 1] - 1 : std::numeric_limits<int64_t>::max() / 4};
}

void fit_gaps_to_duration(std::vector<int64_t>& gaps, int64_t lo, int64_t hi, int64_t cap) {
    if (gaps.size() < 2) return;
    int64_t total = 0;
    for (size_t j = 1; j < gaps.size(); ++j) total += gaps[j];
    if (total >= lo && total <= hi) return;
    // Targets keep clear of the class edges: a capture written in microseconds rounds a
    // time that sits on an edge into the neighbouring class.
    const int64_t target = std::clamp(total, lo + (hi - lo) / 8, hi - (hi - lo) / 8);
    // First within each gap's own dtbin class: the gap mix stays exactly as drawn.
    std::vector<int64_t> room(gaps.size(), 0);
    int64_t room_sum = 0;
    for (size_t j = 1; j < gaps.size(); ++j) {
        auto [glo, ghi] = dt_class_bounds(static_cast<int>(fidelity::dtbin_key(gaps[j])));
        ghi = std::min(ghi, cap);
        const int64_t margin = (ghi - glo) / 8;
        room[j] = std::max<int64_t>(0, target > total ? ghi - margin - gaps[j] : gaps[j] - glo - margin);
        room_sum += room[j];
    }
    if (room_sum > 0) {
        const double frac = std::min(1.0, static_cast<double>(std::llabs(target - total)) / static_cast<double>(room_sum));
        for (size_t j = 1; j < gaps.size(); ++j) {
            const auto d = static_cast<int64_t>(static_cast<double>(room[j]) * frac);
            gaps[j] += target > total ? d : -d;
            total += target > total ? d : -d;
        }
    }
    if (total == target) return;
    // Then the largest gaps move: a longer flow stretches them (each up to `cap`), a
    // shorter one levels them down to a common ceiling.
    std::vector<size_t> order(gaps.size() - 1);
    for (size_t j = 0; j < order.size(); ++j) order[j] = j + 1;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return gaps[a] > gaps[b]; });
    if (target > total) {
        int64_t need = target - total;
        for (size_t j : order) {
            const int64_t add = std::clamp<int64_t>(cap - gaps[j], 0, need);
            gaps[j] += add, need -= add;
            if (need == 0) break;
        }
    } else {
        // The k largest gaps share what the smaller ones leave of the target; scanning k
        // down from all of them, the first share no more than the k-th largest gap is it.
        int64_t below = 0;  // sum of the gaps smaller than order[i]
        for (size_t i = order.size(); i-- > 0;) {
            const int64_t g = gaps[order[i]];
            const int64_t left = target - below, k = static_cast<int64_t>(i + 1);
            const int64_t share = left / k;
            if (share <= g) {
                const int64_t rem = left - share * k;
                for (int64_t q = 0; q < k; ++q) gaps[order[q]] = share + (q < rem ? 1 : 0);
                return;
            }
            below += g;
        }
    }
}

std::vector<uint8_t> start_buckets(const ChunkSide& side) {
    std::vector<uint8_t> out;
    for (int b = 0; b < static_cast<int>(side.flow_starts.size()); ++b)
        out.insert(out.end(), side.flow_starts[b], static_cast<uint8_t>(b));
    return out;
}

namespace {
// Moves the earliest (or latest) IP (or non-IP) record to `t`, when `when`.
void pin_extreme(std::vector<PacketRecord>& out, bool ip, bool latest, int64_t t, bool when) {
    if (!when) return;
    PacketRecord* pick = nullptr;
    for (auto& r : out)
        if (r.is_ip() == ip && (!pick || (latest ? r.t_ns > pick->t_ns : r.t_ns < pick->t_ns))) pick = &r;
    if (pick) pick->t_ns = t;
}

}  // namespace

std::vector<std::array<int32_t, 2>> assign_pool_ports(const ChunkSide& side, const std::vector<FlowTokens>& flows) {
    std::vector<std::array<int32_t, 2>> pick(flows.size(), {-1, -1});
    if (side.pool.empty()) return pick;
    // Middle of each port's mass class: what is left to hand out, per pool port.
    std::vector<double> left(side.pool.size());
    using Entry = std::pair<double, int32_t>;  // (left, -index): ties go to the lower port
    std::array<std::array<std::priority_queue<Entry>, kPortBuckets>, 2> heap;  // [server][bucket]
    for (size_t i = 0; i < side.pool.size(); ++i) {
        const int c = side.pool[i].mass_class;
        left[i] = c <= 1 ? c : (std::ldexp(1.0, c - 1) + std::ldexp(1.0, c) - 1) / 2;
        heap[side.pool[i].server][side.pool[i].port >> 12].push({left[i], -static_cast<int32_t>(i)});
    }
    std::vector<std::pair<size_t, int>> ends;  // (flow, side)
    for (size_t fi = 0; fi < flows.size(); ++fi) {
        if (!proto_of(side, flows[fi]).ports) continue;
        for (int d = 0; d < 2; ++d) {
            const int tok = flows[fi].a[d == 0 ? kAttrCliPort : kAttrSrvPort];
            if (tok >= kPortRanks && tok < kPortNone) ends.emplace_back(fi, d);
        }
    }
    std::stable_sort(ends.begin(), ends.end(),
                     [&](const auto& x, const auto& y) { return flows[x.first].packets > flows[y.first].packets; });
    for (auto [fi, d] : ends) {
        const double n = flows[fi].packets;
        auto fits = [&](const std::priority_queue<Entry>& h) { return !h.empty() && h.top().first >= n / 2; };
        // The bucket the model drew first; when that has nothing left, the same side's
        // fullest port anywhere (the bucket token is the model's guess, the pool is exact).
        auto* h = &heap[d][flows[fi].a[d == 0 ? kAttrCliPort : kAttrSrvPort] - kPortRanks];
        if (!fits(*h))
            for (auto& o : heap[d])
                if (fits(o) && (!fits(*h) || o.top() > h->top())) h = &o;
        if (!fits(*h)) continue;
        const int32_t i = -h->top().second;
        h->pop();
        pick[fi][d] = i;
        left[i] -= n;
        if (left[i] >= 0.5) h->push({left[i], -i});
    }
    return pick;
}

namespace {

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

std::vector<uint32_t> rate_matched_gaps(const std::vector<uint32_t>& hist, double mean_gap) {
    constexpr double kScale = 1024;
    std::vector<double> value(hist.size(), 0);
    double n = 0, sum = 0;
    for (size_t k = 1; k < hist.size(); ++k) {
        auto [lo, hi] = dt_class_bounds(static_cast<int>(k));
        const double l = static_cast<double>(lo), h = static_cast<double>(std::max(hi, lo + 1));
        value[k] = (h - l) / std::log(h / l);  // mean of the log-uniform draw sample_dt makes
    }
    for (size_t k = 0; k < hist.size(); ++k) n += hist[k], sum += hist[k] * value[k];
    std::vector<uint32_t> w(hist.size(), 0);
    if (n == 0) return w;
    // From the short end when the stretch is busier than the chunk, else from the long end;
    // classes join until the running mean passes the target.
    const bool busy = mean_gap <= sum / n;
    double cn = 0, cs = 0;
    for (size_t i = 0; i < hist.size(); ++i) {
        const size_t k = busy ? i : hist.size() - 1 - i;
        if (!hist[k]) continue;
        const double nn = cn + hist[k], ns = cs + hist[k] * value[k];
        const bool passes = busy ? ns / nn >= mean_gap : ns / nn <= mean_gap;
        if (passes && cn > 0) {
            // Part of this class: (cs + x·v) / (cn + x) = mean_gap.
            const double x = std::clamp((mean_gap * cn - cs) / (value[k] - mean_gap), 0.0, double(hist[k]));
            w[k] = static_cast<uint32_t>(std::lround(x * kScale));
            break;
        }
        w[k] = static_cast<uint32_t>(hist[k] * kScale);
        cn = nn, cs = ns;
        if (passes) break;
    }
    return w;
}

std::vector<int64_t> flow_start_times(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed) {
    std::vector<int64_t> out(flows.size(), side.ip_t0);
    Rng rng(mix64(seed ^ 0x57A27ULL));
    const bool have_gaps = std::any_of(side.start_gaps.begin(), side.start_gaps.end(), [](uint32_t c) { return c; });
    auto starts_in = [&](int b) { return b >= 0 && b < kTimeBuckets ? side.flow_starts[b] : 0u; };
    for (size_t i = 0; i < flows.size();) {
        size_t j = i;
        while (j < flows.size() && flows[j].bucket == flows[i].bucket) ++j;
        const int b = flows[i].bucket;
        const int64_t lo = bucket_first(b, side.ip_t0, side.ip_span);
        const int64_t width = std::max<int64_t>(0, bucket_last(b, side.ip_t0, side.ip_span) - lo);
        // A thin bucket between a silent one and a busier one is the edge of a burst: its
        // flows keep to the busy side at the busy neighbour's rate instead of spreading into
        // the silence. (A spike, busier than both neighbours, sits wherever it sits.) The
        // chunk's first and last buckets lean on its first and last flow.
        const uint32_t before = starts_in(b - 1), after = starts_in(b + 1);
        const uint64_t here = j - i;
        enum { kSpread, kAtStart, kAtEnd } lean = kSpread;
        if (b == 0 || (!after && before >= here)) lean = kAtStart;
        if (b == kTimeBuckets - 1 || (!before && after >= here)) lean = kAtEnd;
        const uint64_t pace = std::max<uint64_t>(here, lean == kSpread ? 0 : std::max(before, after));
        // Gaps drawn from the part of the chunk's start-gap histogram that matches that
        // rate; the group keeps its natural spacing when it fits the bucket, and is
        // compressed when not.
        std::vector<int64_t> pos(j - i + 1, 0);
        const std::vector<uint32_t> gaps =
            have_gaps ? rate_matched_gaps(side.start_gaps, static_cast<double>(width) / static_cast<double>(pace))
                      : std::vector<uint32_t>{};
        for (size_t k = 1; k < pos.size(); ++k)
            pos[k] = pos[k - 1] + (have_gaps ? sample_dt(static_cast<int>(rng.pick(gaps)), rng.next())
                                             : width / static_cast<int64_t>(pos.size()));
        const int64_t total = pos.back();
        const double scale = total > width ? static_cast<double>(width) / static_cast<double>(total) : 1.0;
        const int64_t room = std::max<int64_t>(0, width - total);
        const int64_t offset = lean == kAtStart ? 0 : lean == kAtEnd ? room : rng.between(0, room);
        for (size_t k = i; k < j; ++k)
            out[k] = lo + offset + static_cast<int64_t>(std::llround(static_cast<double>(pos[k - i]) * scale));
        i = j;
    }
    return out;
}

std::vector<PacketRecord> synthesize_records(const ChunkSide& side, const std::vector<FlowTokens>& flows,
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

}  // namespace dgc::trainer
