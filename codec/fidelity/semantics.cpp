#include "codec/fidelity/semantics.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "codec/fidelity/address_index.h"
#include "codec/fidelity/binning.h"
#include "codec/fidelity/fidelity.h"
#include "codec/flows.h"

namespace dgc::fidelity {
namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
// tshark's out-of-order window when a connection has no handshake RTT.
constexpr int64_t kDefaultOooNs = 3'000'000;
// exact_len: a length with at least this share on either side keeps its own bin.
constexpr double kExactLenShare = 0.005;
constexpr uint64_t kLenClassKey = uint64_t{1} << 32;

bool is_tcp_segment(const PacketRecord& r) {
    return r.is_ip() && r.proto == 6 && (r.present & kHasTcp) && r.has_ports();
}

// RFC 1982 serial comparison: a is after b in 32-bit sequence space.
bool seq_after(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
bool seq_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

// ---------------------------------------------------------------- TCP connections

// Which endpoint of its key a segment comes from (0: the key's smaller endpoint a).
int side_of(const PacketRecord& r, const FlowKey& k) {
    const size_t n = r.ip_version == 4 ? 4 : 16;
    return (r.sport == k.port_a && std::memcmp(r.src.data(), k.a.data(), n) == 0) ? 0 : 1;
}

struct Direction {
    bool started = false;
    uint32_t next = 0;      // highest sequence end seen (seq + payload + SYN + FIN)
    int64_t next_t = 0;     // when `next` last advanced
    bool has_syn = false;   // a pure SYN came from this side, with this seq
    uint32_t syn_seq = 0;
};

struct Work {
    TcpConnection c;
    int64_t last_t = 0;
    int64_t syn_t = -1;     // last pure SYN, for the handshake RTT
    int64_t rtt = 0;        // SYN to first ACK (tshark's first RTT), 0 until seen
    std::array<Direction, 2> dir;
};

enum class Split { kNone, kIdle, kSyn };

Split split_before(const Work& w, const PacketRecord& r, int side) {
    if ((r.tcp_flags & (kSyn | kAck)) == kSyn) {
        const Direction& d = w.dir[side];
        if (!(d.has_syn && d.syn_seq == r.seq)) return Split::kSyn;  // a retransmitted SYN stays
    }
    return r.t_ns - w.last_t > kFlowIdleTimeoutNs ? Split::kIdle : Split::kNone;
}

void update_completeness(Work& w, const PacketRecord& r, uint32_t payload) {
    const uint8_t f = r.tcp_flags;
    if (f & kSyn) w.c.completeness |= (f & kAck) ? kCmpSynAck : kCmpSyn;
    // tshark's ACK bit: a segment with ACK, without SYN and without payload (the bare ACK
    // that ends a handshake, or an ACK-only FIN or RST).
    if ((f & kAck) && !(f & kSyn) && payload == 0) w.c.completeness |= kCmpAck;
    if (payload > 0) w.c.completeness |= kCmpData;
    if (f & kFin) w.c.completeness |= kCmpFin;
    if (f & kRst) w.c.completeness |= kCmpRst;
}

void update_rtt(Work& w, const PacketRecord& r) {
    const uint8_t f = r.tcp_flags & (kSyn | kAck);
    if (f == kSyn) w.syn_t = r.t_ns;
    else if (f == kAck && w.syn_t >= 0 && w.rtt == 0) w.rtt = std::max<int64_t>(r.t_ns - w.syn_t, 1);
}

// Where a segment's sequence number stands against what its sender sent before,
// following tshark's tcp_analyze_sequence_number: lost segment, keep-alive, then
// out-of-order or retransmission for data that does not advance.
SegmentVerdict sequence_verdict(Direction& d, const PacketRecord& r, uint32_t payload, int64_t ooo_ns) {
    const uint8_t f = r.tcp_flags;
    const uint32_t consumed = payload + ((f & kSyn) ? 1 : 0) + ((f & kFin) ? 1 : 0);
    const uint32_t end = r.seq + consumed;
    auto advance = [&] {
        d.next = end;
        d.next_t = r.t_ns;
    };
    if (!d.started) {
        d.started = true;
        advance();
        return kSegOk;
    }
    if (!(f & kRst) && seq_after(r.seq, d.next)) {
        advance();
        return kSegGap;
    }
    if (payload <= 1 && !(f & (kSyn | kFin | kRst)) && r.seq == d.next - 1) return kSegKeepAlive;
    if (consumed == 0 || !seq_before(r.seq, d.next)) {
        if (consumed > 0) advance();
        return kSegOk;
    }
    const bool in_window = r.t_ns - d.next_t < ooo_ns;
    const SegmentVerdict v = (in_window && end != d.next) ? kSegOutOfOrder : kSegRetrans;
    if (seq_after(end, d.next)) advance();
    return v;
}

SegmentVerdict segment_verdict(Work& w, const PacketRecord& r, int side) {
    const uint32_t payload = tcp_payload_bytes(r);
    update_completeness(w, r, payload);
    update_rtt(w, r);
    const int64_t ooo_ns = w.rtt > 0 ? w.rtt : kDefaultOooNs;
    const SegmentVerdict v = sequence_verdict(w.dir[side], r, payload, ooo_ns);
    if (v != kSegOk) return v;
    const Direction& other = w.dir[1 - side];
    if ((r.tcp_flags & kAck) && other.started && seq_after(r.ack, other.next)) return kSegAckUnseen;
    return kSegOk;
}

void note_syn(Work& w, const PacketRecord& r, int side) {
    if ((r.tcp_flags & (kSyn | kAck)) != kSyn || w.dir[side].has_syn) return;
    w.dir[side].has_syn = true;
    w.dir[side].syn_seq = r.seq;
}

// ---------------------------------------------------------------- addresses and MACs

uint64_t mac_of(const std::array<uint8_t, 6>& m) {
    uint64_t v = 0;
    for (uint8_t b : m) v = (v << 8) | b;
    return v;
}

bool in_v4(const uint8_t* a, uint32_t prefix, int bits) {
    const uint32_t v = (uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | a[3];
    return bits == 0 || (v >> (32 - bits)) == (prefix >> (32 - bits));
}

AddressClass v4_class(const uint8_t* a) {
    if (in_v4(a, 0xffffffffu, 32)) return AddressClass::kV4LimitedBroadcast;
    if (in_v4(a, 0x00000000u, 8)) return AddressClass::kV4Unspecified;
    if (in_v4(a, 0x7f000000u, 8)) return AddressClass::kV4Loopback;
    if (in_v4(a, 0xa9fe0000u, 16)) return AddressClass::kV4LinkLocal;
    if (in_v4(a, 0xe0000000u, 4)) return AddressClass::kV4Multicast;
    if (in_v4(a, 0xf0000000u, 4)) return AddressClass::kV4Reserved;
    // Heuristic: the last address of a /24, the usual directed broadcast.
    if (a[3] == 255) return AddressClass::kV4DirectedBroadcast;
    if (in_v4(a, 0x0a000000u, 8)) return AddressClass::kV4Private10;
    if (in_v4(a, 0xac100000u, 12)) return AddressClass::kV4Private172;
    if (in_v4(a, 0xc0a80000u, 16)) return AddressClass::kV4Private192;
    if (in_v4(a, 0x64400000u, 10)) return AddressClass::kV4Shared;
    if (in_v4(a, 0xc0000200u, 24) || in_v4(a, 0xc6336400u, 24) || in_v4(a, 0xcb007100u, 24))
        return AddressClass::kV4Documentation;
    return AddressClass::kV4Public;
}

AddressClass v6_class(const std::array<uint8_t, 16>& a) {
    static constexpr std::array<uint8_t, 16> kZero{};
    if (std::memcmp(a.data(), kZero.data(), 15) == 0) {
        if (a[15] == 0) return AddressClass::kV6Unspecified;
        if (a[15] == 1) return AddressClass::kV6Loopback;
    }
    if (std::memcmp(a.data(), kZero.data(), 10) == 0 && a[10] == 0xff && a[11] == 0xff) return AddressClass::kV6V4Mapped;
    if (a[0] == 0xff) return AddressClass::kV6Multicast;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return AddressClass::kV6LinkLocal;
    if ((a[0] & 0xfe) == 0xfc) return AddressClass::kV6Ula;
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return AddressClass::kV6Documentation;
    if ((a[0] & 0xe0) == 0x20) return AddressClass::kV6Global;
    return AddressClass::kV6Other;
}

// ---------------------------------------------------------------- histograms per check

Histogram verdict_histograms(std::span<const PacketRecord> recs, const TcpAnalysis& a, Histogram& dirs,
                             Histogram& completeness) {
    KeyCounter seg(8), dir(16), cmp(64);
    for (size_t i = 0; i < recs.size(); ++i)
        if (a.verdict[i] != kSegNotTcp) seg.add(a.verdict[i]);
    for (const TcpConnection& c : a.connections) {
        cmp.add(c.completeness);
        for (int s = 0; s < 2; ++s)
            if (c.segments[s] > 0)
                dir.add((uint64_t{c.anomalies[s]} << 8) | anomaly_rate_class(c.anomalous[s], c.segments[s]));
    }
    dirs = dir.to_histogram();
    completeness = cmp.to_histogram();
    return seg.to_histogram();
}

// (SYN or SYN-ACK, carries payload) of every segment with SYN set.
Histogram syn_payload_histogram(std::span<const PacketRecord> recs) {
    KeyCounter c(4);
    for (const auto& r : recs) {
        if (!is_tcp_segment(r) || !(r.tcp_flags & kSyn)) continue;
        c.add(((r.tcp_flags & kAck) ? 2u : 0u) + (tcp_payload_bytes(r) > 0 ? 1u : 0u));
    }
    return c.to_histogram();
}

// 0 SYN, 1 SYN-ACK, 2 RST, 3 FIN, 4 anything else.
uint64_t flags_class(uint8_t f) {
    if (f & kSyn) return (f & kAck) ? 1 : 0;
    if (f & kRst) return 2;
    if (f & kFin) return 3;
    return 4;
}

// (flags class, data offset in words, option kind set) of every TCP segment.
Histogram tcp_header_histogram(std::span<const PacketRecord> recs) {
    KeyCounter c(64);
    for (const auto& r : recs) {
        if (!is_tcp_segment(r)) continue;
        const uint64_t data_offset = 5 + r.tcp_opt_len / 4u;
        c.add((flags_class(r.tcp_flags) << 16) | (data_offset << 8) | r.tcp_opts);
    }
    return c.to_histogram();
}

Histogram exact_len_counts(std::span<const PacketRecord> recs) {
    KeyCounter c(256);
    for (const auto& r : recs)
        if (r.is_ip()) c.add(r.ip_len);
    return c.to_histogram();
}

// (IPv6?, type, code) of every ICMP (v4, proto 1) and ICMPv6 (v6, proto 58) message.
Histogram icmp_histogram(std::span<const PacketRecord> recs) {
    KeyCounter c(32);
    for (const auto& r : recs) {
        if (!r.is_ip() || !(r.present & kHasIcmp)) continue;
        const bool v6 = r.ip_version == 6 && r.proto == 58;
        if (!v6 && !(r.ip_version == 4 && r.proto == 1)) continue;
        c.add((uint64_t{v6} << 16) | (uint64_t{r.icmp_type} << 8) | r.icmp_code);
    }
    return c.to_histogram();
}

// Per spec UDP flow: answered (packets both ways) x the first packet's port relation
// (from the higher port, from the lower port, equal ports).
Histogram udp_pairing_histogram(std::span<const PacketRecord> recs) {
    const FlowTable t = build_flow_table(recs);
    struct First {
        uint32_t record = kNoFlow;
        bool answered = false;
    };
    std::vector<First> first(t.flows.size());
    for (uint32_t i : t.order) {
        const PacketRecord& r = recs[i];
        if (r.proto != 17 || !r.has_ports() || t.flow_of[i] == kNoFlow) continue;
        First& f = first[t.flow_of[i]];
        if (f.record == kNoFlow) {
            f.record = i;
            continue;
        }
        const PacketRecord& q = recs[f.record];
        const size_t n = r.ip_version == 4 ? 4 : 16;
        if (r.sport != q.sport || std::memcmp(r.src.data(), q.src.data(), n) != 0) f.answered = true;
    }
    KeyCounter c(8);
    for (const First& f : first) {
        if (f.record == kNoFlow) continue;
        const PacketRecord& q = recs[f.record];
        const uint64_t rel = q.sport > q.dport ? 0 : q.sport < q.dport ? 1 : 2;
        c.add((f.answered ? 3u : 0u) + rel);
    }
    return c.to_histogram();
}

// Class of each distinct address (hosts) and (source class, destination class) of each
// IP packet (pkts).
void address_histograms(std::span<const PacketRecord> recs, Histogram& hosts, Histogram& pkts) {
    AddressIndex index(1024);
    KeyCounter h(32), p(128);
    auto class_of = [&](const std::array<uint8_t, 16>& a, uint8_t v) {
        const size_t before = index.size();
        index.id_of(a, v);
        const auto c = static_cast<uint64_t>(address_class(a, v));
        if (index.size() != before) h.add(c);
        return c;
    };
    for (const auto& r : recs) {
        if (!r.is_ip()) continue;
        const uint64_t s = class_of(r.src, r.ip_version);
        const uint64_t d = class_of(r.dst, r.ip_version);
        p.add((s << 8) | d);
    }
    hosts = h.to_histogram();
    pkts = p.to_histogram();
}

// Over the distinct (IP, MAC) associations of Ethernet IP frames (source IP with source
// MAC, destination IP with destination MAC): the number of MACs of the pair's IP, and
// the share of all IPs that the pair's MAC carries.
void mac_histograms(std::span<const PacketRecord> recs, Histogram& macs_per_ip, Histogram& ips_per_mac) {
    AddressIndex index(1024);
    std::vector<std::pair<uint32_t, uint64_t>> pairs;  // (address id, MAC)
    for (const auto& r : recs) {
        if (!r.is_ip() || r.linktype != static_cast<uint16_t>(LinkType::kEthernet)) continue;
        pairs.emplace_back(index.id_of(r.src, r.ip_version), mac_of(r.eth_src));
        pairs.emplace_back(index.id_of(r.dst, r.ip_version), mac_of(r.eth_dst));
    }
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    std::vector<uint64_t> macs_of_ip(index.size(), 0);
    std::unordered_map<uint64_t, uint64_t> ips_of_mac;
    for (const auto& [ip, mac] : pairs) {
        ++macs_of_ip[ip];
        ++ips_of_mac[mac];
    }
    KeyCounter a(16), b(16);
    for (const auto& [ip, mac] : pairs) {
        a.add(small_count_bin(macs_of_ip[ip]));
        b.add(share_bin(ips_of_mac[mac], index.size()));
    }
    macs_per_ip = a.to_histogram();
    ips_per_mac = b.to_histogram();
}

// exact_len's bins for one side: a length with kExactLenShare on either side is its own
// bin, any other falls in its 16-byte class (pkt_len's bin).
Histogram exact_len_binned(const Histogram& raw, const Histogram& other) {
    auto frequent = [](const Histogram& h, size_t i) {
        return static_cast<double>(h.counts[i]) >= kExactLenShare * static_cast<double>(h.total);
    };
    std::vector<uint64_t> exact;
    for (const Histogram* h : {&raw, &other})
        for (size_t i = 0; i < h->keys.size(); ++i)
            if (frequent(*h, i)) exact.push_back(h->keys[i]);
    std::sort(exact.begin(), exact.end());
    KeyCounter c(256);
    for (size_t i = 0; i < raw.keys.size(); ++i) {
        const uint64_t len = raw.keys[i];
        const bool own = std::binary_search(exact.begin(), exact.end(), len);
        c.add(own ? len : kLenClassKey | len_bin(static_cast<uint32_t>(len)), raw.counts[i]);
    }
    return c.to_histogram();
}

}  // namespace

uint32_t tcp_payload_bytes(const PacketRecord& r) {
    const uint32_t headers = (r.ip_version == 6 ? 40u : 20u) + 20u + r.tcp_opt_len;
    return r.ip_len > headers ? r.ip_len - headers : 0;
}

TcpAnalysis analyze_tcp(std::span<const PacketRecord> records) {
    TcpAnalysis a;
    a.verdict.assign(records.size(), kSegNotTcp);
    std::vector<Work> work;
    std::unordered_map<FlowKey, uint32_t, FlowKeyHash> current;
    for (uint32_t i : time_order(records)) {
        const PacketRecord& r = records[i];
        if (!is_tcp_segment(r)) continue;
        const FlowKey key = flow_key_of(r);
        const int side = side_of(r, key);
        auto it = current.find(key);
        const Split split = it == current.end() ? Split::kSyn : split_before(work[it->second], r, side);
        if (split != Split::kNone) {
            Work next;
            // An idle gap ends the connection's record, not its sequence space: a
            // keep-alive after minutes of silence continues where the last segment ended.
            if (split == Split::kIdle) next = work[it->second];
            next.c = TcpConnection{};
            next.c.first_record = i;
            const auto id = static_cast<uint32_t>(work.size());
            work.push_back(next);
            it = current.insert_or_assign(key, id).first;
        }
        Work& w = work[it->second];
        note_syn(w, r, side);
        const SegmentVerdict v = segment_verdict(w, r, side);
        a.verdict[i] = v;
        w.c.segments[side] += 1;
        if (v != kSegOk && v != kSegKeepAlive) {
            w.c.anomalies[side] |= static_cast<uint8_t>(1u << v);
            w.c.anomalous[side] += 1;
        }
        w.last_t = r.t_ns;
    }
    a.connections.reserve(work.size());
    for (const Work& w : work) a.connections.push_back(w.c);
    return a;
}

AddressClass address_class(const std::array<uint8_t, 16>& addr, uint8_t ip_version) {
    return ip_version == 4 ? v4_class(addr.data()) : v6_class(addr);
}

std::string_view address_class_name(AddressClass c) {
    static constexpr std::array<std::string_view, static_cast<size_t>(AddressClass::kCount)> kNames = {
        "v4 unspecified", "v4 private 10/8", "v4 private 172.16/12", "v4 private 192.168/16", "v4 shared 100.64/10",
        "v4 loopback", "v4 link-local", "v4 multicast", "v4 limited broadcast", "v4 directed broadcast (x.x.x.255)",
        "v4 reserved 240/4", "v4 documentation", "v4 public", "v6 unspecified", "v6 loopback", "v6 v4-mapped",
        "v6 link-local", "v6 ULA", "v6 multicast", "v6 documentation", "v6 global", "v6 other"};
    return kNames[static_cast<size_t>(c)];
}

uint64_t anomaly_rate_class(uint32_t anomalous, uint32_t segments) {
    if (anomalous == 0 || segments == 0) return 0;
    return 1 + log2bin(uint64_t{64} * anomalous / segments);
}

uint64_t small_count_bin(uint64_t n) { return n <= 8 ? n : 5 + log2bin(n); }

uint64_t share_bin(uint64_t n, uint64_t total) {
    if (n <= 1) return 0;
    if (10 * n < total) return 1;
    if (2 * n < total) return 2;
    return 3;
}

SemanticProfile profile_semantics(std::span<const PacketRecord> records) {
    SemanticProfile p;
    auto& h = p.checks;
    const TcpAnalysis tcp = analyze_tcp(records);
    h[kTcpAnomaly] = verdict_histograms(records, tcp, h[kTcpAnomalyDirs], h[kTcpCompleteness]);
    h[kSynPayload] = syn_payload_histogram(records);
    h[kTcpHeader] = tcp_header_histogram(records);
    h[kExactLen] = exact_len_counts(records);
    h[kIcmpMix] = icmp_histogram(records);
    h[kUdpPairing] = udp_pairing_histogram(records);
    address_histograms(records, h[kAddrClassHosts], h[kAddrClassPkts]);
    mac_histograms(records, h[kMacsPerIp], h[kIpsPerMac]);
    return p;
}

SemanticSet compare_semantics(const SemanticProfile& real, const SemanticProfile& synth) {
    SemanticSet s;
    for (int i = 0; i < kSemanticCount; ++i) {
        if (i == kExactLen) {
            const Histogram& p = real.checks[i];
            const Histogram& q = synth.checks[i];
            s.checks[i] = jsd(exact_len_binned(p, q), exact_len_binned(q, p));
        } else {
            s.checks[i] = jsd(real.checks[i], synth.checks[i]);
        }
    }
    s.mean = mean_defined(s.checks);
    return s;
}

SemanticSet semantics(std::span<const PacketRecord> real, std::span<const PacketRecord> synth) {
    return compare_semantics(profile_semantics(real), profile_semantics(synth));
}

SemanticSet semantics_floor(std::span<const PacketRecord> real) {
    const FlowHashSplit halves = split_by_flow_hash(real);
    return semantics(halves.first, halves.second);
}

std::optional<bool> semantic_pass(const std::optional<double>& value, const std::optional<double>& floor) {
    if (!value) return std::nullopt;
    if (!floor) return false;
    return *value <= *floor + kSemanticMargin;
}

int semantic_failures(const SemanticSet& score, const SemanticSet& floor) {
    int n = 0;
    for (int i = 0; i < kSemanticCount; ++i)
        if (semantic_pass(score.checks[i], floor.checks[i]) == false) ++n;
    return n;
}

}  // namespace dgc::fidelity
