#include "codec/fidelity/report_glossary.h"

#include <array>

namespace dgc::fidelity {
namespace {

// Order and names follow kMetricNames, kJointNames and kSemanticNames.
constexpr std::array<GlossaryEntry, 35> kGlossary = {{
    {"sa", "source addresses: packets per source address, ranked most frequent first (rank\u2013frequency)"},
    {"da", "destination addresses: packets per destination address, ranked (rank\u2013frequency)"},
    {"sp", "source port of TCP and UDP packets"},
    {"dp", "destination port of TCP and UDP packets"},
    {"proto", "IP protocol (IPv6: the upper-layer next header) of every IP packet"},
    {"pkt_len", "IP length of every packet, in bins of 16 bytes"},
    {"ttl", "IPv4 TTL / IPv6 hop limit"},
    {"tos", "IPv4 TOS / IPv6 traffic class"},
    {"tcp_flags", "flags byte of TCP packets"},
    {"iat", "inter-arrival time: gaps between consecutive IP packets, 10 bins per decade"},
    {"pps", "packets per 1-s window, empty windows included (log2 bins)"},
    {"bps", "bytes (sum of IP lengths) per 1-s window (log2 bins)"},
    {"dsrc", "distinct source addresses per 1-s window (log2 bins)"},
    {"flow_pkts", "packets per flow (log2 bins); a flow: one protocol and endpoint pair, split by 60-s gaps"},
    {"flow_bytes", "bytes per flow (log2 bins)"},
    {"flow_dur", "flow duration, first to last packet, 10 bins per decade"},
    {"flow_start", "flow start as a percentage of the trace's span"},
    {"j_proto_len", "joint: protocol with the packet length bin, per packet"},
    {"j_svc_len", "joint: service port (the smaller of the two ports) with the length bin, per TCP/UDP packet"},
    {"j_flow_pkts_dur", "joint: packets per flow with flow duration, per flow"},
    {"j_svc_flow_bytes", "joint: service port with bytes per flow, per flow"},
    {"j_flow_gap_len", "joint: gap to the previous packet of the same flow with the packet length bin"},
    {"tcp_completeness", "per TCP connection, which of SYN, SYN-ACK, bare ACK, data, FIN, RST it has (tshark's tcp.completeness)"},
    {"syn_payload", "per SYN or SYN-ACK, whether it carries data"},
    {"tcp_header", "per TCP segment: flags class, header length and the option kinds it carries"},
    {"exact_len", "exact IP lengths: every length that is at least 0.5 % of either trace, the rest in 16-byte classes"},
    {"icmp_mix", "ICMP and ICMPv6 type and code"},
    {"udp_pairing", "per UDP flow: whether it is answered, and whether the higher or the lower port speaks first"},
    {"addr_class_hosts", "address class (private, public, multicast, broadcast, link-local, ...) of each distinct address"},
    {"addr_class_pkts", "per packet, the classes of its source and destination addresses"},
    {"macs_per_ip", "Ethernet only: how many MAC addresses an IP address appears with"},
    {"ips_per_mac", "Ethernet only: what share of the trace's IP addresses a MAC address carries (a gateway carries many)"},
    {"tcp_anomaly", "per TCP segment, tshark-style sequence analysis: ok, gap, keep-alive, out of order, retransmission, ack of unseen data"},
    {"tcp_anomaly_dirs", "per connection direction, which anomalies it has and how dense they are"},
    {"replay", "share of synthetic flows whose key (addresses, ports, protocol) is a real flow's: lower is less memorisation"},
}};

}  // namespace

std::span<const GlossaryEntry> glossary() { return kGlossary; }

std::string_view meaning_of(std::string_view name) {
    for (const GlossaryEntry& e : kGlossary)
        if (e.name == name) return e.meaning;
    return {};
}

}  // namespace dgc::fidelity
