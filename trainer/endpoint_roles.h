// Roles the flow model gave hosts and ports that no stack has. Format 16: the unspecified
// address (0.0.0.0, ::) only ever solicits: it cannot be addressed, so it receives nothing; with
// ports it sends only DHCP's unanswered requests (0.0.0.0:68 to 255.255.255.255:67: an
// exchange that is answered is a configured client's, from its own address), and without them
// solicitations (neighbour, router, IGMP/MLD) to a group address. And no host talks to
// itself. On ultraloq regenerated without a base model, format 15 sent 31 packets from
// 0.0.0.0 to unicast hosts (DNS queries, DHCP replies), 17 to 0.0.0.0 and 4 from a host to
// itself; gnutella 5 to :: and 20 to itself, isp-fragtest 3; the real traces none.
// Format 17: a ranked port keeps its protocols (port_for_protocol).
// Pure: synthesize_records applies what they say.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "trainer/host_slots.h"

namespace dgc::trainer {

enum class RoleFix : uint8_t {
    kNone,
    kReceiverToUnicast,  // a flow to the unspecified address goes to a unicast host but the sender
    kSenderToUnicast,    // a service the unspecified address cannot use (DNS, answered DHCP): a unicast host sends it
    kDhcpRequest,        // DHCP from 0.0.0.0: client port to server port, to 255.255.255.255
    kReceiverToGroup,    // a solicitation without ports from it: to a group address
    kSelfToUnicast,      // a host to itself (TCP has had this since format 11): the peer is another unicast host
};

struct FlowEnds {
    uint8_t ip_version = 4;
    bool ports = false;  // the protocol has ports (TCP, UDP, SCTP...)
    bool udp = false;
    bool answered = false;  // UDP flows the chunk's counts answer
    std::array<uint8_t, 16> sender{}, receiver{};
    uint16_t sender_port = 0, receiver_port = 0;
};

RoleFix role_fix(const FlowEnds& f);

// Format 17: the ranked port a flow's end of protocol bit `proto_bit` (kPortProto*) takes
// when the model drew rank `token`, which the chunk never used with that protocol: the
// first ranked port it did use for a server's end, -1 for an ephemeral port (a client's end,
// or no ranked port of that protocol). `token` itself when it fits, or is not a ranked port.
int port_for_protocol(const std::vector<uint8_t>& port_protos, int token, uint8_t proto_bit, bool server);

inline constexpr uint16_t kDhcpClientPort = 68, kDhcpServerPort = 67;

// Format 26: the port a TCP client sends from when the model drew its server's own port for
// both ends (a rank is a port's count, not its role): a fresh ephemeral port from `stream`.
// Regenerated without the rule, lockly's hub held a 13-hour connection from 1883 to 1883
// (2,312 packets), sifely's 9999 to 9999 (233), schlage's 8883 to 8883 (66); their real
// weeks have none. Ports below 1024 stay format 11's (two well-known ports as often as the
// chunk had them), and UDP peers do talk between one port (NTP, mDNS).
uint16_t tcp_client_port(uint16_t client, uint16_t server, uint64_t stream);

}  // namespace dgc::trainer
