// PacketRecord: one captured frame reduced to the header fields dgcfs models and
// re-synthesizes. Everything downstream (fidelity, trainer, fs) speaks in records.
// Field names follow ../shared/spec/fidelity.md where the spec names them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace dgc {

// Link-layer header types (pcap LINKTYPE_* values) the codec can parse into IP.
enum class LinkType : uint16_t {
    kNull = 0,        // BSD loopback, host byte order family
    kEthernet = 1,
    kRaw = 101,       // LINKTYPE_RAW (also DLT 12/14 on disk)
    kLoop = 108,      // OpenBSD loopback, network byte order family
    kLinuxSll = 113,
    kIpv4 = 228,
    kIpv6 = 229,
    kLinuxSll2 = 276,
};

// DNS's port, and the bytes of a DNS message's header (id, flags, four counts).
inline constexpr uint16_t kDnsPort = 53;
inline constexpr uint32_t kDnsHeaderLen = 12;

// Bits of PacketRecord::present: which parts of the frame were captured.
enum PresentBits : uint16_t {
    kHasIp = 1u << 0,          // IPv4/IPv6 header fully captured
    kHasPorts = 1u << 1,       // TCP/UDP ports captured and not a non-first fragment
    kHasTcp = 1u << 2,         // full fixed TCP header (seq, ack, flags, window)
    kHasUdp = 1u << 3,         // full UDP header
    kHasIcmp = 1u << 4,        // ICMP/ICMPv6 type+code
    kTruncated = 1u << 5,      // caplen ended inside a header we wanted
    kHasDns = 1u << 6,         // a DNS header (id, flags) after the UDP header, port 53
    kHasQuote = 1u << 7,       // an ICMP error's quoted IP header and its 8 bytes (PacketRecord::quote)
    // An IGMP message of a type hosts and routers send (a query, a report, a leave; not the
    // multicast routing protocols): its type, max response code and bytes 4-7 in
    // icmp_type, icmp_code and icmp_rest (IGMP's first 8 bytes have ICMP's shape), a
    // version 3 report's first records in igmp_records. Synthesized as stacks send IGMP:
    // after a Router Alert option, the whole message captured.
    kHasIgmp = 1u << 8,
};

// One group record of an IGMPv3 membership report (its sources are not kept).
struct IgmpRecord {
    uint8_t type = 0;  // 2 MODE_IS_EXCLUDE (after a query), 4 CHANGE_TO_EXCLUDE_MODE (a join), ... (RFC 3376 4.2.12)
    std::array<uint8_t, 4> group{};
    bool operator==(const IgmpRecord&) const = default;
};
inline constexpr size_t kIgmpRecordsKept = 4;
inline constexpr uint8_t kIgmpQuery = 0x11, kIgmpV1Report = 0x12, kIgmpV2Report = 0x16, kIgmpLeave = 0x17, kIgmpV3Report = 0x22;

// What an ICMP error quotes of the packet that caused it: that packet's IP header (same IP
// version as the error, no options or extension headers) and the first 8 bytes after it
// (ports and TCP's sequence number, UDP's length and checksum, an echo's id and sequence).
struct IcmpQuote {
    std::array<uint8_t, 16> src{}, dst{};
    uint8_t proto = 0, ttl = 0, tos = 0;
    bool df = false;
    uint16_t ip_len = 0;  // IPv4 total length; IPv6 payload length + 40
    uint16_t ip_id = 0;   // IPv4 only
    std::array<uint8_t, 8> l4{};
    bool operator==(const IcmpQuote&) const = default;
};

// Bits of PacketRecord::tcp_opts: the TCP option kinds a segment carried (NOP and EOL are
// padding and not counted).
enum TcpOptionBits : uint8_t {
    kOptMss = 1u << 0,        // kind 2
    kOptWscale = 1u << 1,     // kind 3
    kOptSackPerm = 1u << 2,   // kind 4
    kOptTimestamp = 1u << 3,  // kind 8
    kOptSack = 1u << 4,       // kind 5 (SACK blocks)
    kOptOther = 1u << 5,      // any other kind
};

struct PacketRecord {
    int64_t t_ns = 0;             // capture timestamp, integer ns
    uint32_t caplen = 0;          // bytes captured
    uint32_t wirelen = 0;         // original length on the wire
    uint16_t linktype = 1;        // pcap LINKTYPE of the trace (per interface for pcapng)
    uint16_t ethertype = 0;       // L3 type after link header and tags (0x0800, 0x86dd, 0x0806, ...)
    uint8_t vlan_depth = 0;       // 802.1Q/802.1ad tags seen
    uint16_t vlan_id = 0;         // outermost VLAN id, when vlan_depth > 0
    uint16_t present = 0;         // PresentBits
    // Ethernet addresses (LINKTYPE_ETHERNET only; zero elsewhere)
    std::array<uint8_t, 6> eth_dst{};
    std::array<uint8_t, 6> eth_src{};

    // IP (valid when present & kHasIp)
    uint8_t ip_version = 0;       // 4 or 6; 0 for non-IP
    std::array<uint8_t, 16> src{};  // IPv4 in the first 4 bytes
    std::array<uint8_t, 16> dst{};
    uint8_t proto = 0;            // IPv4 protocol / IPv6 upper-layer next header
    uint32_t ip_len = 0;          // IPv4 total length; IPv6 payload length + 40 (from header)
    uint8_t ttl = 0;              // TTL / hop limit
    uint8_t tos = 0;              // TOS / traffic class
    uint32_t ip_id = 0;           // IPv4 id (16 bit); IPv6 fragment id when a fragment header exists
    bool df = false;
    bool mf = false;
    uint16_t frag_offset = 0;     // in 8-byte units
    uint32_t flow_label = 0;      // IPv6 only

    // Transport
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t tcp_flags = 0;        // FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80
    uint16_t window = 0;
    uint8_t tcp_opt_len = 0;      // bytes of TCP options (data offset*4 - 20)
    // Options as parsed (TcpOptionBits), and the values a host's stack put in them. A
    // synthesized record with tcp_opts == 0 and tcp_opt_len > 0 gets NOP padding (the
    // generator of chunk models before format 6 wrote that; it must stay byte-identical).
    uint8_t tcp_opts = 0;
    uint8_t tcp_wscale = 0;
    uint8_t tcp_sack_blocks = 0;  // SACK blocks carried (kOptSack)
    // A synthesized SACK's blocks: each `tcp_sack_len` bytes, after a hole of `tcp_sack_hole`
    // bytes above the ACK (or the previous block). 0: the edges are written as zeros (parsed
    // records do not keep them).
    uint16_t tcp_sack_hole = 0, tcp_sack_len = 0;
    uint16_t tcp_mss = 0;
    uint32_t tcp_tsval = 0;
    uint32_t tcp_tsecr = 0;
    uint16_t udp_len = 0;
    uint16_t dns_id = 0;          // kHasDns: the message's id and flags (its counts are not kept)
    uint16_t dns_flags = 0;
    uint8_t icmp_type = 0;
    uint8_t icmp_code = 0;
    uint32_t icmp_rest = 0;       // ICMP bytes 4-7: echo id << 16 | sequence, MTU, pointer...
    uint16_t arp_op = 0;          // ARP opcode (ethertype 0x0806; sender/target IPv4 in src/dst)
    IcmpQuote quote;              // kHasQuote
    std::array<IgmpRecord, kIgmpRecordsKept> igmp_records{};  // kHasIgmp, type 0x22: its first records

    bool is_ip() const { return (present & kHasIp) != 0; }
    bool has_ports() const { return (present & kHasPorts) != 0; }

    bool operator==(const PacketRecord&) const = default;
};

}  // namespace dgc
