// Format 28: a UDP service keeps its server and its message sizes. The flow model draws a
// flow's hosts and ports by rank, not by role, and the packet model a datagram's length
// class, not the service it belongs to: regenerated, ultraloq's hub answered DNS queries
// from its own port 53 (25 datagrams from 53 to 53), served DHCP to its router and to public
// hosts, and its DNS queries took DHCP's 350 bytes; in the real week every query is 106
// bytes to the router, every answer 238 or 70, every DHCP message 346 or 350, and the hub
// never serves either. The side stores, per well-known UDP port, the ranked host that holds
// it and the commonest length of datagrams to it and from it; the generator moves the port
// to its host and gives datagrams of the service that length at its share.
// Pure: the encoder counts, synthesize_records applies.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "codec/flows.h"
#include "codec/record.h"

namespace dgc::trainer {

struct UdpService {
    uint8_t port = 0;                 // rank in side.ports
    uint8_t host = kNoServiceHost;    // the ranked host that holds it, or none
    uint8_t client = kNoServiceHost;  // the ranked host at the other end, or none
    uint16_t len_in = 0, len_out = 0;  // commonest ip_len of IPv4 datagrams to it and from it
    uint8_t share_in = 0, share_out = 0;  // their shares in 15ths (0: no length kept)
    uint8_t flags = 0;                // kAsked, kToGroup, kAnswered, kUnanswered
    // Format 36: where no one host holds the port, the two ranked hosts that hold nine in ten
    // of it together (sifely's hub asks its router and a public resolver, 64 % and 36 %), and
    // the first's share of the two in 15ths.
    std::array<uint8_t, 2> pair{kNoServiceHost, kNoServiceHost};
    uint8_t pair_share = 0;
    static constexpr uint8_t kNoServiceHost = 0xFF;
    // Nine in ten of the flows on it open with a datagram to it (a DNS or DHCP server's port;
    // a DHCP client's 68 is not); one in ten or more of the datagrams to it go to a group
    // address (DHCP's 67, NetBIOS; never DNS's 53 on ultraloq's LAN); of its flows of two or
    // more datagrams, nine in ten were answered (DNS), or one in ten or fewer (a camera's
    // DHCP: broadcasts, and offers to its 68 on a 5-tuple of their own).
    static constexpr uint8_t kAsked = 1, kToGroup = 2, kAnswered = 4, kUnanswered = 8;
    static constexpr uint8_t kAllFlags = 15;
    bool operator==(const UdpService&) const = default;
};

// Ports below this are services; a client's port is above it.
inline constexpr uint16_t kServicePortLimit = 1024;
// A service needs this many datagrams of the chunk for a host, client or length, and this
// many flows (of two or more datagrams, for the answer flags) for a flag.
inline constexpr uint32_t kServiceMinDatagrams = 4;

// Per ranked port (`ports`) below kServicePortLimit that IPv4 UDP datagrams of `chunk` used:
// the ranked host (`slot_of(record, src)`, -1 for an unranked one) at that end of nine in ten
// of them that were unicast and the one at the other end of nine in ten, per direction the
// commonest length when it holds over half of them, and its flags (from `flows`, the chunk's).
// Where no host holds nine in ten at the end of a port that is asked, the two that do
// together, when both are ranked (format 36). Ports with none of these are left out.
std::vector<UdpService> count_udp_services(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                           const std::vector<uint16_t>& ports,
                                           const std::function<int(const PacketRecord&, bool)>& slot_of);

// Whether `port` is a service of the table with `flag` (UdpService::kAsked, kToGroup).
bool service_flag(const std::vector<UdpService>& services, const std::vector<uint16_t>& ports, uint16_t port, uint8_t flag);

// A UDP flow's two ends as the generator drew them: [0] sends first, [1] receives.
struct UdpEnds {
    std::array<uint16_t, 2> port{};
    std::array<int, 2> host{-1, -1};        // ranked slot at each end, -1 for another host
    std::array<bool, 2> pinned{};            // a group or unspecified address: stays where it is
    bool hosts_swapped = false;              // set by serve_udp_ports: the two hosts traded ends
    std::array<bool, 2> host_moved{};        // set by serve_udp_ports: that end is now host[d]
    bool to_broadcast = false;               // set by serve_udp_ports: [1] is [0]'s subnet broadcast
};

// Where a flow's service ports go (format 28): a client sends from an ephemeral port
// (`ephemeral`) when the model gave both ends one service's port; an asked service's end
// receives the first datagram unless the other end's is asked too; a service whose datagrams
// never went to a group address is not asked through one (unless the unspecified address
// asks); a service port sits on its host, the two hosts trading ends or its host taking that
// end; and a service's client, where the entry names one, is at the other end. IPv4 flows only
// (the entries are counted on IPv4). A service held by a pair of hosts (format 36) is held by
// the one the model drew at either end, else by the one `u` (a uniform word) picks at the
// pair's shares.
// Format 54 (`broadcasts`): a flow with one service's port at both ends, where the service's
// datagrams went to a group address, is a broadcast from that port to the same port (NetBIOS's
// 137 and 138: every such datagram of the Tinba, gnutella, wechat and evidence04 traces went to
// its sender's /24 broadcast, none to a unicast host). Its sender keeps the port, and a receiver
// the model drew as a unicast host becomes the sender's subnet broadcast (`to_broadcast`).
// Format 28's rule made the sender a client on an ephemeral port asking the service's host:
// those four traces' 74 broadcasts came back as unicast datagrams between the hub and its DNS
// servers.
UdpEnds serve_udp_ports(const std::vector<UdpService>& services, const std::vector<uint16_t>& ports, UdpEnds e, uint16_t ephemeral,
                        uint64_t u = 0, bool broadcasts = false);

// The length of a datagram from `sport` to `dport` when one of them is a service with a
// length for that direction and `u` (a uniform word) falls in its share; the entry with the
// larger share wins.
std::optional<uint32_t> service_len(const std::vector<UdpService>& services, const std::vector<uint16_t>& ports, uint16_t sport,
                                    uint16_t dport, uint64_t u);

}  // namespace dgc::trainer
