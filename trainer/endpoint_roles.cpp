#include "trainer/endpoint_roles.h"

#include "trainer/rng.h"
#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

RoleFix role_fix(const FlowEnds& f) {
    const uint8_t v = f.ip_version;
    const bool from_none = unspecified(v, f.sender), to_none = unspecified(v, f.receiver);
    if (to_none && !from_none) return RoleFix::kReceiverToUnicast;
    if (from_none && !to_none) {
        const bool dhcp = v == 4 && f.udp &&
                          ((f.sender_port == kDhcpClientPort && f.receiver_port == kDhcpServerPort) ||
                           (f.sender_port == kDhcpServerPort && f.receiver_port == kDhcpClientPort));
        if (dhcp && !f.answered)
            return f.sender_port == kDhcpClientPort && f.receiver == kLimitedBroadcast ? RoleFix::kNone : RoleFix::kDhcpRequest;
        if (f.ports) return RoleFix::kSenderToUnicast;
        return is_group(v, f.receiver) ? RoleFix::kNone : RoleFix::kReceiverToGroup;
    }
    if (!from_none && f.sender == f.receiver) return RoleFix::kSelfToUnicast;
    return RoleFix::kNone;
}

int port_for_protocol(const std::vector<uint8_t>& port_protos, int token, uint8_t proto_bit, bool server) {
    if (token < 0 || token >= static_cast<int>(port_protos.size()) || (port_protos[token] & proto_bit)) return token;
    if (server)
        for (size_t k = 0; k < port_protos.size(); ++k)
            if (port_protos[k] & proto_bit) return static_cast<int>(k);
    return -1;
}

uint16_t tcp_client_port(uint16_t client, uint16_t server, uint64_t stream) {
    if (client != server || client < 1024) return client;
    Rng rng(stream);
    uint16_t port = server;
    while (port == server) port = ephemeral_port(rng);
    return port;
}

}  // namespace dgc::trainer
