#include "codec/frame_synth.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "codec/byte_order.h"
#include "codec/checksum.h"
#include "codec/icmp_quote.h"

namespace dgc {
namespace {

constexpr uint8_t kMaxVlanDepth = 16;

bool ipv6_has_fragment_header(const PacketRecord& r) {
    return r.ip_version == 6 && (r.frag_offset != 0 || r.mf || r.ip_id != 0);
}

uint16_t l3_ethertype(const PacketRecord& r) {
    if (r.is_ip()) return r.ip_version == 6 ? 0x86dd : 0x0800;
    return r.ethertype;
}

// Locally administered unicast MAC from an IP address, so one host keeps one MAC.
void mac_of(const PacketRecord& r, const std::array<uint8_t, 16>& addr, uint8_t* mac) {
    uint32_t h = 2166136261u;
    const size_t n = r.ip_version == 6 ? 16 : 4;
    for (size_t i = 0; i < n; ++i) h = (h ^ addr[i]) * 16777619u;
    mac[0] = 0x02;
    mac[1] = 0x00;
    store_be32(mac + 2, h);
}

uint32_t tcp_header_len(const PacketRecord& r) {
    return 20u + std::min<uint32_t>((r.tcp_opt_len + 3u) & ~3u, 40u);
}

// ARP over Ethernet/IPv4, when the record says which (the generator before format 6 left
// the opcode 0 and wrote the link header alone).
bool arp_body(const PacketRecord& r) { return !r.is_ip() && r.ethertype == 0x0806 && r.arp_op != 0; }
constexpr uint32_t kArpBody = 28;

void write_arp(const PacketRecord& r, uint8_t* a) {
    store_be16(a, 1);
    store_be16(a + 2, 0x0800);
    a[4] = 6, a[5] = 4;
    store_be16(a + 6, r.arp_op);
    std::memcpy(a + 8, r.eth_src.data(), 6);
    std::memcpy(a + 14, r.src.data(), 4);
    // A request's target hardware address is unknown (zero); a reply's is the requester's.
    if (r.arp_op != 1) std::memcpy(a + 18, r.eth_dst.data(), 6);
    std::memcpy(a + 24, r.dst.data(), 4);
}

bool has_eth_addresses(const PacketRecord& r) {
    constexpr std::array<uint8_t, 6> kZero{};
    return r.eth_src != kZero || r.eth_dst != kZero;
}

uint32_t write_link(const PacketRecord& r, uint32_t linktype, uint8_t* out) {
    if (linktype != 1) return 0;
    if (has_eth_addresses(r)) {
        std::memcpy(out, r.eth_dst.data(), 6);
        std::memcpy(out + 6, r.eth_src.data(), 6);
    } else if (r.is_ip()) {
        mac_of(r, r.dst, out);
        mac_of(r, r.src, out + 6);
    } else {
        static const uint8_t kDst[6] = {0x02, 0, 0, 0, 0, 0x01}, kSrc[6] = {0x02, 0, 0, 0, 0, 0x02};
        std::memcpy(out, kDst, 6);
        std::memcpy(out + 6, kSrc, 6);
    }
    uint32_t off = 12;
    const uint8_t depth = std::min(r.vlan_depth, kMaxVlanDepth);
    for (uint8_t i = 0; i < depth; ++i) {
        // Outer tag of a stack is the service tag (802.1ad); the rest are 802.1Q.
        store_be16(out + off, (i == 0 && depth > 1) ? 0x88a8 : 0x8100);
        store_be16(out + off + 2, r.vlan_id & 0x0fff);
        off += 4;
    }
    store_be16(out + off, l3_ethertype(r));
    return off + 2;
}

// IGMP goes after a Router Alert option (RFC 2236, 3376), so that routers read it.
bool router_alert(const PacketRecord& r) { return r.ip_version == 4 && (r.present & kHasIgmp); }
constexpr uint32_t kRouterAlertLen = 4;

void write_ipv4(const PacketRecord& r, uint8_t* ip) {
    const uint32_t len = 20 + (router_alert(r) ? kRouterAlertLen : 0);
    ip[0] = static_cast<uint8_t>(0x40 | len / 4);
    ip[1] = r.tos;
    store_be16(ip + 2, static_cast<uint16_t>(r.ip_len));
    store_be16(ip + 4, static_cast<uint16_t>(r.ip_id));
    store_be16(ip + 6, static_cast<uint16_t>((r.df ? 0x4000 : 0) | (r.mf ? 0x2000 : 0) | (r.frag_offset & 0x1fff)));
    ip[8] = r.ttl;
    ip[9] = r.proto;
    store_be16(ip + 10, 0);
    std::memcpy(ip + 12, r.src.data(), 4);
    std::memcpy(ip + 16, r.dst.data(), 4);
    if (router_alert(r)) ip[20] = 0x94, ip[21] = 4, ip[22] = 0, ip[23] = 0;
    store_be16(ip + 10, checksum_finish(checksum_add(0, ip, len)));
}

// The IGMP message, `len` bytes: the record's 8 header bytes, then a version 3 query's
// robustness variable and interval (Linux's defaults: 2 and 125 s) and source count, or a
// version 3 report's records (no sources, the kept ones over again past the first four).
void write_igmp(const PacketRecord& r, uint8_t* m, uint32_t len) {
    m[0] = r.icmp_type;
    m[1] = r.icmp_code;
    store_be32(m + 4, r.icmp_rest);
    if (r.icmp_type == kIgmpQuery && len >= 12) {
        m[8] = 2, m[9] = 125;
        store_be16(m + 10, static_cast<uint16_t>((len - 12) / 4));
    } else if (r.icmp_type == kIgmpV3Report) {
        const uint32_t records = std::min<uint32_t>(r.icmp_rest & 0xffff, (len - 8) / 8);
        for (uint32_t i = 0; i < records; ++i) {
            const IgmpRecord& g = r.igmp_records[i % kIgmpRecordsKept];
            m[8 + 8 * i] = g.type;
            std::memcpy(m + 12 + 8 * i, g.group.data(), 4);
        }
    }
    store_be16(m + 2, checksum_finish(checksum_add(0, m, len)));
}

void write_ipv6(const PacketRecord& r, uint8_t* ip, bool frag_header) {
    store_be32(ip, (6u << 28) | (static_cast<uint32_t>(r.tos) << 20) | (r.flow_label & 0xfffff));
    store_be16(ip + 4, static_cast<uint16_t>(r.ip_len >= 40 ? r.ip_len - 40 : 0));
    ip[6] = frag_header ? 44 : r.proto;
    ip[7] = r.ttl;
    std::memcpy(ip + 8, r.src.data(), 16);
    std::memcpy(ip + 24, r.dst.data(), 16);
    if (frag_header) {
        uint8_t* f = ip + 40;
        f[0] = r.proto;
        f[1] = 0;
        store_be16(f + 2, static_cast<uint16_t>((r.frag_offset << 3) | (r.mf ? 1 : 0)));
        store_be32(f + 4, r.ip_id);
    }
}

// An ICMP error's quote: the quoted packet's IP header as the packet's own would be written,
// then its 8 transport bytes.
void write_quote(const IcmpQuote& q, uint8_t ip_version, uint8_t* out) {
    PacketRecord h;
    h.ip_version = ip_version, h.src = q.src, h.dst = q.dst, h.proto = q.proto, h.ttl = q.ttl, h.tos = q.tos, h.df = q.df;
    h.ip_len = q.ip_len, h.ip_id = q.ip_id;
    if (ip_version == 4) {
        write_ipv4(h, out);
    } else {
        write_ipv6(h, out, false);
    }
    std::memcpy(out + icmp_quote_len(ip_version) - 8, q.l4.data(), 8);
}

}  // namespace

uint32_t tcp_options_len(uint8_t kinds, uint8_t sack_blocks) {
    uint32_t n = 0;
    if (kinds & kOptMss) n += 4;
    if (kinds & (kOptTimestamp | kOptSackPerm)) n += (kinds & kOptTimestamp) ? 12 : 4;  // NOP NOP or SACK-permitted before
    if (kinds & kOptWscale) n += 4;
    if ((kinds & kOptSack) && sack_blocks) n += 4 + 8u * std::min<uint32_t>(sack_blocks, 3);  // NOP NOP kind len
    return n;
}

void write_tcp_options(const PacketRecord& r, uint8_t* o, uint32_t room) {
    // Linux's order: MSS, SACK-permitted + timestamps, window scale; NOPs keep each option
    // 4-byte aligned, EOL fills what the header length leaves.
    std::memset(o, 0, room);
    uint32_t i = 0;
    auto put = [&](std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes)
            if (i < room) o[i++] = b;
    };
    const uint8_t k = r.tcp_opts;
    if (k & kOptMss) put({2, 4, static_cast<uint8_t>(r.tcp_mss >> 8), static_cast<uint8_t>(r.tcp_mss)});
    if (k & kOptTimestamp) {
        if (k & kOptSackPerm) {
            put({4, 2});
        } else {
            put({1, 1});
        }
        put({8, 10});
        if (i + 8 <= room) store_be32(o + i, r.tcp_tsval), store_be32(o + i + 4, r.tcp_tsecr);
        i += 8;
    } else if (k & kOptSackPerm) {
        put({1, 1, 4, 2});
    }
    if (k & kOptWscale) put({1, 3, 3, r.tcp_wscale});
    if ((k & kOptSack) && r.tcp_sack_blocks) {
        const uint8_t blocks = std::min<uint8_t>(r.tcp_sack_blocks, 3);
        put({1, 1, 5, static_cast<uint8_t>(2 + 8 * blocks)});
        uint32_t edge = r.ack;
        for (uint8_t b = 0; b < blocks && i + 8 <= room; ++b, i += 8) {
            if (!r.tcp_sack_len) continue;  // edges left zero
            edge += r.tcp_sack_hole;
            store_be32(o + i, edge);
            edge += r.tcp_sack_len;
            store_be32(o + i + 4, edge);
        }
    }
}

bool synth_linktype_supported(uint32_t linktype) {
    return linktype == 1 || linktype == 101 || linktype == 228 || linktype == 229;
}

SynthLayout synth_layout(const PacketRecord& r, uint32_t linktype) {
    SynthLayout L;
    if (!synth_linktype_supported(linktype)) return L;
    if (!r.is_ip()) {
        if (linktype != 1) return L;  // raw IP links cannot carry non-IP frames
        L.link = 14 + 4u * std::min(r.vlan_depth, kMaxVlanDepth);
        L.caplen = L.link;
        // ARP frames keep their captured length (Ethernet pads them to 60); the padding is zero.
        if (arp_body(r)) L.caplen = std::clamp(r.caplen, L.link + kArpBody, L.link + 64);
        L.wirelen = std::max(r.wirelen, L.caplen);
        return L;
    }
    if ((linktype == 228 && r.ip_version != 4) || (linktype == 229 && r.ip_version != 6)) return L;
    if (r.ip_version != 4 && r.ip_version != 6) return L;
    L.link = linktype == 1 ? 14 + 4u * std::min(r.vlan_depth, kMaxVlanDepth) : 0;
    L.ip = r.ip_version == 4 ? 20 + (router_alert(r) ? kRouterAlertLen : 0) : 40 + (ipv6_has_fragment_header(r) ? 8 : 0);
    if (r.frag_offset == 0) {
        switch (r.proto) {
            case 6:
                L.transport = (r.present & kHasTcp) ? tcp_header_len(r) : (r.present & kHasPorts) ? 4 : 0;
                break;
            case 17:
                L.transport = (r.present & kHasUdp) ? 8 : (r.present & kHasPorts) ? 4 : 0;
                // The parser keeps a DNS header wherever 12 bytes follow UDP's, whatever the lengths say.
                if (L.transport == 8 && (r.present & kHasDns)) L.transport += kDnsHeaderLen;
                break;
            case 1:
            case 58:
                // 8 bytes: type, code, checksum and the 4-byte rest of header. An error's
                // quote is captured where the record has one (kHasQuote, format 33); else it is
                // left uncaptured, which readers take as snaplen, not malformed.
                L.transport = (r.present & kHasIcmp) ? 8 : 0;
                L.icmp_error = icmp_is_error(r);
                if (L.transport && L.icmp_error && (r.present & kHasQuote)) L.transport += icmp_quote_len(icmp_quote_version(r.proto));
                break;
            case 2:  // the whole IGMP message, as far as a header buffer holds it
                if (router_alert(r))
                    L.transport = std::clamp<uint32_t>(r.ip_len > L.ip ? r.ip_len - L.ip : 0, 8, kMaxSynthHeaders - L.link - L.ip);
                break;
            default:
                break;
        }
    }
    L.caplen = L.link + L.ip + L.transport;
    L.wirelen = std::max(L.link + r.ip_len, L.caplen);
    return L;
}

void synthesize_headers(const PacketRecord& r, uint32_t linktype, const SynthLayout& L, uint8_t* out) {
    if (L.caplen == 0) return;
    std::memset(out, 0, L.caplen);
    write_link(r, linktype, out);
    if (arp_body(r)) write_arp(r, out + L.link);
    if (!r.is_ip()) return;
    uint8_t* ip = out + L.link;
    if (r.ip_version == 4) {
        write_ipv4(r, ip);
    } else {
        write_ipv6(r, ip, ipv6_has_fragment_header(r));
    }
    if (L.transport == 0) return;
    uint8_t* t = ip + L.ip;
    // Upper-layer length as the IP header states it: what a receiver checksums over.
    const uint32_t l4_len = r.ip_len > L.ip ? r.ip_len - L.ip : L.transport;
    const uint8_t* src = r.src.data();
    const uint8_t* dst = r.dst.data();
    switch (r.proto) {
        case 6:
            store_be16(t, r.sport);
            store_be16(t + 2, r.dport);
            if (L.transport < 20) return;
            store_be32(t + 4, r.seq);
            store_be32(t + 8, r.ack);
            t[12] = static_cast<uint8_t>((L.transport / 4) << 4);
            t[13] = r.tcp_flags;
            store_be16(t + 14, r.window);
            if (r.tcp_opts) {
                write_tcp_options(r, t + 20, L.transport - 20);
            } else {
                std::memset(t + 20, 1, L.transport - 20);  // NOP options: always legal
            }
            store_be16(t + 16, checksum_finish(checksum_add(pseudo_header_sum(r.ip_version, src, dst, 6, l4_len),
                                                            t, L.transport)));
            return;
        case 17: {
            store_be16(t, r.sport);
            store_be16(t + 2, r.dport);
            if (L.transport < 8) return;
            store_be16(t + 4, r.udp_len);
            if (L.transport > 8) {  // the DNS header: id, flags, four zero counts
                store_be16(t + 8, r.dns_id);
                store_be16(t + 10, r.dns_flags);
            }
            uint16_t c = checksum_finish(
                checksum_add(pseudo_header_sum(r.ip_version, src, dst, 17, r.udp_len), t, L.transport));
            store_be16(t + 6, c == 0 ? 0xffff : c);  // 0 means "no checksum" in UDP
            return;
        }
        case 1:
        case 58: {
            t[0] = r.icmp_type;
            t[1] = r.icmp_code;
            store_be32(t + 4, r.icmp_rest);
            if (L.transport > 8) write_quote(r.quote, icmp_quote_version(r.proto), t + 8);
            const uint64_t base = r.proto == 58 ? pseudo_header_sum(6, src, dst, 58, l4_len) : 0;
            store_be16(t + 2, checksum_finish(checksum_add(base, t, L.transport)));
            return;
        }
        case 2:
            write_igmp(r, t, L.transport);
            return;
        default:
            return;
    }
}

PacketRecord ip_level(const PacketRecord& r) {
    PacketRecord c = r;
    c.caplen = 0;
    c.wirelen = 0;
    c.linktype = 0;
    c.vlan_depth = 0;
    c.vlan_id = 0;
    c.eth_src = {};
    c.eth_dst = {};
    // Option kinds and values are written in one canonical layout (the header length is
    // kept); a capture's own option bytes need not come back in the same order or kinds.
    c.tcp_opts = 0;
    c.tcp_wscale = 0;
    c.tcp_sack_blocks = 0;
    c.tcp_mss = 0;
    c.tcp_tsval = 0;
    c.tcp_tsecr = 0;
    return c;
}

}  // namespace dgc
