#include "codec/frame_parse.h"

#include <algorithm>
#include <cstring>

#include "codec/byte_order.h"
#include "codec/icmp_quote.h"

namespace dgc {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherArp = 0x0806;

// Ethernet/IPv4 ARP: the opcode and the sender and target protocol addresses (into src/dst);
// the record stays non-IP.
void parse_arp(const uint8_t* p, uint32_t n, PacketRecord& r) {
    if (n < 28 || load_be16(p) != 1 || load_be16(p + 2) != kEtherIpv4 || p[4] != 6 || p[5] != 4) return;
    r.arp_op = load_be16(p + 6);
    std::memcpy(r.src.data(), p + 14, 4);
    std::memcpy(r.dst.data(), p + 24, 4);
}
// More than this many stacked tags is not traffic but garbage; stop rather than loop.
constexpr int kMaxVlanTags = 16;

bool is_vlan_tpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100 || t == 0x9200; }

// 802.1Q/802.1ad tags from `off` (the tag starts right after the 2-byte type field, whose
// value is `type`). Updates off/type past every tag; sets truncated when a tag is cut.
void skip_vlan_tags(const uint8_t* p, uint32_t caplen, uint32_t& off, uint16_t& type, LinkLayer& ll) {
    while (is_vlan_tpid(type) && ll.vlan_depth < kMaxVlanTags) {
        if (caplen < off + 4) {
            ll.truncated = true;
            return;
        }
        if (ll.vlan_depth == 0) ll.vlan_id = load_be16(p + off) & 0x0fff;
        ++ll.vlan_depth;
        type = load_be16(p + off + 2);
        off += 4;
    }
}

// IEEE 802.3 length field instead of a type: only LLC/SNAP with the zero OUI carries an ethertype.
void parse_8023_llc(const uint8_t* p, uint32_t caplen, uint32_t& off, uint16_t& type, LinkLayer& ll) {
    if (caplen < off + 8) {
        type = 0;
        return;
    }
    const uint8_t* l = p + off;
    if (l[0] == 0xaa && l[1] == 0xaa && l[2] == 0x03 && l[3] == 0 && l[4] == 0 && l[5] == 0) {
        type = load_be16(l + 6);
        off += 8;
        skip_vlan_tags(p, caplen, off, type, ll);
    } else {
        type = 0;  // plain LLC (STP, NetBIOS...): not IP
    }
}

uint16_t ethertype_of_ip_version(uint8_t first_byte) {
    switch (first_byte >> 4) {
        case 4: return kEtherIpv4;
        case 6: return kEtherIpv6;
        default: return 0;
    }
}

// BSD address families for IPv6 differ per OS (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS, 10 Linux).
uint16_t ethertype_of_af(uint32_t af) {
    switch (af) {
        case 2: return kEtherIpv4;
        case 10: case 24: case 28: case 30: return kEtherIpv6;
        default: return 0;
    }
}

// TCP and UDP start with the ports: a header cut after them still yields them.
void read_ports(const uint8_t* p, uint32_t n, PacketRecord& r) {
    if (n < 4) return;
    r.sport = load_be16(p);
    r.dport = load_be16(p + 2);
    r.present |= kHasPorts;
}

// The option kinds and the values of MSS, window scale, SACK blocks and timestamps, over
// the captured part of the option bytes; a malformed option ends the walk.
void parse_tcp_options(const uint8_t* p, uint32_t n, PacketRecord& r) {
    for (uint32_t i = 0; i < n;) {
        const uint8_t kind = p[i];
        if (kind == 0) return;  // end of option list
        if (kind == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= n || p[i + 1] < 2 || i + p[i + 1] > n) return;
        const uint8_t len = p[i + 1];
        const uint8_t* v = p + i + 2;
        switch (kind) {
            case 2:
                r.tcp_opts |= kOptMss;
                if (len == 4) r.tcp_mss = load_be16(v);
                break;
            case 3:
                r.tcp_opts |= kOptWscale;
                if (len == 3) r.tcp_wscale = v[0];
                break;
            case 4: r.tcp_opts |= kOptSackPerm; break;
            case 5:
                r.tcp_opts |= kOptSack;
                r.tcp_sack_blocks = static_cast<uint8_t>((len - 2) / 8);
                break;
            case 8:
                r.tcp_opts |= kOptTimestamp;
                if (len == 10) r.tcp_tsval = load_be32(v), r.tcp_tsecr = load_be32(v + 4);
                break;
            default: r.tcp_opts |= kOptOther; break;
        }
        i += len;
    }
}

// Protocols whose header parse_transport reads; a frame cut before it is truncated.
bool transport_wanted(uint8_t proto) { return proto == 6 || proto == 17 || proto == 1 || proto == 58; }

}  // namespace

uint32_t normalize_linktype(uint32_t linktype) {
    return (linktype == 12 || linktype == 14) ? static_cast<uint32_t>(LinkType::kRaw) : linktype;
}

LinkLayer parse_link(uint32_t linktype, const uint8_t* p, uint32_t caplen) {
    LinkLayer ll;
    ll.known = true;
    // True (and the frame marked truncated) when the link header needs more than was captured.
    const auto cut_before = [&](uint32_t need) { return ll.truncated = caplen < need; };
    uint32_t off = 0;
    uint16_t type = 0;
    switch (static_cast<LinkType>(normalize_linktype(linktype))) {
        case LinkType::kEthernet:
            if (cut_before(14)) return ll;
            type = load_be16(p + 12);
            off = 14;
            if (type < 0x0600) {
                parse_8023_llc(p, caplen, off, type, ll);
            } else {
                skip_vlan_tags(p, caplen, off, type, ll);
            }
            break;
        case LinkType::kLinuxSll:
            if (cut_before(16)) return ll;
            type = load_be16(p + 14);
            off = 16;
            skip_vlan_tags(p, caplen, off, type, ll);
            break;
        case LinkType::kLinuxSll2:
            if (cut_before(20)) return ll;
            type = load_be16(p);
            off = 20;
            skip_vlan_tags(p, caplen, off, type, ll);
            break;
        case LinkType::kRaw:
            if (cut_before(1)) return ll;
            type = ethertype_of_ip_version(p[0]);
            break;
        case LinkType::kIpv4:
            type = kEtherIpv4;
            break;
        case LinkType::kIpv6:
            type = kEtherIpv6;
            break;
        case LinkType::kNull:
        case LinkType::kLoop: {
            if (cut_before(4)) return ll;
            uint32_t af = linktype == static_cast<uint32_t>(LinkType::kLoop) ? load_be32(p) : load_le32(p);
            // NULL is in the capturing host's byte order: a big-endian host's value
            // read little-endian lands in the top bytes.
            if ((af & 0xffff0000u) != 0) af = __builtin_bswap32(af);
            type = ethertype_of_af(af);
            off = 4;
            break;
        }
        default:
            ll.known = false;
            return ll;
    }
    ll.l3_offset = off;
    ll.ethertype = type;
    return ll;
}

namespace {

// Queries, version 1 and 2 reports, leaves and version 3 reports: the messages a host or
// router sends, which frame_synth writes back. Others (DVMRP, mtrace, router discovery, or
// sifely's hub's all-zero type 0, which tshark calls malformed) stay an IP header.
bool igmp_type_written(uint8_t type) {
    return type == kIgmpQuery || type == kIgmpV1Report || type == kIgmpV2Report || type == kIgmpLeave || type == kIgmpV3Report;
}

void parse_igmp(const uint8_t* p, uint32_t n, PacketRecord& r) {
    if (!igmp_type_written(p[0])) return;
    r.icmp_type = p[0];
    r.icmp_code = p[1];
    r.icmp_rest = load_be32(p + 4);
    r.present |= kHasIgmp;
    if (r.icmp_type != kIgmpV3Report) return;
    // Group records: type, aux data length (words), source count, group, sources, aux data.
    const uint32_t records = r.icmp_rest & 0xffff;
    uint32_t at = 8;
    for (uint32_t i = 0; i < records && i < kIgmpRecordsKept && at + 8 <= n; ++i) {
        r.igmp_records[i].type = p[at];
        std::memcpy(r.igmp_records[i].group.data(), p + at + 4, 4);
        at += 8 + 4u * load_be16(p + at + 2) + 4u * p[at + 1];
    }
}

}  // namespace

void parse_transport(uint8_t proto, const uint8_t* p, uint32_t n, PacketRecord& r) {
    switch (proto) {
        case 6:  // TCP
            read_ports(p, n, r);
            if (n < 20) {
                r.present |= kTruncated;
                return;
            }
            r.seq = load_be32(p + 4);
            r.ack = load_be32(p + 8);
            {
                const uint32_t data_off = (p[12] >> 4) * 4u;
                r.tcp_opt_len = data_off >= 20 ? static_cast<uint8_t>(data_off - 20) : 0;
                if (data_off > 20) parse_tcp_options(p + 20, std::min(n, data_off) - 20, r);
            }
            r.tcp_flags = p[13];
            r.window = load_be16(p + 14);
            r.present |= kHasTcp;
            return;
        case 17:  // UDP
            read_ports(p, n, r);
            if (n < 8) {
                r.present |= kTruncated;
                return;
            }
            r.udp_len = load_be16(p + 4);
            r.present |= kHasUdp;
            if ((r.sport == kDnsPort || r.dport == kDnsPort) && n >= 8 + kDnsHeaderLen) {
                r.dns_id = load_be16(p + 8);
                r.dns_flags = load_be16(p + 10);
                r.present |= kHasDns;
            }
            return;
        case 1:    // ICMP
        case 58:   // ICMPv6
            if (n < 2) {
                r.present |= kTruncated;
                return;
            }
            r.icmp_type = p[0];
            r.icmp_code = p[1];
            if (n >= 8) r.icmp_rest = load_be32(p + 4);
            r.present |= kHasIcmp;
            if (n > 8 && icmp_is_error(r) && parse_icmp_quote(icmp_quote_version(proto), p + 8, n - 8, r.quote)) r.present |= kHasQuote;
            return;
        case 2:  // IGMP (IPv4's protocol 2; IPv6 has none)
            if (r.ip_version == 4 && n >= 8) parse_igmp(p, n, r);
            return;
        default:
            return;
    }
}

namespace {

bool parse_ipv4(const uint8_t* p, uint32_t n, PacketRecord& r) {
    if (n < 20) return false;
    const uint32_t ihl = (p[0] & 0x0f) * 4u;
    if (ihl < 20) return false;
    r.ip_version = 4;
    r.tos = p[1];
    r.ip_len = load_be16(p + 2);
    r.ip_id = load_be16(p + 4);
    const uint16_t frag = load_be16(p + 6);
    r.df = (frag & 0x4000) != 0;
    r.mf = (frag & 0x2000) != 0;
    r.frag_offset = frag & 0x1fff;
    r.ttl = p[8];
    r.proto = p[9];
    std::memcpy(r.src.data(), p + 12, 4);
    std::memcpy(r.dst.data(), p + 16, 4);
    r.present |= kHasIp;
    if (r.frag_offset != 0) return true;  // no transport header in a non-first fragment
    if (n < ihl) {
        if (transport_wanted(r.proto)) r.present |= kTruncated;
        return true;
    }
    parse_transport(r.proto, p + ihl, n - ihl, r);
    return true;
}

bool parse_ipv6(const uint8_t* p, uint32_t n, PacketRecord& r) {
    if (n < 40) return false;
    r.ip_version = 6;
    const uint32_t w = load_be32(p);
    r.tos = static_cast<uint8_t>(w >> 20);
    r.flow_label = w & 0xfffff;
    r.ip_len = load_be16(p + 4) + 40u;
    r.ttl = p[7];
    std::memcpy(r.src.data(), p + 8, 16);
    std::memcpy(r.dst.data(), p + 24, 16);
    r.present |= kHasIp;

    uint8_t next = p[6];
    uint32_t off = 40;
    bool first_fragment = true;
    // Extension headers the spec skips. A chain longer than this is garbage: its upper
    // layer is never reached, which the record reports like a cut-off chain.
    for (int hops = 0;; ++hops) {
        if (next != 0 && next != 43 && next != 44 && next != 60) break;
        if (hops == 16) {
            r.proto = next;
            r.present |= kTruncated;
            return true;
        }
        if (n < off + 8) {
            r.proto = next;
            r.present |= kTruncated;
            return true;
        }
        const uint8_t* h = p + off;
        if (next == 44) {
            const uint16_t fo = load_be16(h + 2);
            r.frag_offset = fo >> 3;
            r.mf = (fo & 1) != 0;
            r.ip_id = load_be32(h + 4);
            first_fragment = r.frag_offset == 0;
            off += 8;
        } else {
            off += (h[1] + 1u) * 8u;
        }
        next = h[0];
    }
    r.proto = next;
    if (!first_fragment) return true;
    if (n < off) {
        if (transport_wanted(next)) r.present |= kTruncated;
        return true;
    }
    parse_transport(next, p + off, n - off, r);
    return true;
}

}  // namespace

bool parse_ip(const uint8_t* p, uint32_t n, PacketRecord& r) {
    if (n < 1) return false;
    switch (p[0] >> 4) {
        case 4: return parse_ipv4(p, n, r);
        case 6: return parse_ipv6(p, n, r);
        default: return false;
    }
}

void parse_frame(uint32_t linktype, const uint8_t* p, uint32_t caplen, PacketRecord& r) {
    const LinkLayer ll = parse_link(linktype, p, caplen);
    if (normalize_linktype(linktype) == static_cast<uint32_t>(LinkType::kEthernet) && caplen >= 12) {
        std::memcpy(r.eth_dst.data(), p, 6);
        std::memcpy(r.eth_src.data(), p + 6, 6);
    }
    r.ethertype = ll.ethertype;
    r.vlan_depth = ll.vlan_depth;
    r.vlan_id = ll.vlan_id;
    if (ll.truncated) {
        r.present |= kTruncated;
        return;
    }
    if (ll.known && ll.ethertype == kEtherArp) {
        parse_arp(p + ll.l3_offset, caplen - ll.l3_offset, r);
        return;
    }
    if (!ll.known || (ll.ethertype != kEtherIpv4 && ll.ethertype != kEtherIpv6)) return;
    const uint8_t* l3 = p + ll.l3_offset;
    const uint32_t n = caplen - ll.l3_offset;
    // The L3 type promises IP: a frame cut before the fixed IP header is truncated.
    const uint32_t need = ll.ethertype == kEtherIpv4 ? 20 : 40;
    if (n < need && (n == 0 || (l3[0] >> 4) == (ll.ethertype == kEtherIpv4 ? 4 : 6))) {
        r.present |= kTruncated;
        return;
    }
    // The ethertype and the version nibble must agree; otherwise this is not IP.
    if ((l3[0] >> 4) != (ll.ethertype == kEtherIpv4 ? 4 : 6)) return;
    parse_ip(l3, n, r);
}

}  // namespace dgc
