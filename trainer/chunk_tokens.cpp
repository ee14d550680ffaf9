#include "trainer/chunk_tokens.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

#include "codec/fidelity/binning.h"
#include "codec/address_class.h"
#include "codec/flows.h"
#include "trainer/broadcast_hosts.h"
#include "trainer/chunk_semantics.h"
#include "trainer/edge_connections.h"
#include "trainer/few_counts.h"
#include "trainer/gateway_twins.h"
#include "trainer/icmp_kind_flows.h"
#include "trainer/icmp_senders.h"
#include "trainer/key_hash.h"
#include "trainer/rng.h"
#include "trainer/superseded_connections.h"
#include "trainer/syn_attempts.h"
#include "trainer/tcp_roles.h"

namespace dgc::trainer {

uint64_t ChunkSide::flows() const { return std::accumulate(flow_starts.begin(), flow_starts.end(), uint64_t{0}); }

int pkts_class(uint64_t n) {
    if (n <= 1) return 0;
    int k = 63 - __builtin_clzll(n);
    int half = (n - (uint64_t{1} << k)) >= (uint64_t{1} << (k - 1)) ? 1 : 0;
    return std::min(2 * k - 1 + half, kPktClasses - 1);
}

std::pair<uint64_t, uint64_t> pkts_class_range(int c) {
    if (c <= 0) return {1, 1};
    int k = (c + 1) / 2;
    uint64_t base = uint64_t{1} << k, half = uint64_t{1} << (k - 1);
    return (c % 2 == 1) ? std::pair{base, base + half - 1} : std::pair{base + half, 2 * base - 1};
}

int len_class(uint32_t ip_len) { return static_cast<int>(std::min<uint32_t>(ip_len / 16, kLenClasses - 1)); }

namespace {
constexpr int64_t kContGapUnit = 16'000'000;  // 16 ms
}

int cont_gap_class(int64_t excess_ns) {
    if (excess_ns < kContGapUnit) return 0;
    const int k = 64 - __builtin_clzll(static_cast<uint64_t>(excess_ns / kContGapUnit));
    return std::min(k, kContGapClasses - 1);
}

std::pair<int64_t, int64_t> cont_gap_class_range(int c) {
    if (c <= 0) return {0, kContGapUnit - 1};
    return {kContGapUnit << (c - 1), (kContGapUnit << c) - 1};
}

int64_t longest_cont_excess(std::span<const uint32_t> cont_gaps) {
    const int n = std::min(static_cast<int>(cont_gaps.size()), kContGapClasses);
    for (int c = n - 1; c >= 0; --c)
        if (cont_gaps[c]) return c == kContGapClasses - 1 ? std::numeric_limits<int64_t>::max() : cont_gap_class_range(c).second;
    return std::numeric_limits<int64_t>::max();
}

int time_bucket(int64_t t, int64_t t0, int64_t span) {
    static_assert(kTimeBuckets == 100, "the time buckets are the spec's flow_start bins");
    return span <= 0 ? 0 : static_cast<int>(fidelity::flow_start_bin(t, t0, t0 + span));
}

int64_t bucket_first(int b, int64_t t0, int64_t span) {
    if (b <= 0 || span <= 0) return t0;
    const __int128 n = static_cast<__int128>(std::min(b, kTimeBuckets)) * span;
    return t0 + static_cast<int64_t>((n + kTimeBuckets - 1) / kTimeBuckets);  // ceil: the first t in bucket b
}

int64_t bucket_last(int b, int64_t t0, int64_t span) {
    return b >= kTimeBuckets - 1 ? t0 + std::max<int64_t>(span, 0) : bucket_first(b + 1, t0, span) - 1;
}

int phase_of_bucket(int bucket) { return bucket * kPhaseClasses / kTimeBuckets; }

int port_token(uint16_t port, const std::vector<uint16_t>& ranked) {
    auto it = std::find(ranked.begin(), ranked.end(), port);
    if (it != ranked.end() && it - ranked.begin() < kPortRanks) return static_cast<int>(it - ranked.begin());
    return kPortRanks + (port >> 12);
}

uint16_t host_id_of(uint8_t ip_version, const uint8_t* addr) {
    constexpr uint64_t kKey = 0xD6C1F5A3B2E49C07ULL;
    uint64_t h = mix64(kKey ^ ip_version);
    const int n = ip_version == 4 ? 4 : 16;
    for (int i = 0; i < n; i += 4) {
        uint32_t w = 0;
        for (int k = 0; k < 4; ++k) w = w << 8 | addr[i + k];
        h = mix64(h ^ w);
    }
    return static_cast<uint16_t>(h >> 48);
}

namespace {

// Values ranked by count, ties by value, at most `limit`.
template <typename K>
std::vector<K> ranked(const std::map<K, uint64_t>& counts, size_t limit) {
    std::vector<std::pair<K, uint64_t>> v(counts.begin(), counts.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<K> out;
    for (size_t i = 0; i < v.size() && i < limit; ++i) out.push_back(v[i].first);
    return out;
}

// `v` laid out as aligned_order says, when there is a parent to follow.
template <typename K>
void lay_out_like(std::vector<K>& v, const std::vector<K>* reference) {
    if (!reference) return;
    std::vector<K> out;
    for (size_t j : aligned_order(v, *reference)) out.push_back(v[j]);
    v = std::move(out);
}

uint32_t proto_key(uint8_t version, uint8_t proto, bool ports) {
    return static_cast<uint32_t>(version) << 16 | uint32_t{proto} << 8 | (ports ? 1u : 0u);
}

struct HostStats {
    uint64_t packets = 0;
    FewCounts<uint16_t> ttl_tos;  // ttl << 8 | tos, of packets it sent
    uint8_t version = 4;
};

}  // namespace

EncodedChunk encode_chunk(std::span<const PacketRecord> chunk, uint32_t linktype, const ChunkSide* like) {
    EncodedChunk enc;
    ChunkSide& s = enc.side;
    s.linktype = linktype;
    s.flow_starts.assign(kTimeBuckets, 0);
    s.tcp_starts.assign(kTimeBuckets, 0);
    s.start_packets.assign(kTimeBuckets, 0);
    s.start_gaps.assign(kDtClasses, 0);
    s.size_classes.assign(kPktClasses, 0);
    s.nonip_per_bucket.assign(kTimeBuckets, 0);
    if (chunk.empty()) return enc;
    int64_t t0 = chunk[0].t_ns, t1 = chunk[0].t_ns;
    int64_t ip0 = INT64_MAX, ip1 = INT64_MIN;
    for (const auto& r : chunk) {
        t0 = std::min(t0, r.t_ns), t1 = std::max(t1, r.t_ns);
        if (r.is_ip()) ip0 = std::min(ip0, r.t_ns), ip1 = std::max(ip1, r.t_ns);
    }
    s.t0 = t0;
    s.span = t1 - t0;
    s.ip_t0 = ip0 <= ip1 ? ip0 : t0;
    s.ip_span = ip0 <= ip1 ? ip1 - ip0 : 0;

    std::map<std::tuple<uint16_t, uint32_t, uint32_t, uint16_t>, uint64_t> nonip;
    std::unordered_map<HostKey, HostStats, KeyHash> hosts;
    std::map<uint8_t, uint64_t> flag_counts;
    for (const auto& r : chunk) {
        if (!r.is_ip()) {
            ++s.nonip_packets;
            ++s.nonip_per_bucket[time_bucket(r.t_ns, t0, s.span)];
            ++nonip[{r.ethertype, r.wirelen, r.caplen, r.arp_op}];
            if (r.ethertype == 0x0806 && r.arp_op == 1) {
                const bool probe = r.src[0] == 0 && r.src[1] == 0 && r.src[2] == 0 && r.src[3] == 0;
                s.arp_probes += probe;
                s.arp_gratuitous += !probe && std::equal(r.src.begin(), r.src.begin() + 4, r.dst.begin());
            }
            continue;
        }
        ++s.ip_packets;
        auto& src = hosts[host_key(r, true)];
        src.version = r.ip_version;
        ++src.packets;
        src.ttl_tos.add(static_cast<uint16_t>(r.ttl << 8 | r.tos));
        auto& dst = hosts[host_key(r, false)];
        dst.version = r.ip_version;
        ++dst.packets;
        if (r.proto == 6 && (r.present & kHasTcp)) ++flag_counts[r.tcp_flags];
    }
    for (const auto& [k, c] : nonip)
        s.nonip_types.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), static_cast<uint32_t>(c), std::get<3>(k)});
    std::stable_sort(s.nonip_types.begin(), s.nonip_types.end(),
                     [](const auto& a, const auto& b) { return a.count > b.count; });
    if (s.nonip_types.size() > kNonIpTypes) s.nonip_types.resize(kNonIpTypes);
    s.flags = ranked(flag_counts, kFlagNone);
    lay_out_like(s.flags, like ? &like->flags : nullptr);

    // Hosts ranked by packets; the rest share one "other" slot with a TTL/TOS histogram.
    std::vector<std::pair<HostKey, const HostStats*>> hv;
    for (const auto& [k, h] : hosts) hv.emplace_back(k, &h);
    std::sort(hv.begin(), hv.end(), [](const auto& a, const auto& b) {
        return a.second->packets != b.second->packets ? a.second->packets > b.second->packets : a.first < b.first;
    });
    const size_t n_ranked = std::min<size_t>(hv.size(), kHostSlots);
    std::vector<uint16_t> ids;  // in rank order
    for (size_t i = 0; i < n_ranked; ++i)
        ids.push_back(host_id_of(hv[i].first[0], hv[i].first.data() + 1));
    std::vector<size_t> order(n_ranked);  // slot -> rank
    std::iota(order.begin(), order.end(), size_t{0});
    if (like) order = aligned_order(ids, like->host_ids);
    std::unordered_map<HostKey, int, KeyHash> slot_of;
    std::map<uint16_t, uint64_t> other_ttl;
    std::vector<HostKey> ranked_keys, other_keys;
    for (size_t slot = 0; slot < n_ranked; ++slot) {
        const auto& [key, h] = hv[order[slot]];
        ranked_keys.push_back(key);
        slot_of[key] = static_cast<int>(slot);
        s.host_ids.push_back(ids[order[slot]]);
        uint16_t m = h->ttl_tos.mode(64 << 8);  // TTL 64 for a host that only received
        s.hosts.push_back({h->version, static_cast<uint8_t>(m >> 8), static_cast<uint8_t>(m & 0xff)});
    }
    for (size_t i = n_ranked; i < hv.size(); ++i) {
        other_keys.push_back(hv[i].first);
        ++s.other_hosts;
        for (auto [k, c] : hv[i].second->ttl_tos) other_ttl[k] += c;
    }
    for (uint16_t k : ranked(other_ttl, kOtherTtlEntries))
        s.other_ttl.push_back({static_cast<uint8_t>(k >> 8), static_cast<uint8_t>(k & 0xff),
                               static_cast<uint32_t>(other_ttl[k])});

    encode_semantics(chunk, ranked_keys, other_keys, s);

    std::vector<Flow> flows = assemble_flows(chunk);
    std::map<uint32_t, uint64_t> proto_counts;  // version << 16 | proto << 8 | ports
    std::map<uint16_t, uint64_t> port_counts;
    std::map<uint16_t, uint8_t> port_protos;
    for (const auto& f : flows) {
        const auto& r = chunk[f.packets[0]];
        proto_counts[proto_key(r.ip_version, r.proto, r.has_ports())]++;
        if (!r.has_ports()) continue;
        ++port_counts[r.sport], ++port_counts[r.dport];
        port_protos[r.sport] |= port_proto_bit(r.proto), port_protos[r.dport] |= port_proto_bit(r.proto);
    }
    std::vector<uint32_t> proto_rank = ranked(proto_counts, kProtoVocab);
    if (like) {
        std::vector<uint32_t> theirs;
        for (const auto& p : like->protos) theirs.push_back(proto_key(p.ip_version, p.proto, p.ports));
        lay_out_like(proto_rank, &theirs);
    }
    for (uint32_t p : proto_rank)
        s.protos.push_back({static_cast<uint8_t>(p >> 16), static_cast<uint8_t>((p >> 8) & 0xff), (p & 1) != 0});
    s.ports = ranked(port_counts, kPortRanks);
    lay_out_like(s.ports, like ? &like->ports : nullptr);
    for (uint16_t p : s.ports) s.port_protos.push_back(port_protos[p]);
    // Packets of the flows on each unranked port, as their client [0] and server [1] port.
    std::map<uint16_t, std::array<uint64_t, 2>> tail_mass;
    for (const auto& f : flows) {
        const auto& r = chunk[f.packets[0]];
        if (!r.has_ports()) continue;
        if (port_token(r.sport, s.ports) >= kPortRanks) tail_mass[r.sport][0] += f.packets.size();
        if (port_token(r.dport, s.ports) >= kPortRanks) tail_mass[r.dport][1] += f.packets.size();
    }
    for (const auto& [port, m] : tail_mass) enc.tail_ports.push_back({port, m[0] + m[1], m[1] > m[0]});
    std::stable_sort(enc.tail_ports.begin(), enc.tail_ports.end(),
                     [](const auto& a, const auto& b) { return a.packets > b.packets; });

    for (size_t i = 1; i < flows.size(); ++i) ++s.start_gaps[fidelity::dtbin_key(flows[i].start_ns - flows[i - 1].start_ns)];
    enc.flows.reserve(flows.size());
    enc.packets.reserve(s.ip_packets);
    for (const auto& f : flows) {
        const auto& r0 = chunk[f.packets[0]];
        FlowTokens ft;
        ft.bucket = static_cast<uint8_t>(time_bucket(f.start_ns, s.ip_t0, s.ip_span));
        ++s.flow_starts[ft.bucket];
        if (r0.proto == 6 && r0.has_ports()) ++s.tcp_starts[ft.bucket];
        s.start_packets[ft.bucket] += static_cast<uint32_t>(f.packets.size());
        const uint32_t pk = proto_key(r0.ip_version, r0.proto, r0.has_ports());
        auto pit = std::find(proto_rank.begin(), proto_rank.end(), pk);
        ft.a[kAttrPhase] = static_cast<uint8_t>(phase_of_bucket(ft.bucket));
        ft.a[kAttrProto] = static_cast<uint8_t>(pit == proto_rank.end() ? kProtoVocab - 1 : pit - proto_rank.begin());
        if (s.proto_flows.size() < s.protos.size()) s.proto_flows.resize(s.protos.size(), 0);
        ++s.proto_flows[std::min<size_t>(ft.a[kAttrProto], s.protos.size() - 1)];
        ft.a[kAttrSrvPort] = static_cast<uint8_t>(r0.has_ports() ? port_token(r0.dport, s.ports) : kPortNone);
        ft.a[kAttrCliPort] = static_cast<uint8_t>(r0.has_ports() ? port_token(r0.sport, s.ports) : kPortNone);
        auto slot = [&](const HostKey& k) {
            auto it = slot_of.find(k);
            return static_cast<uint8_t>(it == slot_of.end() ? kHostOther : it->second);
        };
        ft.a[kAttrSrvHost] = slot(host_key(r0, false));
        ft.a[kAttrCliHost] = slot(host_key(r0, true));
        ft.packets = static_cast<uint32_t>(f.packets.size());
        ft.a[kAttrPkts] = static_cast<uint8_t>(pkts_class(ft.packets));
        ++s.size_classes[ft.a[kAttrPkts]];
        ft.a[kAttrDur] = static_cast<uint8_t>(fidelity::dtbin_key(f.end_ns - f.start_ns));
        ft.first = static_cast<uint32_t>(enc.packets.size());
        ft.a[kAttrFirstFlag] = kFlagNone;
        int64_t prev = f.start_ns;
        for (uint32_t idx : f.packets) {
            const auto& r = chunk[idx];
            PacketTokens pt;
            bool from_client = (r.src == r0.src && r.sport == r0.sport);
            if (r0.src == r0.dst) from_client = (r.sport == r0.sport);
            pt.dir = from_client ? 0 : 1;
            pt.gap = static_cast<uint8_t>(fidelity::dtbin_key(r.t_ns - prev));
            prev = r.t_ns;
            pt.len = static_cast<uint8_t>(len_class(r.ip_len));
            if (r.proto == 6) {
                auto fit = std::find(s.flags.begin(), s.flags.end(), r.tcp_flags);
                pt.flag = static_cast<uint8_t>(fit == s.flags.end() ? 0 : fit - s.flags.begin());
            }
            if (idx == f.packets[0] && r.proto == 6 && r.has_ports()) ft.a[kAttrFirstFlag] = pt.flag;
            enc.packets.push_back(pt);
        }
        enc.flows.push_back(ft);
    }
    count_flow_semantics(chunk, flows, enc);
    const std::vector<TcpRun> runs = tcp_runs(chunk);
    const auto host_slot = [&](const PacketRecord& r, bool src) {
        auto it = slot_of.find(host_key(r, src));
        return it == slot_of.end() ? -1 : it->second;
    };
    find_edge_connections(chunk, runs, host_slot, s.edge_in, s.edge_out);
    const SupersedeCounts superseding = count_superseding_opens(chunk, runs);
    s.superseding_opens = superseding.closes, s.superseded_by_client = superseding.by_client;
    s.superseded_resets = superseding.resets;
    s.igmp_dests = count_igmp_dests(chunk, host_slot);
    s.bcast_host_scopes = count_bcast_host_scopes(chunk);
    s.udp_services = count_udp_services(chunk, flows, s.ports, host_slot);
    s.tcp_roles = count_tcp_roles(chunk, flows, s.hosts.size(), host_slot);
    s.tcp_port_roles = count_tcp_port_roles(chunk, flows, s.ports);
    s.arp_roles = count_arp_roles(chunk, [&](const std::array<uint8_t, 16>& ipv4) {
        PacketRecord r;
        r.ip_version = 4, r.src = ipv4;
        return host_slot(r, true);
    });
    IcmpErrorHosts error_hosts = count_icmp_error_hosts(chunk, s.icmp, host_slot);
    s.icmp_senders = std::move(error_hosts.senders), s.icmp_receivers = std::move(error_hosts.receivers);
    s.keepalives = count_keepalives(chunk);
    s.fin_resends = count_fin_resends(chunk);
    s.longest_syn_attempt = longest_syn_attempt(chunk);
    s.longest_icmp_error = longest_icmp_errors(chunk);
    s.error_flows = count_error_flows(chunk);
    s.icmp_opened = count_icmp_opened(chunk, flows, s.icmp);
    s.gap_places = measure_gap_places(chunk, flows);
    s.syn_timer = syn_resend_timer(chunk);
    s.gateway_twins = count_gateway_twins(chunk, s, host_slot);
    return enc;
}

const ProtoEntry& proto_of(const ChunkSide& side, const FlowTokens& f) {
    static const ProtoEntry kDefault{};
    return side.protos.empty() ? kDefault : side.protos[std::min<size_t>(f.a[kAttrProto], side.protos.size() - 1)];
}

std::vector<PoolPort> pool_of(const std::vector<TailPort>& tail_ports, size_t count) {
    std::vector<PoolPort> pool;
    for (size_t i = 0; i < tail_ports.size() && i < count; ++i)
        pool.push_back({tail_ports[i].port, static_cast<uint8_t>(std::min<uint64_t>(fidelity::log2bin(tail_ports[i].packets), 127)),
                        tail_ports[i].server});
    std::sort(pool.begin(), pool.end(), [](const auto& a, const auto& b) { return a.port < b.port; });
    return pool;
}

void match_group_sizes(std::vector<FlowTokens>& flows, const std::vector<GroupSizes>& groups) {
    for (const auto& g : groups) {
        std::vector<size_t> idx;
        for (size_t i = 0; i < flows.size(); ++i)
            if (size_group(flows[i]) == g.group) idx.push_back(i);
        std::vector<FlowTokens> part;
        for (size_t i : idx) part.push_back(flows[i]);
        match_size_classes(part, g.classes);
        for (size_t k = 0; k < idx.size(); ++k) flows[idx[k]] = part[k];
    }
}

void match_size_classes(std::vector<FlowTokens>& flows, const std::vector<uint32_t>& size_classes) {
    if (std::accumulate(size_classes.begin(), size_classes.end(), uint64_t{0}) != flows.size()) return;
    std::vector<size_t> order(flows.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return flows[x].packets < flows[y].packets; });
    size_t next = 0;
    for (size_t c = 0; c < size_classes.size(); ++c)
        for (uint32_t k = 0; k < size_classes[c]; ++k, ++next) {
            FlowTokens& f = flows[order[next]];
            auto [lo, hi] = pkts_class_range(static_cast<int>(c));
            f.packets = static_cast<uint32_t>(std::clamp<uint64_t>(f.packets, lo, std::min<uint64_t>(hi, UINT32_MAX)));
            f.a[kAttrPkts] = static_cast<uint8_t>(c);
        }
}

void fit_flow_sizes(std::vector<FlowTokens>& flows, uint64_t total) {
    if (flows.size() > total) flows.resize(total);
    if (flows.empty()) return;
    uint64_t sum = 0;
    for (auto& f : flows) f.packets = std::max<uint32_t>(f.packets, 1), sum += f.packets;
    // First within each flow's own size class, by largest remainder over the room each has
    // (the flow model drew its duration with that class: a 9-packet flow scaled to 7 would
    // keep a 9-packet flow's duration in the next class down).
    if (sum != total) {
        const bool grow = total > sum;
        const uint64_t need = grow ? total - sum : sum - total;
        std::vector<uint64_t> room(flows.size());
        uint64_t room_sum = 0;
        for (size_t i = 0; i < flows.size(); ++i) {
            auto [lo, hi] = pkts_class_range(pkts_class(flows[i].packets));
            hi = std::min<uint64_t>(hi, UINT32_MAX);
            room[i] = grow ? hi - flows[i].packets : flows[i].packets - std::max<uint64_t>(lo, 1);
            room_sum += room[i];
        }
        if (room_sum > 0) {
            const uint64_t move = std::min(need, room_sum);
            std::vector<std::pair<double, size_t>> rema;
            uint64_t moved = 0;
            for (size_t i = 0; i < flows.size(); ++i) {
                const double want = static_cast<double>(room[i]) * static_cast<double>(move) / static_cast<double>(room_sum);
                const uint64_t w = std::min<uint64_t>(room[i], static_cast<uint64_t>(want));
                flows[i].packets = static_cast<uint32_t>(grow ? flows[i].packets + w : flows[i].packets - w);
                room[i] -= w, moved += w;
                rema.emplace_back(want - static_cast<double>(w), i);
            }
            std::stable_sort(rema.begin(), rema.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
            for (size_t k = 0; moved < move && k < rema.size(); ++k) {
                const size_t i = rema[k].second;
                if (room[i] == 0) continue;
                flows[i].packets += grow ? 1 : -1, --room[i], ++moved;
            }
            sum = grow ? sum + moved : sum - moved;
        }
    }
    if (sum == total) {
        for (auto& f : flows) f.a[kAttrPkts] = static_cast<uint8_t>(pkts_class(f.packets));
        return;
    }
    // Largest-remainder apportionment of `total - flows` extra packets by (size - 1).
    uint64_t extra_target = total - flows.size();
    uint64_t extra_have = sum - flows.size();
    std::vector<std::pair<double, size_t>> rema;
    uint64_t assigned = 0;
    for (size_t i = 0; i < flows.size(); ++i) {
        uint64_t e = std::max<uint32_t>(flows[i].packets, 1) - 1;
        double want = extra_have ? static_cast<double>(e) * static_cast<double>(extra_target) / static_cast<double>(extra_have)
                                 : static_cast<double>(extra_target) / static_cast<double>(flows.size());
        uint64_t w = static_cast<uint64_t>(want);
        flows[i].packets = static_cast<uint32_t>(1 + w);
        assigned += w;
        rema.emplace_back(want - static_cast<double>(w), i);
    }
    std::stable_sort(rema.begin(), rema.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t k = 0; assigned < extra_target; k = (k + 1) % rema.size(), ++assigned) ++flows[rema[k].second].packets;
    for (auto& f : flows) f.a[kAttrPkts] = static_cast<uint8_t>(pkts_class(f.packets));
}

}  // namespace dgc::trainer
