// The chunk side information's bytes: serialize_side writes the layout of side.format,
// parse_side reads every format from 5 on (docs/format.md §7). Each format's block is
// appended after the earlier one's, so older sides simply end earlier.
#include <algorithm>

#include "codec/address_class.h"
#include "trainer/broadcast_hosts.h"
#include "trainer/byte_io.h"
#include "trainer/chunk_tokens.h"
#include "trainer/icmp_kind_flows.h"
#include "trainer/side_io_blocks.h"
#include "trainer/syn_attempts.h"

namespace dgc::trainer {

namespace {
void write_counts(ByteWriter& w, const std::vector<uint32_t>& v) {
    for (uint32_t c : v) w.varint(c);
}
// A mostly-empty histogram: how many classes are used, then (class, count) for each.
void write_sparse(ByteWriter& w, const std::vector<uint32_t>& v) {
    w.varint(static_cast<uint64_t>(std::count_if(v.begin(), v.end(), [](uint32_t c) { return c; })));
    for (size_t k = 0; k < v.size(); ++k)
        if (v[k]) w.varint(k), w.varint(v[k]);
}
void read_sparse(ByteReader& r, std::vector<uint32_t>& v, size_t classes) {
    v.assign(classes, 0);
    for (size_t n = r.count(classes), i = 0; i < n && !r.failed(); ++i) {
        const size_t k = r.count(classes - 1);
        v[k] = static_cast<uint32_t>(r.count(1ull << 32));
    }
}

// Per size group counts (group, n), as format 6 and later store several of them.
void write_group_counts(ByteWriter& w, const std::vector<std::pair<uint16_t, uint32_t>>& v) {
    w.varint(v.size());
    for (auto [g, n] : v) w.varint(g), w.varint(n);
}
void read_group_counts(ByteReader& r, std::vector<std::pair<uint16_t, uint32_t>>& v) {
    v.resize(r.count(kProtoVocab * kFlagClasses));
    for (auto& [g, n] : v) g = static_cast<uint16_t>(r.count(0xffff)), n = static_cast<uint32_t>(r.count(1ull << 32));
}

// A byte per length class (len_modes, len_modes2), stored sparse.
void write_len_modes(ByteWriter& w, const std::vector<uint8_t>& m) {
    std::vector<uint32_t> modes(m.begin(), m.end());
    modes.resize(kLenClasses, 0);
    write_sparse(w, modes);
}
void read_len_modes(ByteReader& r, std::vector<uint8_t>& m) {
    std::vector<uint32_t> modes;
    read_sparse(r, modes, kLenClasses);
    m.resize(kLenClasses);
    for (int c = 0; c < kLenClasses; ++c) m[c] = static_cast<uint8_t>(std::min<uint32_t>(modes[c], 0xff));
}

// Format 6's block, after everything format 5 has: the same bytes mean the same things in
// both, and a format-5 side simply ends before it.
void write_semantics(ByteWriter& w, const ChunkSide& s) {
    for (uint32_t n : s.proto_flows) w.varint(n);
    if (s.nonip_packets)
        for (const auto& t : s.nonip_types) w.varint(t.arp_op);
    // A chunk sees few MACs behind many hosts: each distinct one once, then a small index
    // per host (0: none).
    std::vector<uint16_t> macs;
    for (const auto& h : s.host_sem)
        if (h.mac && std::find(macs.begin(), macs.end(), h.mac) == macs.end() && macs.size() < 255) macs.push_back(h.mac);
    w.varint(macs.size());
    for (uint16_t m : macs) w.u16(m);
    for (const auto& h : s.host_sem) {
        w.u8(static_cast<uint8_t>(h.host_kind << 5 | h.addr_class));
        if (addr_class_is_exact(static_cast<AddrClass>(h.addr_class))) {
            for (uint8_t b : h.exact) w.u8(b);
        } else {
            w.u16(h.subnet);
        }
        const auto it = std::find(macs.begin(), macs.end(), h.mac);
        w.u8(static_cast<uint8_t>(h.mac && it != macs.end() ? it - macs.begin() + 1 : 0));
        w.u8(h.stack);
    }
    w.varint(s.stacks.size());
    for (const auto& t : s.stacks)
        w.u8(static_cast<uint8_t>(t.syn_opts | (t.opens ? 0x80 : 0))), w.u8(t.syn_len), w.u8(t.data_opts), w.u8(t.data_len), w.u16(t.mss), w.u8(t.wscale),
            w.varint(t.count);
    w.varint(s.other_classes.size());
    for (const auto& o : s.other_classes)
        w.u8(static_cast<uint8_t>(o.host_kind << 5 | o.addr_class)), w.varint(o.hosts), w.varint(o.subnets), w.varint(o.onlink);
    w.varint(s.gateway_macs.size());
    for (const auto& g : s.gateway_macs) w.u16(g.mac), w.varint(g.hosts);
    w.varint(s.icmp.size());
    for (const auto& i : s.icmp) w.u8(i.proto), w.u8(i.type), w.u8(i.code), w.varint(i.count);
    write_len_modes(w, s.len_modes);
    w.varint(s.first_flag_flows.size());
    for (uint32_t n : s.first_flag_flows) w.varint(n);
    w.varint(s.group_sizes.size());
    for (const auto& g : s.group_sizes) {
        w.varint(g.group);
        write_sparse(w, g.classes);
    }
    write_group_counts(w, s.unanswered_syns);
    w.varint(s.endings.size());
    for (const auto& e : s.endings) w.varint(e.group), w.varint(e.fin), w.varint(e.rst);
    w.varint(s.tcp_loss.segments), w.varint(s.tcp_loss.gaps), w.varint(s.tcp_loss.retrans), w.varint(s.tcp_loss.unseen);
    write_group_counts(w, s.answered_udp);
    w.varint(s.midstream_tcp), w.varint(s.midstream_ts);
    write_group_counts(w, s.continued);
}

// The address classes a side of `format` may name: format 56 added NAT64 (an older side's
// byte past its last class reads as its last, as it always did).
uint8_t addr_classes(uint8_t format) {
    return static_cast<uint8_t>(format >= 56 ? AddrClass::kCount : AddrClass::kNat64_6);
}

void read_semantics(ByteReader& r, ChunkSide& s, uint8_t format) {
    const uint8_t classes = addr_classes(format);
    s.proto_flows.resize(s.protos.size());
    for (auto& n : s.proto_flows) n = static_cast<uint32_t>(r.count(1ull << 32));
    if (s.nonip_packets)
        for (auto& t : s.nonip_types) t.arp_op = static_cast<uint16_t>(r.count(0xffff));
    std::vector<uint16_t> macs(r.count(255));
    for (auto& m : macs) m = r.u16();
    s.host_sem.resize(s.hosts.size());
    for (auto& h : s.host_sem) {
        const uint8_t b = r.u8();
        h.addr_class = std::min<uint8_t>(b & 0x1f, classes - 1);
        h.host_kind = static_cast<uint8_t>(std::min(b >> 5, 2));
        if (addr_class_is_exact(static_cast<AddrClass>(h.addr_class))) {
            for (auto& x : h.exact) x = r.u8();
        } else {
            h.subnet = r.u16();
        }
        const uint8_t m = r.u8();
        h.mac = m && m <= macs.size() ? macs[m - 1] : 0;
        h.stack = r.u8();
    }
    s.stacks.resize(r.count(kStackSlots));
    for (auto& t : s.stacks) {
        t.syn_opts = r.u8(), t.opens = (t.syn_opts & 0x80) != 0, t.syn_opts &= 0x7f, t.syn_len = r.u8(), t.data_opts = r.u8(), t.data_len = r.u8();
        t.mss = r.u16(), t.wscale = r.u8(), t.count = static_cast<uint32_t>(r.count(1ull << 32));
    }
    for (auto& h : s.host_sem)
        if (h.stack >= s.stacks.size()) h.stack = 0;
    s.other_classes.resize(r.count(3 * size_t{classes}));
    for (auto& o : s.other_classes) {
        const uint8_t b = r.u8();
        o.addr_class = std::min<uint8_t>(b & 0x1f, classes - 1);
        o.host_kind = static_cast<uint8_t>(std::min(b >> 5, 2));
        o.hosts = static_cast<uint32_t>(r.count(1ull << 32));
        o.subnets = static_cast<uint32_t>(r.count(1ull << 32));
        o.onlink = static_cast<uint32_t>(r.count(1ull << 32));
    }
    s.gateway_macs.resize(r.count(kGatewaySlots));
    for (auto& g : s.gateway_macs) g.mac = r.u16(), g.hosts = static_cast<uint32_t>(r.count(1ull << 32));
    s.icmp.resize(r.count(kIcmpKinds));
    for (auto& i : s.icmp) i.proto = r.u8(), i.type = r.u8(), i.code = r.u8(), i.count = static_cast<uint32_t>(r.count(1ull << 32));
    read_len_modes(r, s.len_modes);
    s.first_flag_flows.resize(r.count(kFlagClasses));
    for (auto& n : s.first_flag_flows) n = static_cast<uint32_t>(r.count(1ull << 32));
    s.group_sizes.resize(r.count(kProtoVocab * kFlagClasses));
    for (auto& g : s.group_sizes) {
        g.group = static_cast<uint16_t>(r.count(0xffff));
        read_sparse(r, g.classes, kPktClasses);
    }
    read_group_counts(r, s.unanswered_syns);
    s.endings.resize(r.count(kProtoVocab * kFlagClasses));
    for (auto& e : s.endings) {
        e.group = static_cast<uint16_t>(r.count(0xffff));
        e.fin = static_cast<uint32_t>(r.count(1ull << 32));
        e.rst = static_cast<uint32_t>(r.count(1ull << 32));
    }
    auto& l = s.tcp_loss;
    l.segments = static_cast<uint32_t>(r.count(1ull << 32));
    l.gaps = static_cast<uint32_t>(r.count(l.segments));
    l.retrans = static_cast<uint32_t>(r.count(l.segments));
    l.unseen = static_cast<uint32_t>(r.count(l.segments));
    read_group_counts(r, s.answered_udp);
    s.midstream_tcp = static_cast<uint32_t>(r.count(1ull << 32));
    s.midstream_ts = static_cast<uint32_t>(r.count(s.midstream_tcp));
    read_group_counts(r, s.continued);
}

// Format 8's block, after format 7's.
void write_format8(ByteWriter& w, const ChunkSide& s) {
    w.varint(s.tcp_fates.size());
    for (const auto& o : s.tcp_fates)
        w.varint(o.group), w.varint(o.size_class), w.varint(o.unanswered), w.varint(o.refused), w.varint(o.fin), w.varint(o.rst);
    write_len_modes(w, s.len_modes2);
    write_group_counts(w, s.udp_repeats);
    w.varint(s.arp_gratuitous), w.varint(s.arp_probes);
}

void read_format8(ByteReader& r, ChunkSide& s) {
    s.tcp_fates.resize(r.count(kProtoVocab * kFlagClasses * kPktClasses));
    for (auto& o : s.tcp_fates) {
        o.group = static_cast<uint16_t>(r.count(0xffff));
        o.size_class = static_cast<uint8_t>(r.count(kPktClasses - 1));
        for (uint32_t* n : {&o.unanswered, &o.refused, &o.fin, &o.rst}) *n = static_cast<uint32_t>(r.count(1ull << 32));
    }
    read_len_modes(r, s.len_modes2);
    read_group_counts(r, s.udp_repeats);
    s.arp_gratuitous = static_cast<uint32_t>(r.count(s.nonip_packets));
    s.arp_probes = static_cast<uint32_t>(r.count(s.nonip_packets - s.arp_gratuitous));
}

// Format 9's block, after format 8's: one FIN-then-RST count per TCP fate entry (in its
// order), the continued connections' silences, then segments with 1, 2 and 3+ SACK blocks.
void write_format9(ByteWriter& w, const ChunkSide& s) {
    for (const auto& o : s.tcp_fates) w.varint(o.fin_rst);
    write_sparse(w, s.cont_gaps);
    for (uint32_t n : s.sack_segments) w.varint(n);
}

void read_format9(ByteReader& r, ChunkSide& s) {
    for (auto& o : s.tcp_fates) o.fin_rst = static_cast<uint32_t>(r.count(o.fin));
    read_sparse(r, s.cont_gaps, kContGapClasses);
    for (auto& n : s.sack_segments) n = static_cast<uint32_t>(r.count(s.tcp_loss.segments));
}

// Format 11's block, after format 9's: TCP flows between two ports below 1024.
void write_format11(ByteWriter& w, const ChunkSide& s) { w.varint(s.tcp_low_port_flows); }

void read_format11(ByteReader& r, ChunkSide& s) { s.tcp_low_port_flows = static_cast<uint32_t>(r.count(1ull << 32)); }

// Format 12's block, after format 11's: lone UDP datagrams on a 5-tuple answered last.
void write_format12(ByteWriter& w, const ChunkSide& s) { w.varint(s.udp_lone_repeats); }

void read_format12(ByteReader& r, ChunkSide& s) { s.udp_lone_repeats = static_cast<uint32_t>(r.count(1ull << 32)); }

// Format 13's block, after format 12's: UDP replies that open an exchange, and UDP repeats
// by answer.
void write_format13(ByteWriter& w, const ChunkSide& s) {
    w.varint(s.udp_late_replies);
    for (uint32_t n : s.udp_repeat_kinds) w.varint(n);
}

void read_format13(ByteReader& r, ChunkSide& s) {
    s.udp_late_replies = static_cast<uint32_t>(r.count(s.ip_packets + 1));
    for (auto& n : s.udp_repeat_kinds) n = static_cast<uint32_t>(r.count(s.ip_packets + 1));
}

// Format 14's block, after format 13's: handshakes that agreed on timestamps and lossy TCP
// flows, per size class, and the loss over the lossy flows' segments.
void write_format14(ByteWriter& w, const ChunkSide& s) {
    for (const auto* counts : {&s.opening_ts, &s.lossy_flows}) {
        std::vector<uint32_t> v = *counts;
        v.resize(kPktClasses, 0);
        write_sparse(w, v);
    }
    w.varint(s.lossy.segments), w.varint(s.lossy.gaps), w.varint(s.lossy.retrans), w.varint(s.lossy.unseen);
}

void read_format14(ByteReader& r, ChunkSide& s) {
    read_sparse(r, s.opening_ts, kPktClasses);
    read_sparse(r, s.lossy_flows, kPktClasses);
    auto& l = s.lossy;
    l.segments = static_cast<uint32_t>(r.count(uint64_t{s.tcp_loss.segments} + 1));
    l.gaps = static_cast<uint32_t>(r.count(uint64_t{l.segments} + 1));
    l.retrans = static_cast<uint32_t>(r.count(uint64_t{l.segments} + 1));
    l.unseen = static_cast<uint32_t>(r.count(uint64_t{l.segments} + 1));
}

// Format 17's block: a byte of kPortProto* bits per ranked port.
void write_format17(ByteWriter& w, const ChunkSide& s) {
    for (size_t i = 0; i < s.ports.size(); ++i) w.u8(i < s.port_protos.size() ? s.port_protos[i] : 0);
}

bool read_format17(ByteReader& r, ChunkSide& s) {
    s.port_protos.resize(s.ports.size());
    for (auto& b : s.port_protos)
        if ((b = r.u8()) > (kPortProtoTcp | kPortProtoUdp | kPortProtoOther)) return false;
    return true;
}

// Format 18's block: the TCP flows of each start bucket, never more than its flows.
void write_format18(ByteWriter& w, const ChunkSide& s) {
    for (int b = 0; b < kTimeBuckets; ++b) w.varint(b < static_cast<int>(s.tcp_starts.size()) ? s.tcp_starts[b] : 0);
}

bool read_format18(ByteReader& r, ChunkSide& s) {
    s.tcp_starts.resize(kTimeBuckets);
    for (int b = 0; b < kTimeBuckets; ++b)
        if ((s.tcp_starts[b] = static_cast<uint32_t>(r.count(1ull << 32))) > s.flow_starts[b]) return false;
    return true;
}

// Format 21's block: the IP packets of each start bucket's flows, at least one per flow.
void write_format21(ByteWriter& w, const ChunkSide& s) {
    for (int b = 0; b < kTimeBuckets; ++b) w.varint(b < static_cast<int>(s.start_packets.size()) ? s.start_packets[b] : 0);
}

bool read_format21(ByteReader& r, ChunkSide& s) {
    s.start_packets.resize(kTimeBuckets);
    uint64_t sum = 0;
    for (int b = 0; b < kTimeBuckets; ++b) {
        s.start_packets[b] = static_cast<uint32_t>(r.count(1ull << 32));
        if (s.start_packets[b] < s.flow_starts[b]) return false;
        sum += s.start_packets[b];
    }
    return sum == s.ip_packets;
}

}  // namespace

using namespace side_blocks;

std::string serialize_side(const ChunkSide& s) {
    ByteWriter w;
    w.varint(s.ip_packets);
    w.varint(s.nonip_packets);
    w.svarint(s.t0);
    w.varint(static_cast<uint64_t>(s.span));
    w.varint(static_cast<uint64_t>(s.ip_t0 - s.t0));
    w.varint(static_cast<uint64_t>(s.ip_span));
    w.varint(s.linktype);
    write_counts(w, s.flow_starts);
    write_sparse(w, s.start_gaps);
    write_sparse(w, s.size_classes);
    w.u8(s.nonip_packets ? 1 : 0);
    if (s.nonip_packets) {
        write_counts(w, s.nonip_per_bucket);
        w.varint(s.nonip_types.size());
        for (const auto& t : s.nonip_types) w.varint(t.ethertype), w.varint(t.wirelen), w.varint(t.caplen), w.varint(t.count);
    }
    w.varint(s.protos.size());
    for (const auto& p : s.protos) w.u8(p.ip_version), w.u8(p.proto), w.u8(p.ports ? 1 : 0);
    w.varint(s.ports.size());
    for (uint16_t p : s.ports) w.varint(p);
    w.varint(s.hosts.size());
    for (const auto& h : s.hosts) w.u8(h.ip_version), w.u8(h.ttl), w.u8(h.tos);
    for (size_t i = 0; i < s.hosts.size(); ++i) {
        const uint16_t id = i < s.host_ids.size() ? s.host_ids[i] : 0;
        w.u8(static_cast<uint8_t>(id >> 8)), w.u8(static_cast<uint8_t>(id));
    }
    w.varint(s.other_hosts);
    w.varint(s.other_ttl.size());
    for (const auto& t : s.other_ttl) w.u8(t.ttl), w.u8(t.tos), w.varint(t.count);
    w.varint(s.flags.size());
    for (uint8_t f : s.flags) w.u8(f);
    // Ports by delta from the previous one, then their mass classes with the server bit on
    // top: both runs of small numbers that zstd packs well.
    w.varint(s.pool.size());
    for (size_t i = 0; i < s.pool.size(); ++i) w.varint(s.pool[i].port - (i ? s.pool[i - 1].port : 0));
    for (const auto& p : s.pool) w.u8(static_cast<uint8_t>((p.server ? 0x80 : 0) | (p.mass_class & 0x7f)));
    if (s.format >= 6) write_semantics(w, s);
    if (s.format >= 7) {
        w.varint(s.pure_acks), w.varint(s.fins), w.varint(s.data_fins);
        w.varint(s.port_partners.size());
        for (auto [p, q] : s.port_partners) w.u8(p), w.u8(q);
    }
    if (s.format >= 8) write_format8(w, s);
    if (s.format >= 9) write_format9(w, s);
    if (s.format >= 11) write_format11(w, s);
    if (s.format >= 12) write_format12(w, s);
    if (s.format >= 13) write_format13(w, s);
    if (s.format >= 14) write_format14(w, s);
    if (s.format >= 17) write_format17(w, s);
    if (s.format >= 18) write_format18(w, s);
    if (s.format >= 21) write_format21(w, s);
    if (s.format >= 26) write_format26(w, s);
    if (s.format >= 27) write_format27(w, s);
    if (s.format >= 28) write_format28(w, s);
    // Format 30's block: each ranked host's TCP roles; format 31's: each ranked port's.
    if (s.format >= 30) write_roles(w, s.tcp_roles, s.hosts.size());
    if (s.format >= 31) write_roles(w, s.tcp_port_roles, s.ports.size());
    if (s.format >= 35) write_format35(w, s);
    if (s.format >= 36) write_format36(w, s);
    if (s.format >= 37) write_format37(w, s);
    if (s.format >= 38) write_icmp_hosts(w, s, s.icmp_senders);
    if (s.format >= 39) write_icmp_hosts(w, s, s.icmp_receivers);
    if (s.format >= 40) write_format40(w, s.keepalives);
    if (s.format >= 41) write_format41(w, s);
    if (s.format >= 43) write_format43(w, s);
    if (s.format >= 44) write_format44(w, s);
    if (s.format >= 47) write_format47(w, s.fin_resends);
    if (s.format >= 51) w.varint(s.longest_syn_attempt);  // format 51's block: one varint
    if (s.format >= 52)                                     // format 52's: two
        for (uint32_t l : s.longest_icmp_error) w.varint(l);
    if (s.format >= 53) w.varint(s.syn_timer.first_ms), w.varint(s.syn_timer.backoff);  // format 53's: two
    if (s.format >= 55) write_format55(w, s);
    if (s.format >= 57)  // format 57's block: two varints
        for (uint32_t n : s.reordered) w.varint(n);
    if (s.format >= 58) w.varint(s.error_flows);  // format 58's: one
    if (s.format >= 60) w.varint(s.superseded_resets);  // format 60's: one
    if (s.format >= 62) {  // format 62's: a count, then per receiver slot, messages, length and sender
        w.varint(s.igmp_dests.size());
        for (const IgmpDest& d : s.igmp_dests) w.varint(d.slot), w.varint(d.packets), w.varint(d.ip_len), w.u8(d.sender);
    }
    if (s.format >= 63) w.u8(s.bcast_host_scopes);  // format 63's: one byte
    if (s.format >= 64)  // format 64's: per ICMP kind, the flows it opened and their packets
        for (size_t i = 0; i < s.icmp.size(); ++i) {
            const IcmpOpened o = i < s.icmp_opened.size() ? s.icmp_opened[i] : IcmpOpened{};
            w.varint(o.flows), w.varint(o.packets);
        }
    if (s.format >= 65)  // format 65's: two bytes per placed gap class
        for (const GapPlace& p : s.gap_places) w.u8(p.mean), w.u8(p.spread);
    if (s.format >= 66)  // format 66's: two bytes per class of silence past the split
        for (const GapPlace& p : s.cont_places) w.u8(p.mean), w.u8(p.spread);
    return std::move(w.data());
}

Result<ChunkSide> parse_side(std::string_view bytes, const std::string& what, uint8_t format) {
    ByteReader r(bytes);
    ChunkSide s;
    s.ip_packets = r.count(1ull << 40);
    s.nonip_packets = r.count(1ull << 40);
    s.t0 = r.svarint();
    s.span = static_cast<int64_t>(r.count(1ull << 62));
    const auto ip_offset = static_cast<int64_t>(r.count(1ull << 62));
    s.ip_span = static_cast<int64_t>(r.count(1ull << 62));
    if (ip_offset > s.span || s.ip_span > s.span - ip_offset)
        return Status::corrupt(what + ": IP packets outside the chunk's time span");
    s.ip_t0 = s.t0 + ip_offset;
    s.linktype = static_cast<uint32_t>(r.varint());
    auto read_counts = [&](std::vector<uint32_t>& v) {
        v.resize(kTimeBuckets);
        for (auto& c : v) c = static_cast<uint32_t>(r.count(1ull << 32));
    };
    read_counts(s.flow_starts);
    read_sparse(r, s.start_gaps, kDtClasses);
    read_sparse(r, s.size_classes, kPktClasses);
    if (r.u8()) {
        read_counts(s.nonip_per_bucket);
        s.nonip_types.resize(r.count(kNonIpTypes));
        for (auto& t : s.nonip_types) {
            t.ethertype = static_cast<uint16_t>(r.varint());
            t.wirelen = static_cast<uint32_t>(r.count(1 << 20));
            t.caplen = static_cast<uint32_t>(r.count(1 << 20));
            t.count = static_cast<uint32_t>(r.varint());
        }
    } else {
        s.nonip_per_bucket.assign(kTimeBuckets, 0);
    }
    s.protos.resize(r.count(kProtoVocab));
    for (auto& p : s.protos) p.ip_version = r.u8(), p.proto = r.u8(), p.ports = r.u8() != 0;
    s.ports.resize(r.count(kPortRanks));
    for (auto& p : s.ports) p = static_cast<uint16_t>(r.varint());
    s.hosts.resize(r.count(kHostSlots));
    for (auto& h : s.hosts) h.ip_version = r.u8(), h.ttl = r.u8(), h.tos = r.u8();
    s.host_ids.resize(s.hosts.size());
    for (auto& id : s.host_ids) {
        const uint8_t hi = r.u8();
        id = static_cast<uint16_t>(hi << 8 | r.u8());
    }
    s.other_hosts = static_cast<uint32_t>(r.count(1ull << 32));
    s.other_ttl.resize(r.count(kOtherTtlEntries));
    for (auto& t : s.other_ttl) t.ttl = r.u8(), t.tos = r.u8(), t.count = static_cast<uint32_t>(r.varint());
    s.flags.resize(r.count(kFlagNone));
    for (auto& f : s.flags) f = r.u8();
    s.pool.resize(r.count(1u << 16));
    uint32_t port = 0;
    for (size_t i = 0; i < s.pool.size() && !r.failed(); ++i) {
        port += static_cast<uint32_t>(r.count(1u << 16));
        if (port > 0xffff || (i && port == s.pool[i - 1].port))
            return Status::corrupt(what + ": port pool is not strictly increasing");
        s.pool[i].port = static_cast<uint16_t>(port);
    }
    for (auto& p : s.pool) {
        const uint8_t b = r.u8();
        p.mass_class = b & 0x7f, p.server = (b & 0x80) != 0;
    }
    s.format = format;
    if (format >= 6) read_semantics(r, s, format);
    if (format >= 7) {
        s.pure_acks = static_cast<uint32_t>(r.count(uint64_t{s.tcp_loss.segments} + 1));
        s.fins = static_cast<uint32_t>(r.count(uint64_t{s.tcp_loss.segments} + 1));
        s.data_fins = static_cast<uint32_t>(r.count(uint64_t{s.fins} + 1));
        s.port_partners.resize(r.count(s.ports.size()));
        for (auto& [p, q] : s.port_partners) p = r.u8(), q = r.u8();
        for (auto [p, q] : s.port_partners)
            if (p >= s.ports.size() || q >= s.ports.size()) return Status::corrupt(what + ": UDP port partner outside the ranked ports");
    }
    if (format >= 8) read_format8(r, s);
    if (format >= 9) read_format9(r, s);
    if (format >= 11) read_format11(r, s);
    if (format >= 12) read_format12(r, s);
    if (format >= 13) read_format13(r, s);
    if (format >= 14) read_format14(r, s);
    if (format >= 17 && !read_format17(r, s)) return Status::corrupt(what + ": a ranked port's protocols are out of range");
    if (format >= 18 && !read_format18(r, s)) return Status::corrupt(what + ": a start bucket has more TCP flows than flows");
    if (format >= 21 && !read_format21(r, s) && !r.failed())
        return Status::corrupt(what + ": start buckets' packets disagree with their flows or the chunk's IP packets");
    if (format >= 26 && !read_format26(r, s) && !r.failed())
        return Status::corrupt(what + ": a connection at the chunk's edge names a host outside the ranked hosts");
    if (format >= 27) read_format27(r, s);
    if (format >= 28 && !read_format28(r, s) && !r.failed())
        return Status::corrupt(what + ": a UDP service names a port or host outside the ranked ones, or a share over 15ths, or unknown flags");
    if (format >= 30) read_roles(r, s.tcp_roles, s.hosts.size());
    if (format >= 31) read_roles(r, s.tcp_port_roles, s.ports.size());
    if (format >= 35 && !read_format35(r, s) && !r.failed())
        return Status::corrupt(what + ": the ranked ports serve more flows than the chunk has");
    if (format >= 36 && !read_format36(r, s) && !r.failed())
        return Status::corrupt(what + ": a UDP service's pair of hosts is outside the ranked ones, one host twice, a share over 15ths, or beside a single host");
    if (format >= 37 && !read_format37(r, s) && !r.failed())
        return Status::corrupt(what + ": an ARP role has an unknown kind, names a host outside the ranked ones, or counts more frames than the chunk has");
    if (format >= 38 && !read_icmp_hosts(r, s, s.icmp_senders) && !r.failed())
        return Status::corrupt(what + ": an ICMP kind's sender is outside the ranked hosts, or the kind is no error");
    if (format >= 39 && !read_icmp_hosts(r, s, s.icmp_receivers) && !r.failed())
        return Status::corrupt(what + ": an ICMP kind's receiver is outside the ranked hosts, or the kind is no error");
    if (format >= 40) read_format40(r, s);
    if (format >= 41 && !read_format41(r, s) && !r.failed())
        return Status::corrupt(what + ": the TCP loss of the two ends does not add up to the chunk's");
    if (format >= 43 && !read_format43(r, s) && !r.failed())
        return Status::corrupt(what + ": an end has fewer ACKs of unseen data than runs of them");
    if (format >= 44) read_format44(r, s);  // more than the end's retransmissions fails the reader
    if (format >= 47 && !read_format47(r, s) && !r.failed())
        return Status::corrupt(what + ": an end resent more FINs than it sent, or the wait for a first resend disagrees with whether any FIN was resent");
    if (format >= 51) s.longest_syn_attempt = static_cast<uint32_t>(r.count(kMaxSynAttempt));
    if (format >= 52)
        for (uint32_t& l : s.longest_icmp_error) l = static_cast<uint32_t>(r.count(65535));
    if (format >= 53) {
        s.syn_timer.first_ms = static_cast<uint32_t>(r.count(kMaxSynTimerMs));
        s.syn_timer.backoff = static_cast<uint32_t>(r.count(2));
    }
    if (format >= 55 && !read_format55(r, s) && !r.failed())
        return Status::corrupt(what + ": a gateway's twin names a gateway outside the gateway MACs, one twice or out of order, its own MAC, or an unknown direction");
    if (format >= 57)  // an end's reordered segments are of its retransmissions
        for (int e = 0; e < 2; ++e) s.reordered[e] = static_cast<uint32_t>(r.count(s.loss_ends[e].retrans));
    if (format >= 58) s.error_flows = static_cast<uint32_t>(r.count(s.ip_packets));  // no more than the chunk's IP packets
    if (format >= 60) s.superseded_resets = static_cast<uint32_t>(r.count(s.superseding_opens));  // of the superseding openings
    if (format >= 62) {
        s.igmp_dests.resize(r.count(kIgmpDests));
        for (IgmpDest& d : s.igmp_dests) {
            d.slot = static_cast<uint8_t>(r.count(255)), d.packets = static_cast<uint32_t>(r.count(s.ip_packets));
            d.ip_len = static_cast<uint16_t>(r.count(65535)), d.sender = r.u8();
        }
    }
    if (format >= 63) s.bcast_host_scopes = r.u8();
    if (format >= 64) {
        s.icmp_opened.resize(s.icmp.size());
        for (IcmpOpened& o : s.icmp_opened) o.flows = static_cast<uint32_t>(r.count(UINT32_MAX)), o.packets = r.count(s.ip_packets);
    }
    if (format >= 65)
        for (GapPlace& p : s.gap_places) p.mean = r.u8(), p.spread = r.u8();
    if (format >= 66)
        for (GapPlace& p : s.cont_places) p.mean = r.u8(), p.spread = r.u8();
    if (r.failed() || !r.at_end()) return Status::corrupt(what + ": side information is truncated or malformed");
    if (s.syn_timer.backoff == 0) return Status::corrupt(what + ": the SYN resend timer's backoff is 0");
    if (s.format >= 6 && (s.host_sem.size() != s.hosts.size() || s.proto_flows.size() != s.protos.size()))
        return Status::corrupt(what + ": host or protocol semantics disagree with the ranked lists");
    if (s.nonip_packets && s.nonip_types.empty()) return Status::corrupt(what + ": non-IP frames without their types");
    if (s.bcast_host_scopes & ~kBcastHostScopes) return Status::corrupt(what + ": unknown scopes of .255 hosts");
    if (!gap_places_valid(s.gap_places) || !gap_places_valid(s.cont_places) || s.cont_places[0] != GapPlace{})
        return Status::corrupt(what + ": a gap class's place has no spread, or the shortest silence class has a place");
    if (!icmp_opened_valid(s)) return Status::corrupt(what + ": the ICMP kinds opened more flows or packets than the chunk holds");
    if (!igmp_dests_valid(s.igmp_dests, s.hosts.size()))
        return Status::corrupt(what + ": an IGMP receiver or its sender is not a ranked host, or a receiver is its own sender, listed twice, out of order, or without a message of IGMP's length");
    if (s.flows() > s.ip_packets || (s.ip_packets && !s.flows()) || (s.flows() && s.protos.empty()))
        return Status::corrupt(what + ": flow counts disagree with packet counts");
    return s;
}

}  // namespace dgc::trainer
