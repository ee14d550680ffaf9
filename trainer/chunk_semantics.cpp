#include "trainer/chunk_semantics.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "codec/address_class.h"
#include "codec/fidelity/semantics.h"
#include "trainer/few_counts.h"
#include "trainer/key_hash.h"
#include "trainer/tcp_ends.h"
#include "trainer/tcp_resend.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

namespace {

// A MAC that fronts at least this many addresses is a gateway (a host seen with its IPv4,
// IPv6 global and link-local addresses has three).
constexpr size_t kGatewayAddresses = 4;
constexpr uint64_t kLenModeMinPackets = 4;

// opens, SYN options, their length, MSS, window scale, data options, their length
using StackKey = std::tuple<bool, uint8_t, uint8_t, uint16_t, uint8_t, uint8_t, uint8_t>;

struct HostSeen {
    FewCounts<std::array<uint8_t, 6>> macs;
    FewCounts<std::tuple<uint8_t, uint8_t, uint16_t, uint8_t>> syn;  // opts, len, mss, ws
    FewCounts<std::pair<uint8_t, uint8_t>> data;                     // opts, len
};

const uint8_t* key_addr(const HostKey& k) { return k.data() + 1; }
uint8_t key_version(const HostKey& k) { return k[0]; }

}  // namespace

HostKey host_key(const PacketRecord& r, bool src) {
    HostKey k{};
    k[0] = r.ip_version;
    const auto& a = src ? r.src : r.dst;
    std::copy(a.begin(), a.begin() + (r.ip_version == 4 ? 4 : 16), k.begin() + 1);
    return k;
}

void encode_semantics(std::span<const PacketRecord> chunk, const std::vector<HostKey>& ranked,
                      const std::vector<HostKey>& others, ChunkSide& s) {
    s.format = kSideFormat;
    std::unordered_map<HostKey, HostSeen, KeyHash> seen;
    // Per MAC, its first kGatewayAddresses distinct hosts: all is_gateway asks (a SYN flood's
    // spoofed sources all come through one router's MAC).
    std::map<std::array<uint8_t, 6>, std::vector<HostKey>> mac_hosts;
    auto note_host = [&](const std::array<uint8_t, 6>& mac, const HostKey& k) {
        auto& hosts = mac_hosts[mac];
        if (hosts.size() < kGatewayAddresses && std::find(hosts.begin(), hosts.end(), k) == hosts.end()) hosts.push_back(k);
    };
    std::map<std::tuple<uint8_t, uint8_t, uint8_t>, uint64_t> icmp;
    std::vector<std::map<uint32_t, uint64_t>> lens(kLenClasses);
    constexpr std::array<uint8_t, 6> kNoMac{};
    for (const auto& r : chunk) {
        if (!r.is_ip()) continue;
        lens[len_class(r.ip_len)][r.ip_len]++;
        const HostKey sk = host_key(r, true), dk = host_key(r, false);
        auto& src = seen[sk];
        std::array<uint8_t, 6> group;
        if (r.eth_src != kNoMac) src.macs.add(r.eth_src), note_host(r.eth_src, sk);
        if (r.eth_dst != kNoMac && !group_mac(r.ip_version, r.dst.data(), group))
            seen[dk].macs.add(r.eth_dst), note_host(r.eth_dst, dk);
        if (r.proto == 6 && (r.present & kHasTcp)) {
            if (r.tcp_flags & 0x02) {
                src.syn.add({r.tcp_opts, r.tcp_opt_len, r.tcp_mss, r.tcp_wscale});
            } else if (!(r.tcp_opts & kOptSack)) {
                src.data.add({r.tcp_opts, r.tcp_opt_len});
            }
        }
        if (r.present & kHasIcmp) icmp[{r.proto, r.icmp_type, r.icmp_code}]++;
    }
    auto is_gateway = [&](const std::array<uint8_t, 6>& m) {
        auto it = mac_hosts.find(m);
        return it != mac_hosts.end() && it->second.size() >= kGatewayAddresses;
    };

    // Stacks: one per distinct (SYN options, data options) a host shows, ranked by hosts. A
    // host seen opening but never sending data sends the chunk's commonest data options.
    FewCounts<std::pair<uint8_t, uint8_t>> all_data;
    for (const auto& [k, h] : seen)
        for (const auto& [d, n] : h.data) all_data.add(d, n);
    const auto common_data = all_data.mode();
    std::map<StackKey, uint64_t> stack_hosts;
    auto stack_of = [&](const HostSeen& h) -> std::optional<StackKey> {
        if (h.syn.empty() && h.data.empty()) return std::nullopt;
        const auto [so, sl, mss, ws] = h.syn.mode();
        const auto [dopt, dl] = h.data.empty() ? common_data : h.data.mode();
        return StackKey{!h.syn.empty(), so, sl, mss, ws, dopt, dl};
    };
    for (const auto& [k, h] : seen)
        if (auto st = stack_of(h)) stack_hosts[*st]++;
    std::vector<std::pair<StackKey, uint64_t>> sv(stack_hosts.begin(), stack_hosts.end());
    // By hosts; the commonest opening stack is kept even when rarer than sixteen others (a
    // host the model makes open a connection borrows it).
    std::stable_sort(sv.begin(), sv.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    const auto opening = std::find_if(sv.begin(), sv.end(), [](const auto& e) { return std::get<0>(e.first); });
    if (opening != sv.end() && opening - sv.begin() >= kStackSlots) std::iter_swap(sv.begin() + kStackSlots - 1, opening);
    if (sv.size() > kStackSlots) sv.resize(kStackSlots);
    s.stacks.clear();
    for (const auto& [k, n] : sv) {
        auto [opens, so, sl, mss, ws, dopt, dl] = k;
        s.stacks.push_back({opens, so, sl, dopt, dl, mss, ws, static_cast<uint32_t>(n)});
    }
    auto stack_index = [&](const HostSeen& h) -> uint8_t {
        auto st = stack_of(h);
        if (!st) return 0;
        for (size_t i = 0; i < sv.size(); ++i)
            if (sv[i].first == *st) return static_cast<uint8_t>(i);
        return 0;
    };

    s.host_sem.clear();
    std::map<uint16_t, uint64_t> gateway_hosts;
    for (const auto& k : ranked) {
        HostSemantics hs;
        const uint8_t v = key_version(k);
        const uint8_t* a = key_addr(k);
        const AddrClass c = classify_address(v, a);
        hs.addr_class = static_cast<uint8_t>(c);
        hs.host_kind = static_cast<uint8_t>(host_kind_of(v, a));
        hs.subnet = subnet_id_of(v, a);
        if (addr_class_is_exact(c)) std::copy(a, a + (v == 4 ? 4 : 16), hs.exact.begin());
        auto it = seen.find(k);
        if (it != seen.end()) {
            if (!it->second.macs.empty()) {
                const auto m = it->second.macs.mode();
                hs.mac = mac_id_of(m);
                if (is_gateway(m)) gateway_hosts[hs.mac]++;
            }
            hs.stack = stack_index(it->second);
        }
        s.host_sem.push_back(hs);
    }
    std::map<std::pair<uint8_t, uint8_t>, std::pair<std::set<uint16_t>, OtherClass>> oc;
    for (const auto& k : others) {
        const uint8_t v = key_version(k);
        const uint8_t* a = key_addr(k);
        const auto c = static_cast<uint8_t>(classify_address(v, a));
        const auto kind = static_cast<uint8_t>(host_kind_of(v, a));
        auto& [subnets, o] = oc[{c, kind}];
        o.addr_class = c;
        o.host_kind = kind;
        ++o.hosts;
        subnets.insert(subnet_id_of(v, a));
        auto it = seen.find(k);
        if (it == seen.end() || it->second.macs.empty()) continue;
        const auto m = it->second.macs.mode();
        if (is_gateway(m)) {
            gateway_hosts[mac_id_of(m)]++;
        } else {
            ++o.onlink;
        }
    }
    s.other_classes.clear();
    for (auto& [c, e] : oc) {
        e.second.subnets = static_cast<uint32_t>(e.first.size());
        s.other_classes.push_back(e.second);
    }
    std::vector<std::pair<uint16_t, uint64_t>> gv(gateway_hosts.begin(), gateway_hosts.end());
    std::stable_sort(gv.begin(), gv.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    s.gateway_macs.clear();
    for (size_t i = 0; i < gv.size() && i < kGatewaySlots; ++i)
        s.gateway_macs.push_back({gv[i].first, static_cast<uint32_t>(gv[i].second)});

    std::vector<IcmpKind> iv;
    for (const auto& [k, n] : icmp) iv.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), static_cast<uint32_t>(n)});
    std::stable_sort(iv.begin(), iv.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
    if (iv.size() > kIcmpKinds) iv.resize(kIcmpKinds);
    s.icmp = std::move(iv);

    s.len_modes.assign(kLenClasses, 0);
    s.len_modes2.assign(kLenClasses, 0);
    for (int c = 0; c < kLenClasses - 1; ++c) {
        auto counts = lens[c];
        const uint8_t first = len_mode(counts, static_cast<uint32_t>(c) * 16);
        if (!first) continue;
        s.len_modes[c] = first;
        // Format 8: the next value that stands out among the rest of the class.
        counts.erase(static_cast<uint32_t>(c) * 16 + (first & 15));
        s.len_modes2[c] = len_mode(counts, static_cast<uint32_t>(c) * 16);
    }
}

uint8_t len_mode(const std::map<uint32_t, uint64_t>& counts, uint32_t base) {
    uint64_t total = 0, best = 0;
    uint32_t value = 0;
    for (auto [v, n] : counts) {
        total += n;
        if (n > best) best = n, value = v;
    }
    // Only a value that stands out is worth its byte: a third of its class, seen more
    // than a few times (fixed-size packets: bare ACKs, a protocol's fixed messages).
    if (best < kLenModeMinPackets || best * 3 < total) return 0;
    const auto share = static_cast<uint8_t>(std::clamp<uint64_t>((best * 15 + total / 2) / total, 1, 15));
    return static_cast<uint8_t>(share << 4 | (value - base));
}

namespace {

// A flow's endpoint as a key: host_key and the port (big-endian).
using EndpointKey = std::array<uint8_t, 19>;
using EndpointPair = std::pair<EndpointKey, EndpointKey>;
EndpointKey endpoint_key(const PacketRecord& r, bool src) {
    EndpointKey k{};
    const HostKey h = host_key(r, src);
    std::copy(h.begin(), h.end(), k.begin());
    const uint16_t port = src ? r.sport : r.dport;
    k[17] = static_cast<uint8_t>(port >> 8), k[18] = static_cast<uint8_t>(port);
    return k;
}

// Whether any packet after a flow's first came from the other side.
bool answered(const EncodedChunk& enc, size_t flow) {
    const FlowTokens& f = enc.flows[flow];
    for (uint32_t k = 1; k < f.packets; ++k)
        if (enc.packets[f.first + k].dir != 0) return true;
    return false;
}

// A SYN the responder refused: everything it sent carries RST, none a SYN-ACK.
bool refused_syn(std::span<const PacketRecord> chunk, const Flow& flow, uint32_t first, const EncodedChunk& enc) {
    for (size_t k = 1; k < flow.packets.size(); ++k) {
        if (enc.packets[first + k].dir == 0) continue;
        const auto& r = chunk[flow.packets[k]];
        if (!(r.present & kHasTcp) || !(r.tcp_flags & 0x04) || (r.tcp_flags & 0x02)) return false;
    }
    return true;
}

// Format 14: a handshake whose SYN-ACK (from the responder) carries timestamps.
bool agreed_timestamps(std::span<const PacketRecord> chunk, const Flow& flow, uint32_t first, const EncodedChunk& enc) {
    for (size_t k = 1; k < flow.packets.size(); ++k) {
        const auto& r = chunk[flow.packets[k]];
        if (enc.packets[first + k].dir != 0 && (r.present & kHasTcp) && (r.tcp_flags & 0x12) == 0x12)
            return (r.tcp_opts & kOptTimestamp) != 0;
    }
    return false;
}

template <typename K, typename V>
std::vector<std::pair<K, V>> pairs_of(const std::map<K, V>& m) {
    return {m.begin(), m.end()};
}

}  // namespace

std::vector<std::pair<uint8_t, uint8_t>> udp_port_partners(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                                           const std::vector<uint16_t>& ports) {
    // Per ranked port, the ports its UDP flows had at their other end (by flow).
    std::map<int, std::map<int, uint32_t>> peers;
    for (const auto& f : flows) {
        const auto& r = chunk[f.packets[0]];
        if (r.proto != 17 || !r.has_ports()) continue;
        const int a = port_token(r.sport, ports), b = port_token(r.dport, ports);
        if (a < kPortRanks) ++peers[a][b];
        if (b < kPortRanks && b != a) ++peers[b][a];
    }
    std::vector<std::pair<uint8_t, uint8_t>> out;
    for (const auto& [p, m] : peers) {
        uint32_t total = 0, best = 0;
        int q = kPortRanks;
        for (auto [k, n] : m) {
            total += n;
            if (n > best) best = n, q = k;
        }
        // Three flows or more, nine in ten to one ranked port: a fixed pair, not a service
        // that ephemeral clients happen to reach from one port.
        if (q < kPortRanks && total >= 3 && best * 10 >= total * 9)
            out.push_back({static_cast<uint8_t>(p), static_cast<uint8_t>(q)});
    }
    return out;
}

void count_flow_semantics(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows, EncodedChunk& enc) {
    ChunkSide& s = enc.side;
    std::map<uint16_t, uint32_t> unanswered, answered_udp, continued, udp_repeats;
    std::map<uint16_t, std::pair<uint32_t, uint32_t>> ends;  // group -> (FIN, RST) endings
    std::map<std::pair<uint16_t, uint8_t>, ChunkSide::TcpFates> fates;  // by (group, size class)
    std::unordered_map<EndpointPair, bool, KeyHash> udp_answered_last;  // UDP 5-tuple -> whether its latest flow was answered
    std::unordered_map<EndpointPair, int64_t, KeyHash> last_seen;  // TCP 4-tuple -> its latest flow's last packet
    s.cont_gaps.assign(kContGapClasses, 0);
    std::array<PlaceTally, kContGapClasses> cont_tally;  // format 66
    s.opening_ts.assign(kPktClasses, 0);
    for (size_t i = 0; i < flows.size(); ++i) {
        const auto& r0 = chunk[flows[i].packets[0]];
        const uint16_t group = size_group(enc.flows[i]);
        const bool several = flows[i].packets.size() >= 2;
        const EndpointKey a = endpoint_key(r0, true), b = endpoint_key(r0, false);
        const EndpointPair pair{std::min(a, b), std::max(a, b)};
        if (r0.proto == 17 && r0.has_ports()) {
            const bool now = several && answered(enc, i);
            if (now) ++answered_udp[group];
            if (auto [it, fresh] = udp_answered_last.try_emplace(pair, now); !fresh) {
                ++udp_repeats[group];
                s.udp_ephemeral_repeats += r0.sport >= kServicePortLimit;
                s.udp_lone_repeats += !several && it->second;
                ++s.udp_repeat_kinds[it->second * 2 + now];
                it->second = now;
            }
            const auto& pk = flows[i].packets;
            for (size_t k = 1; k < pk.size(); ++k)
                s.udp_late_replies += chunk[pk[k]].t_ns - chunk[pk[k - 1]].t_ns > kUdpExchangeSilenceNs &&
                                      enc.packets[enc.flows[i].first + k].dir != 0;
        }
        if (r0.proto != 6 || !(r0.present & kHasTcp)) continue;
        s.tcp_low_port_flows += r0.has_ports() && r0.sport < 1024 && r0.dport < 1024;
        const bool syn = (r0.tcp_flags & 0x12) == 0x02 && several;
        const bool silent = syn && !answered(enc, i), refused = syn && !silent && refused_syn(chunk, flows[i], enc.flows[i].first, enc);
        if (silent) ++unanswered[group];
        bool fin = false, rst = false;
        for (uint32_t idx : flows[i].packets) {
            const auto& r = chunk[idx];
            if (r.proto != 6 || !(r.present & kHasTcp)) break;
            fin |= (r.tcp_flags & 0x01) != 0, rst |= (r.tcp_flags & 0x04) != 0;
        }
        if (fin) ++ends[group].first;
        else if (rst) ++ends[group].second;
        if (silent || refused || fin || rst) {
            auto& o = fates[{group, enc.flows[i].a[kAttrPkts]}];
            o.unanswered += silent, o.refused += refused, o.fin += fin, o.rst += !fin && rst && !refused;
            o.fin_rst += fin && rst;
        }
        const auto prev = last_seen.find(pair);
        const bool again = prev != last_seen.end();
        const int64_t prev_end = again ? prev->second : 0;
        last_seen[pair] = chunk[flows[i].packets.back()].t_ns;
        if (syn) s.opening_ts[enc.flows[i].a[kAttrPkts]] += agreed_timestamps(chunk, flows[i], enc.flows[i].first, enc);
        if (r0.tcp_flags & 0x02) continue;
        ++s.midstream_tcp;
        s.midstream_ts += (r0.tcp_opts & kOptTimestamp) != 0;
        if (!again) continue;
        ++continued[group];
        const int64_t excess = r0.t_ns - prev_end - kFlowIdleTimeoutNs;
        const int c = cont_gap_class(excess);
        ++s.cont_gaps[c];
        if (c > 0) {
            const auto [lo, hi] = cont_gap_class_range(c);
            cont_tally[c].add(excess, lo, hi);
        }
    }
    for (int c = 0; c < kContGapClasses; ++c) s.cont_places[c] = cont_tally[c].place();
    s.port_partners = udp_port_partners(chunk, flows, s.ports);
    s.unanswered_syns = pairs_of(unanswered);
    for (auto [k, o] : fates) {
        o.group = k.first, o.size_class = k.second;
        s.tcp_fates.push_back(o);
    }
    s.answered_udp = pairs_of(answered_udp);
    s.continued = pairs_of(continued);
    s.udp_repeats = pairs_of(udp_repeats);
    for (auto [g, e] : ends) s.endings.push_back({g, e.first, e.second});

    // An ACK of a segment the capture missed is flagged again on every ACK until the peer
    // sends past it: what is counted is the misses, the first flagged ACK of each run.
    const fidelity::TcpAnalysis ta = fidelity::analyze_tcp(chunk);
    // Format 14: the capture's loss is a flagged segment without SYN (a SYN retry is the
    // client's, and the generator's TCP plans make those themselves).
    auto lost = [&](uint32_t i) {
        const uint8_t v = i < ta.verdict.size() ? ta.verdict[i] : static_cast<uint8_t>(fidelity::kSegNotTcp);
        return !(chunk[i].tcp_flags & kSyn) && (v == fidelity::kSegGap || v == fidelity::kSegRetrans ||
                                                v == fidelity::kSegOutOfOrder || v == fidelity::kSegAckUnseen);
    };
    std::vector<uint8_t> in_lossy(chunk.size(), 0);
    s.lossy_flows.assign(kPktClasses, 0);
    for (size_t f = 0; f < flows.size(); ++f) {
        if (chunk[flows[f].packets[0]].proto != 6 || !std::any_of(flows[f].packets.begin(), flows[f].packets.end(), lost)) continue;
        ++s.lossy_flows[enc.flows[f].a[kAttrPkts]];
        for (uint32_t i : flows[f].packets) in_lossy[i] = 1;
    }
    std::unordered_map<EndpointPair, uint8_t, KeyHash> last_verdict;  // per direction
    const std::vector<int8_t> seg_ends = tcp_segment_ends(chunk);
    const std::vector<uint8_t> spurious = acked_resends(chunk, ta.verdict);
    for (size_t i = 0; i < ta.verdict.size() && i < chunk.size(); ++i) {
        const uint8_t v = ta.verdict[i];
        if (v == fidelity::kSegNotTcp) continue;
        uint8_t& last = last_verdict[{endpoint_key(chunk[i], true), endpoint_key(chunk[i], false)}];
        const TcpLoss one{1, v == fidelity::kSegGap, v == fidelity::kSegRetrans || v == fidelity::kSegOutOfOrder,
                          v == fidelity::kSegAckUnseen && last != fidelity::kSegAckUnseen};
        s.tcp_loss += one;
        if (seg_ends[i] >= 0) {
            s.loss_ends[seg_ends[i]] += one;
            s.unseen_acks[seg_ends[i]] += v == fidelity::kSegAckUnseen;
            s.spurious_retrans[seg_ends[i]] += spurious[i];
            s.reordered[seg_ends[i]] += v == fidelity::kSegOutOfOrder && !(chunk[i].tcp_flags & kSyn);
        }
        const uint8_t f = chunk[i].tcp_flags;
        const bool data = fidelity::tcp_payload_bytes(chunk[i]) > 0;
        s.pure_acks += (f & (kSyn | kFin | kRst | kAck)) == kAck && !data;
        s.fins += (f & kFin) != 0;
        s.data_fins += (f & kFin) && data;
        if ((chunk[i].tcp_opts & kOptSack) && chunk[i].tcp_sack_blocks && !(f & kSyn))
            ++s.sack_segments[std::min<uint8_t>(chunk[i].tcp_sack_blocks, 3) - 1];
        if (in_lossy[i]) {
            ++s.lossy.segments;
            const bool syn = (f & kSyn) != 0;
            s.lossy.gaps += v == fidelity::kSegGap && !syn;
            s.lossy.retrans += (v == fidelity::kSegRetrans || v == fidelity::kSegOutOfOrder) && !syn;
            s.lossy.unseen += v == fidelity::kSegAckUnseen && last != fidelity::kSegAckUnseen && !syn;
        }
        last = v;
    }

    std::map<uint16_t, std::vector<uint32_t>> groups;
    s.first_flag_flows.assign(s.flags.size(), 0);
    s.udp_port_flows.assign(s.ports.size(), 0);
    for (const auto& ft : enc.flows) {
        if (const ProtoEntry& pe = proto_of(s, ft); pe.ports && pe.proto != 6 && ft.a[kAttrSrvPort] < s.udp_port_flows.size())
            ++s.udp_port_flows[ft.a[kAttrSrvPort]];
        auto& g = groups[size_group(ft)];
        g.resize(kPktClasses, 0);
        ++g[ft.a[kAttrPkts]];
        if (ft.a[kAttrFirstFlag] < s.first_flag_flows.size()) ++s.first_flag_flows[ft.a[kAttrFirstFlag]];
    }
    for (auto& [k, v] : groups) s.group_sizes.push_back({k, std::move(v)});
}

uint32_t exact_len(const ChunkSide& side, int c, uint64_t u1, uint64_t u2) {
    const uint32_t base = static_cast<uint32_t>(c) * 16;
    const uint8_t m = c >= 0 && c < static_cast<int>(side.len_modes.size()) ? side.len_modes[c] : 0;
    if (m >> 4 && u1 % 15 < (m >> 4)) return base + (m & 15);
    if (side.format >= 8 && c >= 0 && c < static_cast<int>(side.len_modes2.size())) {
        const uint8_t m2 = side.len_modes2[c];
        if (m2 >> 4 && (u1 / 15) % 15 < (m2 >> 4)) return base + (m2 & 15);
    }
    return base + static_cast<uint32_t>(u2 % 16);
}

}  // namespace dgc::trainer
