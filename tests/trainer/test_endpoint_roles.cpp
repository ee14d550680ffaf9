// Format 16's rules (trainer/endpoint_roles.h): the unspecified address only solicits, and
// no host talks to itself. The flow model draws a flow's two hosts from the chunk's ranked
// hosts; format 15 sent what it drew, and on ultraloq regenerated without a base model that
// was DNS queries and DHCP replies from 0.0.0.0, flows to 0.0.0.0 and a host talking to
// itself, none of which the real trace (or any stack) has. Format 17 keeps a ranked port's
// protocols; format 26 sends no TCP client from its server's own port.
#include <gtest/gtest.h>

#include <set>

#include "codec/address_class.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/endpoint_roles.h"
#include "trainer/host_slots.h"
#include "trainer/synth_endpoint.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }

FlowEnds udp4(std::array<uint8_t, 16> s, uint16_t sp, std::array<uint8_t, 16> r, uint16_t rp, bool answered = false) {
    return {4, true, true, answered, s, r, sp, rp};
}

struct Misroles {
    size_t to_unspecified = 0;    // IP packets addressed to 0.0.0.0 or ::
    size_t unspecified_talk = 0;  // from it, other than an unanswered DHCP request to 255.255.255.255:67 or a port-less solicitation to a group
    size_t self = 0;              // from a host to itself
};

Misroles misroles(std::span<const PacketRecord> recs) {
    Misroles m;
    for (const auto& r : recs) {
        if (!r.is_ip()) continue;
        const bool from_none = unspecified(r.ip_version, r.src), to_none = unspecified(r.ip_version, r.dst);
        m.to_unspecified += to_none;
        const bool ports = (r.present & kHasPorts) != 0;
        const bool dhcp_request = r.ip_version == 4 && r.proto == 17 && r.sport == kDhcpClientPort &&
                                  r.dport == kDhcpServerPort && r.dst == kLimitedBroadcast;
        m.unspecified_talk += from_none && !to_none && (ports ? !dhcp_request : !is_group(r.ip_version, r.dst));
        m.self += !from_none && r.src == r.dst;
    }
    return m;
}

}  // namespace

TEST(EndpointRoles, TheUnspecifiedAddressOnlySolicits) {
    const auto none = v4(0, 0, 0, 0), host = v4(10, 0, 0, 7), server = v4(10, 0, 0, 1), bcast = kLimitedBroadcast;
    EXPECT_EQ(role_fix(udp4(host, 40000, none, 53)), RoleFix::kReceiverToUnicast);
    EXPECT_EQ(role_fix(udp4(none, 68, bcast, 67)), RoleFix::kNone);            // DHCPDISCOVER
    EXPECT_EQ(role_fix(udp4(none, 67, server, 68)), RoleFix::kDhcpRequest);     // a reply's ports, from nobody
    EXPECT_EQ(role_fix(udp4(none, 67, bcast, 68)), RoleFix::kDhcpRequest);
    EXPECT_EQ(role_fix(udp4(none, 68, server, 67, true)), RoleFix::kSenderToUnicast);  // answered: a configured client
    EXPECT_EQ(role_fix(udp4(none, 40000, server, 53)), RoleFix::kSenderToUnicast);     // a DNS query
    EXPECT_EQ(role_fix(udp4(none, 5353, v4(224, 0, 0, 251), 5353)), RoleFix::kSenderToUnicast);
    FlowEnds igmp{4, false, false, false, none, v4(224, 0, 0, 22), 0, 0};
    EXPECT_EQ(role_fix(igmp), RoleFix::kNone);  // a snooping switch's query
    igmp.receiver = server;
    EXPECT_EQ(role_fix(igmp), RoleFix::kReceiverToGroup);
    std::array<uint8_t, 16> v6none{}, solicited{};
    solicited[0] = 0xff, solicited[1] = 0x02, solicited[11] = 1, solicited[12] = 0xff, solicited[15] = 9;
    EXPECT_EQ(role_fix({6, false, false, false, v6none, solicited, 0, 0}), RoleFix::kNone);  // duplicate address detection
    EXPECT_EQ(role_fix({6, true, true, false, v6none, solicited, 546, 547}), RoleFix::kSenderToUnicast);  // DHCPv6 uses link-local
    EXPECT_EQ(role_fix({6, false, false, false, v6none, v6none, 0, 0}), RoleFix::kNone);  // format 15's rule
}

TEST(EndpointRoles, NoHostTalksToItself) {
    const auto host = v4(10, 0, 0, 7);
    EXPECT_EQ(role_fix(udp4(host, 137, host, 137)), RoleFix::kSelfToUnicast);
    EXPECT_EQ(role_fix({4, false, false, false, host, host, 0, 0}), RoleFix::kSelfToUnicast);
    EXPECT_EQ(role_fix(udp4(host, 40000, v4(10, 0, 0, 1), 53)), RoleFix::kNone);
}

TEST(EndpointRoles, FormatSixteenRegeneratesNoRoleNoStackHas) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const Misroles real = misroles(cap.records);
    EXPECT_EQ(real.to_unspecified, 0u);
    EXPECT_EQ(real.unspecified_talk, 0u);
    EXPECT_EQ(real.self, 0u);
    // The flow model's mistakes: UDP flows from 0.0.0.0 to their server, to 0.0.0.0, and
    // from their client to itself.
    const int none = unspecified_slot(enc.side, 4);
    ASSERT_GE(none, 0);
    const size_t udp = plant_mistakes(enc, 4, 17, [&](FlowTokens& f, size_t k) {
        switch (k % 3) {
            case 0: f.a[kAttrCliHost] = static_cast<uint8_t>(none); break;
            case 1: f.a[kAttrSrvHost] = static_cast<uint8_t>(none); break;
            default: f.a[kAttrSrvHost] = f.a[kAttrCliHost]; break;
        }
    });
    ASSERT_GT(udp, 30u);
    const Misroles v16 = misroles(regenerate_as(enc, 16)), v15 = misroles(regenerate_as(enc, 15));
    EXPECT_EQ(v16.to_unspecified, 0u);
    EXPECT_EQ(v16.unspecified_talk, 0u);
    EXPECT_EQ(v16.self, 0u);
    EXPECT_GT(v15.to_unspecified, 10u);
    EXPECT_GT(v15.unspecified_talk, 10u);
    EXPECT_GT(v15.self, 10u);
}

// Format 17: a ranked port keeps the protocols the chunk used it with.
TEST(PortProtocols, ARankedPortKeepsItsProtocols) {
    const std::vector<uint8_t> protos = {kPortProtoUdp, kPortProtoTcp, kPortProtoTcp | kPortProtoUdp};
    EXPECT_EQ(port_for_protocol(protos, 0, kPortProtoTcp, true), 1);    // a TCP server on a UDP-only port: the first TCP port
    EXPECT_EQ(port_for_protocol(protos, 0, kPortProtoTcp, false), -1);  // a TCP client: an ephemeral port
    EXPECT_EQ(port_for_protocol(protos, 0, kPortProtoUdp, true), 0);
    EXPECT_EQ(port_for_protocol(protos, 2, kPortProtoTcp, true), 2);
    EXPECT_EQ(port_for_protocol(protos, 40, kPortProtoTcp, true), 40);  // a port bucket, not a ranked port
    EXPECT_EQ(port_for_protocol({kPortProtoUdp}, 0, kPortProtoOther, true), -1);
}

TEST(PortProtocols, FormatSeventeenPutsNoTcpOnAUdpOnlyPort) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(enc.side.port_protos.size(), enc.side.ports.size());
    std::set<uint16_t> udp_only;
    for (size_t k = 0; k < enc.side.ports.size(); ++k)
        if (enc.side.port_protos[k] == kPortProtoUdp) udp_only.insert(enc.side.ports[k]);
    ASSERT_FALSE(udp_only.empty());
    auto tcp_on_udp_ports = [&](std::span<const PacketRecord> recs) {
        size_t n = 0;
        for (const auto& r : recs) n += r.is_ip() && r.proto == 6 && (udp_only.count(r.sport) || udp_only.count(r.dport));
        return n;
    };
    EXPECT_EQ(tcp_on_udp_ports(cap.records), 0u);
    // The flow model's mistake: TCP flows on the chunk's UDP-only ranks, as client or server.
    std::vector<int> ranks;
    for (size_t k = 0; k < enc.side.ports.size(); ++k)
        if (enc.side.port_protos[k] == kPortProtoUdp) ranks.push_back(static_cast<int>(k));
    const size_t tcp = plant_mistakes(enc, 4, 6, [&](FlowTokens& f, size_t k) {
        f.a[k % 2 ? kAttrCliPort : kAttrSrvPort] = static_cast<uint8_t>(ranks[k % ranks.size()]);
    });
    ASSERT_GT(tcp, 30u);
    EXPECT_EQ(tcp_on_udp_ports(regenerate_as(enc, kSideFormat)), 0u);
    EXPECT_GT(tcp_on_udp_ports(regenerate_as(enc, 16)), 100u);

    ChunkSide side17 = enc.side;
    side17.format = 17;  // its block ends the side
    std::string bytes = serialize_side(side17);
    ASSERT_TRUE(parse_side(bytes, "test", 17).ok());
    bytes.back() = static_cast<char>(0xff);  // the last ranked port's protocols
    const auto bad = parse_side(bytes, "test", 17);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("protocols"), std::string::npos) << bad.status().message();
}

// Format 26: the flow model draws a port's rank, not its role, so it can draw the server's
// port for the client too.
TEST(PortRoles, ATcpClientNeverSendsFromItsServersPort) {
    const uint16_t fresh = tcp_client_port(1883, 1883, 42);
    EXPECT_NE(fresh, 1883);
    EXPECT_GE(fresh, kFirstDynamicPort);
    EXPECT_EQ(tcp_client_port(1883, 1883, 42), fresh);  // one stream, one port
    EXPECT_EQ(tcp_client_port(50000, 1883, 42), 50000);
    EXPECT_EQ(tcp_client_port(1883, 443, 42), 1883);
    EXPECT_EQ(tcp_client_port(179, 179, 42), 179);  // two well-known ports: format 11's count decides
    for (uint64_t s = 0; s < 2000; ++s) EXPECT_NE(tcp_client_port(60000, 60000, s), 60000) << s;
}

TEST(PortRoles, FormatTwentySixRegeneratesNoTcpClientOnItsServersPort) {
    Capture cap = load_dev_capture("IoT-Dataset__lockly-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    auto same_port_tcp = [](std::span<const PacketRecord> recs) {
        size_t n = 0;
        for (const auto& r : recs) n += r.is_ip() && r.proto == 6 && (r.present & kHasPorts) && r.sport == r.dport && r.sport >= 1024;
        return n;
    };
    EXPECT_EQ(same_port_tcp(cap.records), 0u);
    // The flow model's mistake: a client port drawn as its server's rank.
    const size_t tcp = plant_mistakes(enc, 4, 6, [&](FlowTokens& f, size_t k) {
        if (k % 3 == 0) f.a[kAttrCliPort] = f.a[kAttrSrvPort];
    });
    ASSERT_GT(tcp, 30u);
    EXPECT_EQ(same_port_tcp(regenerate_as(enc, 26)), 0u);
    EXPECT_GT(same_port_tcp(regenerate_as(enc, 25)), 100u);
}
