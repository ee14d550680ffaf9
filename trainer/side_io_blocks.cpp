#include "trainer/side_io_blocks.h"

#include "trainer/edge_connections.h"
#include "trainer/icmp_senders.h"

namespace dgc::trainer::side_blocks {

// Format 26's block: the connections cut by the chunk's first and last edge, each list a
// count and then its entries (edge_connections.h).
void write_format26(ByteWriter& w, const ChunkSide& s) {
    for (const auto* list : {&s.edge_in, &s.edge_out}) {
        w.varint(list->size());
        for (const EdgeConnection& e : *list) {
            w.u8(e.client_slot), w.u8(e.server_slot), w.u16(e.client_port), w.u16(e.server_port);
            w.u32(e.client_seq), w.u32(e.server_seq);
        }
    }
}

bool read_format26(ByteReader& r, ChunkSide& s) {
    for (auto* list : {&s.edge_in, &s.edge_out}) {
        list->resize(r.count(kEdgeConnections));
        for (EdgeConnection& e : *list) {
            e.client_slot = r.u8(), e.server_slot = r.u8(), e.client_port = r.u16(), e.server_port = r.u16();
            e.client_seq = r.u32(), e.server_seq = r.u32();
            if (e.client_slot >= s.hosts.size() || e.server_slot >= s.hosts.size()) return false;
        }
    }
    return true;
}

// Format 27's block: the openings that superseded a connection, and those closed by its client.
void write_format27(ByteWriter& w, const ChunkSide& s) { w.varint(s.superseding_opens), w.varint(s.superseded_by_client); }

void read_format27(ByteReader& r, ChunkSide& s) {
    s.superseding_opens = static_cast<uint32_t>(r.count(1ull << 32));
    s.superseded_by_client = static_cast<uint32_t>(r.count(uint64_t{s.superseding_opens} + 1));
}

// Format 28's block: the well-known UDP ports' entries (a count, then each), then the UDP
// repeats from ephemeral ports.
void write_format28(ByteWriter& w, const ChunkSide& s) {
    w.varint(s.udp_services.size());
    for (const UdpService& u : s.udp_services) {
        w.u8(u.port), w.u8(u.host), w.u8(u.client);
        w.varint(u.len_in), w.u8(u.share_in), w.varint(u.len_out), w.u8(u.share_out), w.u8(u.flags);
    }
    w.varint(s.udp_ephemeral_repeats);
}

bool read_format28(ByteReader& r, ChunkSide& s) {
    s.udp_services.resize(r.count(s.ports.size()));
    for (UdpService& u : s.udp_services) {
        u.port = r.u8(), u.host = r.u8(), u.client = r.u8();
        u.len_in = static_cast<uint16_t>(r.count(65535)), u.share_in = r.u8();
        u.len_out = static_cast<uint16_t>(r.count(65535)), u.share_out = r.u8(), u.flags = r.u8();
        if (u.port >= s.ports.size() || (u.host != UdpService::kNoServiceHost && u.host >= s.hosts.size()) ||
            (u.client != UdpService::kNoServiceHost && u.client >= s.hosts.size()) || u.share_in > 15 ||
            u.share_out > 15 || u.flags > UdpService::kAllFlags)
            return false;
    }
    s.udp_ephemeral_repeats = static_cast<uint32_t>(r.count(1ull << 32));
    return true;
}

// Two bits per entry of `roles` (`count` of them), four entries to a byte.
void write_roles(ByteWriter& w, const std::vector<uint8_t>& roles, size_t count) {
    for (size_t i = 0; i < count; i += 4) {
        uint8_t b = 0;
        for (size_t k = 0; k < 4 && i + k < count; ++k)
            b |= static_cast<uint8_t>((i + k < roles.size() ? roles[i + k] & 3 : 0) << (2 * k));
        w.u8(b);
    }
}

void read_roles(ByteReader& r, std::vector<uint8_t>& roles, size_t count) {
    roles.assign(count, 0);
    for (size_t i = 0; i < count; i += 4) {
        const uint8_t b = r.u8();
        for (size_t k = 0; k < 4 && i + k < count; ++k) roles[i + k] = (b >> (2 * k)) & 3;
    }
}

// Format 35's block: each ranked port's UDP flows at the server's end, never more than the flows.
void write_format35(ByteWriter& w, const ChunkSide& s) {
    for (size_t i = 0; i < s.ports.size(); ++i) w.varint(i < s.udp_port_flows.size() ? s.udp_port_flows[i] : 0);
}

bool read_format35(ByteReader& r, ChunkSide& s) {
    s.udp_port_flows.resize(s.ports.size());
    uint64_t total = 0;
    for (auto& n : s.udp_port_flows) total += n = static_cast<uint32_t>(r.count(1ull << 32));
    return total <= s.flows();
}

// Format 36's block: per UDP service entry, the pair of hosts that holds it (none, or two
// distinct ranked hosts and the first's share in 15ths), only where no one host does.
void write_format36(ByteWriter& w, const ChunkSide& s) {
    for (const UdpService& u : s.udp_services) {
        w.u8(u.pair[0]);
        if (u.pair[0] != UdpService::kNoServiceHost) w.u8(u.pair[1]), w.u8(u.pair_share);
    }
}

bool read_format36(ByteReader& r, ChunkSide& s) {
    for (UdpService& u : s.udp_services) {
        u.pair[0] = r.u8();
        if (u.pair[0] == UdpService::kNoServiceHost) continue;
        u.pair[1] = r.u8(), u.pair_share = r.u8();
        if (u.host != UdpService::kNoServiceHost || u.pair[0] >= s.hosts.size() || u.pair[1] >= s.hosts.size() ||
            u.pair[0] == u.pair[1] || u.pair_share > 15)
            return false;
    }
    return true;
}

// Format 37's block: the ARP roles (a count, then each; a request's and a reply's target).
void write_format37(ByteWriter& w, const ChunkSide& s) {
    w.varint(s.arp_roles.size());
    for (const ArpRole& a : s.arp_roles) {
        w.u8(a.kind), w.u8(a.sender);
        if (a.kind == kArpRequest || a.kind == kArpReply) w.u8(a.target);
        w.varint(a.frames), w.varint(a.unicast);
    }
}

bool read_format37(ByteReader& r, ChunkSide& s) {
    s.arp_roles.resize(r.count(kArpRoles));
    uint64_t total = 0;
    for (ArpRole& a : s.arp_roles) {
        a.kind = r.u8(), a.sender = r.u8();
        if (a.kind >= kArpKinds) return false;
        const bool pair = a.kind == kArpRequest || a.kind == kArpReply;
        a.target = pair ? r.u8() : a.sender;
        total += a.frames = static_cast<uint32_t>(r.count(s.nonip_packets));
        a.unicast = static_cast<uint32_t>(r.count(a.frames));
        if (a.sender >= s.hosts.size() || a.target >= s.hosts.size() || a.frames == 0)
            return false;
    }
    return total <= s.nonip_packets;
}

// Format 38's block (senders) and format 39's (receivers): per ICMP kind, a ranked host
// (255: none), only for an error kind.
void write_icmp_hosts(ByteWriter& w, const ChunkSide& s, const std::vector<uint8_t>& hosts) {
    for (size_t i = 0; i < s.icmp.size(); ++i) w.u8(i < hosts.size() ? hosts[i] : kNoIcmpSender);
}

bool read_icmp_hosts(ByteReader& r, const ChunkSide& s, std::vector<uint8_t>& hosts) {
    hosts.resize(s.icmp.size());
    for (size_t i = 0; i < s.icmp.size(); ++i) {
        const uint8_t slot = hosts[i] = r.u8();
        if (slot != kNoIcmpSender && (slot >= s.hosts.size() || !icmp_type_is_error(s.icmp[i].proto, s.icmp[i].type))) return false;
    }
    return true;
}

// Format 40's block: the clients' quiet TCP segments, the bare ones among them and the
// probes among those, the servers', then the one-byte probes (each bounded by what it is a
// part of; the quiet segments by the TCP segments).
void write_format40(ByteWriter& w, const TcpKeepAlives& k) {
    for (int end = 0; end < 2; ++end) w.varint(k.quiet[end]), w.varint(k.bare[end]), w.varint(k.probes[end]);
    w.varint(k.one_byte);
}

void read_format40(ByteReader& r, ChunkSide& s) {
    TcpKeepAlives& k = s.keepalives;
    for (int end = 0; end < 2; ++end) {
        k.quiet[end] = static_cast<uint32_t>(r.count(s.tcp_loss.segments));
        k.bare[end] = static_cast<uint32_t>(r.count(k.quiet[end]));
        k.probes[end] = static_cast<uint32_t>(r.count(k.bare[end]));
    }
    k.one_byte = static_cast<uint32_t>(r.count(uint64_t{k.probes[0]} + k.probes[1]));
}

// Format 41's block: the clients' TCP segments, gaps, retransmissions and runs of ACKs of
// unseen segments (as tcp_loss), then the servers'; the two add up to tcp_loss.
void write_format41(ByteWriter& w, const ChunkSide& s) {
    for (const TcpLoss& l : s.loss_ends) w.varint(l.segments), w.varint(l.gaps), w.varint(l.retrans), w.varint(l.unseen);
}

bool read_format41(ByteReader& r, ChunkSide& s) {
    const TcpLoss& all = s.tcp_loss;
    TcpLoss sum;
    for (TcpLoss& l : s.loss_ends) {
        l.segments = static_cast<uint32_t>(r.count(all.segments));
        l.gaps = static_cast<uint32_t>(r.count(all.gaps));
        l.retrans = static_cast<uint32_t>(r.count(all.retrans));
        l.unseen = static_cast<uint32_t>(r.count(all.unseen));
        sum += l;
    }
    return sum.segments == all.segments && sum.gaps == all.gaps && sum.retrans == all.retrans && sum.unseen == all.unseen;
}

// Format 43's block: the clients' ACKs of unseen data, then the servers'; each end's at least
// its runs (format 41's) and at most its segments.
void write_format43(ByteWriter& w, const ChunkSide& s) {
    for (uint32_t n : s.unseen_acks) w.varint(n);
}

bool read_format43(ByteReader& r, ChunkSide& s) {
    bool ok = true;
    for (int end = 0; end < 2; ++end) {
        s.unseen_acks[end] = static_cast<uint32_t>(r.count(s.loss_ends[end].segments));
        ok = ok && s.unseen_acks[end] >= s.loss_ends[end].unseen;
    }
    return ok;
}

// Format 44's block: the clients' retransmissions of acknowledged data, then the servers';
// each end's at most its retransmissions (format 41's).
void write_format44(ByteWriter& w, const ChunkSide& s) {
    for (uint32_t n : s.spurious_retrans) w.varint(n);
}

void read_format44(ByteReader& r, ChunkSide& s) {
    for (int end = 0; end < 2; ++end) s.spurious_retrans[end] = static_cast<uint32_t>(r.count(s.loss_ends[end].retrans));
}

// Format 47's block: the clients' FINs and how many of them were resent once, twice ... 16
// times or more (16 counts), the servers', then the median wait for a first resend in ms (0
// when none was resent). An end's FINs are at most its TCP segments (format 41's), the
// resent ones at most its FINs.
void write_format47(ByteWriter& w, const FinResends& f) {
    for (int end = 0; end < 2; ++end) {
        w.varint(f.fins[end]);
        for (uint32_t n : f.by_count[end]) w.varint(n);
    }
    w.varint(f.first_gap_ms);
}

bool read_format47(ByteReader& r, ChunkSide& s) {
    FinResends& f = s.fin_resends;
    bool ok = true;
    for (int end = 0; end < 2; ++end) {
        f.fins[end] = static_cast<uint32_t>(r.count(s.loss_ends[end].segments));
        for (uint32_t& n : f.by_count[end]) n = static_cast<uint32_t>(r.count(f.fins[end]));
        ok = ok && f.resent(end) <= f.fins[end];
    }
    f.first_gap_ms = static_cast<uint32_t>(r.count(kMaxFinResendGapMs));
    return ok && (f.first_gap_ms > 0) == (f.resent(0) + f.resent(1) > 0);
}

// Format 55: the twins (a count, then gateway index, MAC id and direction each), then where
// there are twins one bit per ranked host, eight to a byte, low bit first.
void write_format55(ByteWriter& w, const ChunkSide& s) {
    const GatewayTwins& t = s.gateway_twins;
    w.varint(t.twins.size());
    for (const auto& g : t.twins) w.u8(g.gateway), w.u16(g.mac), w.u8(g.receives);
    const size_t bits = t.twins.empty() ? 0 : s.hosts.size();
    for (size_t i = 0; i < bits; i += 8) {
        uint8_t byte = 0;
        for (size_t b = 0; b < 8 && i + b < bits; ++b) byte |= static_cast<uint8_t>(i + b < t.hosts.size() && t.hosts[i + b]) << b;
        w.u8(byte);
    }
}

bool read_format55(ByteReader& r, ChunkSide& s) {
    GatewayTwins& t = s.gateway_twins;
    t.twins.resize(r.count(s.gateway_macs.size()));
    bool ok = true;
    for (size_t i = 0; i < t.twins.size(); ++i) {
        auto& g = t.twins[i];
        g.gateway = r.u8(), g.mac = r.u16();
        const uint8_t receives = r.u8();
        g.receives = receives == 1;
        ok = ok && g.gateway < s.gateway_macs.size() && (i == 0 || g.gateway > t.twins[i - 1].gateway) && g.mac &&
             g.mac != s.gateway_macs[g.gateway].mac && receives <= 1;
    }
    if (!ok) return false;
    t.hosts.resize(t.twins.empty() ? 0 : s.hosts.size());
    for (size_t i = 0; i < t.hosts.size(); i += 8) {
        const uint8_t byte = r.u8();
        for (size_t b = 0; b < 8 && i + b < t.hosts.size(); ++b) t.hosts[i + b] = (byte >> b) & 1;
    }
    return true;
}

}  // namespace dgc::trainer::side_blocks
