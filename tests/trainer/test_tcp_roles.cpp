// Formats 30 and 31 (trainer/tcp_roles.h): a ranked host, and a ranked port, keeps the end of
// TCP flows the chunk saw it at, a server's (the lower port) or a client's (the higher);
// format 48: the server's end is the one its connection's SYN went to.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "codec/flows.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/tcp_roles.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

// A bare TCP segment from 10.0.0.<src> to 10.0.0.<dst> at `t_s`.
PacketRecord segment(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, double t_s) {
    PacketRecord r = lan_record(6, src, sport, dst, dport, 40);
    r.present |= kHasTcp;
    r.t_ns = static_cast<int64_t>(t_s * 1e9);
    return r;
}

// 10.0.0.1 to 10.0.0.4 are ranked slots 0 to 3; any other host is unranked.
int slot_of(const PacketRecord& r, bool src) {
    const auto& a = src ? r.src : r.dst;
    return a[3] >= 1 && a[3] <= 4 ? a[3] - 1 : -1;
}

// A chunk's side with ranked hosts of the given roles (all IPv4 unless `v6` says which).
ChunkSide side_with(std::vector<uint8_t> roles, std::vector<int> v6 = {}) {
    ChunkSide s;
    s.hosts.resize(roles.size());
    for (int k : v6) s.hosts[k].ip_version = 6;
    s.tcp_roles = std::move(roles);
    return s;
}

constexpr uint8_t kServer = kTcpServerEnd, kClient = kTcpClientEnd, kNone = 0;

// Packets of TCP flows with ports whose two ends are both not `host` (a device's capture:
// every real segment has the device at one end).
size_t without(std::span<const PacketRecord> recs, const std::array<uint8_t, 16>& host) {
    size_t n = 0;
    for (const auto& r : recs) n += r.proto == 6 && (r.present & kHasPorts) && r.src != host && r.dst != host;
    return n;
}

// The busiest host of TCP segments.
std::array<uint8_t, 16> busiest_tcp_host(std::span<const PacketRecord> recs) {
    std::map<std::array<uint8_t, 16>, size_t> n;
    for (const auto& r : recs)
        if (r.proto == 6) ++n[r.src], ++n[r.dst];
    return std::max_element(n.begin(), n.end(), [](const auto& a, const auto& b) { return a.second < b.second; })->first;
}

}  // namespace

TEST(TcpRoles, CountsTheEndEachRankedHostWasSeenAt) {
    std::vector<PacketRecord> recs;
    // A device (slot 0) opens to two servers (slots 1 and 2) from ephemeral ports; the
    // server's answer comes first in one flow, so the first segment's direction says nothing.
    recs.push_back(segment(1, 50000, 2, 8883, 0));
    recs.push_back(segment(2, 8883, 1, 50000, 0.1));
    recs.push_back(segment(3, 443, 1, 50001, 10));
    recs.push_back(segment(1, 50001, 3, 443, 10.1));
    // Two routers (slot 3 and an unranked one) peer between 179 and 179.
    recs.push_back(segment(4, 179, 9, 179, 20));
    const std::vector<uint8_t> roles = count_tcp_roles(recs, assemble_flows(recs), 4, slot_of);
    EXPECT_EQ(roles, (std::vector<uint8_t>{kClient, kServer, kServer, kServer | kClient}));
    // UDP says nothing of TCP roles.
    std::vector<PacketRecord> udp = {segment(1, 53, 2, 40000, 0)};
    udp[0].proto = 17, udp[0].present = kHasIp | kHasPorts;
    EXPECT_EQ(count_tcp_roles(udp, assemble_flows(udp), 4, slot_of), (std::vector<uint8_t>(4, 0)));
}

TEST(TcpRoles, AHostGoesOnlyToAnEndItWasSeenAt) {
    // Slot 0 a device (client only), 1 and 2 its servers, 3 its router (no TCP).
    const ChunkSide s = side_with({kClient, kServer, kServer, kNone});
    using E = std::array<int, 2>;
    // As drawn when each host had its end's role.
    EXPECT_EQ(tcp_role_hosts(s, 4, {50000, 8883}, {0, 2}), (E{0, 2}));
    EXPECT_EQ(tcp_role_hosts(s, 4, {8883, 50000}, {1, 0}), (E{1, 0}));
    // Two servers: the client's end goes to the first client after it (the device).
    EXPECT_EQ(tcp_role_hosts(s, 4, {8883, 60444}, {1, 2}), (E{1, 0}));
    // The device on the server's port: the two trade ends.
    EXPECT_EQ(tcp_role_hosts(s, 4, {8883, 50000}, {0, 1}), (E{1, 0}));
    // The device serving its router: trading leaves one end to move (the router, to a server).
    EXPECT_EQ(tcp_role_hosts(s, 4, {8883, 60000}, {0, 3}), (E{1, 0}));
    // An unranked host stays, and the ranked end moves alone.
    EXPECT_EQ(tcp_role_hosts(s, 4, {60000, 8883}, {-1, 2}), (E{-1, 2}));
    EXPECT_EQ(tcp_role_hosts(s, 4, {60000, 8883}, {-1, 0}), (E{-1, 1}));
    // Equal ports, or a chunk without TCP roles: as drawn.
    EXPECT_EQ(tcp_role_hosts(s, 4, {179, 179}, {1, 2}), (E{1, 2}));
    EXPECT_EQ(tcp_role_hosts(side_with({kNone, kNone, kNone, kNone}), 4, {8883, 60444}, {1, 2}), (E{1, 2}));
    // Only hosts of the flow's IP version stand in; none: the end stays.
    const ChunkSide v6 = side_with({kClient, kServer, kServer, kClient}, {0});
    EXPECT_EQ(tcp_role_hosts(v6, 4, {8883, 60444}, {1, 2}), (E{1, 3}));
    EXPECT_EQ(tcp_role_hosts(side_with({kClient, kServer, kServer}, {0}), 4, {8883, 60444}, {1, 2}), (E{1, 2}));
}

TEST(TcpRoles, CountsTheEndEachRankedPortWasSeenAt) {
    std::vector<PacketRecord> recs;
    recs.push_back(segment(1, 50000, 2, 8883, 0));
    recs.push_back(segment(3, 443, 1, 50001, 10));  // the server's segment first
    recs.push_back(segment(4, 179, 9, 179, 20));
    const std::vector<uint16_t> ports = {443, 8883, 50000, 179, 50001, 53};
    EXPECT_EQ(count_tcp_port_roles(recs, assemble_flows(recs), ports),
              (std::vector<uint8_t>{kServer, kServer, kClient, kServer | kClient, kClient, kNone}));
}

TEST(TcpRoles, APortGoesOnlyToAnEndItWasSeenAt) {
    ChunkSide s;
    s.format = 47;  // the lower port serves
    s.ports = {443, 64404, 8883, 49632};
    s.tcp_port_roles = {kServer, kClient, kServer | kClient, kNone};
    using P = std::array<uint16_t, 2>;
    // As drawn when each ranked port had its end's role, or is unranked.
    EXPECT_EQ(tcp_role_ports(s, {64404, 443}, 50000), (P{64404, 443}));
    EXPECT_EQ(tcp_role_ports(s, {60000, 8883}, 50000), (P{60000, 8883}));
    EXPECT_EQ(tcp_role_ports(s, {60000, 61000}, 50000), (P{60000, 61000}));
    // A client's port at the server's end: the busiest service takes it.
    EXPECT_EQ(tcp_role_ports(s, {64634, 64404}, 50000), (P{64634, 443}));
    EXPECT_EQ(tcp_role_ports(s, {64404, 49632}, 50000), (P{64404, 443}));  // 49632 never served
    EXPECT_EQ(tcp_role_ports(s, {1000, 443}, 50000), (P{1000, 443}));       // unranked 1000 stays
    // A service's port at the client's end: an ephemeral port.
    s.tcp_port_roles = {kServer | kClient, kClient, kServer, kNone};
    EXPECT_EQ(tcp_role_ports(s, {64404, 65000}, 50000), (P{443, 65000}));
    EXPECT_EQ(tcp_role_ports(s, {443, 8883}, 50000), (P{443, 50000}));  // 8883 never a client's
    // The service that takes the server's end is the other end's port: that end goes ephemeral.
    ChunkSide two;
    two.format = 47;
    two.ports = {8883, 1000};
    two.tcp_port_roles = {kServer | kClient, kClient};
    EXPECT_EQ(tcp_role_ports(two, {1000, 8883}, 50000), (P{8883, 50000}));
    // Equal ports, or no roles: as drawn.
    EXPECT_EQ(tcp_role_ports(s, {64404, 64404}, 50000), (P{64404, 64404}));
    s.tcp_port_roles.assign(4, kNone);
    EXPECT_EQ(tcp_role_ports(s, {64634, 64404}, 50000), (P{64634, 64404}));
}

TEST(TcpRoles, FormatThirtyTwoOpensFromTheClientsEnd) {
    ChunkSide s;
    s.format = 47;
    s.ports = {8883, 443, 60444};
    s.tcp_port_roles = {kServer, kServer | kClient, kClient};
    using P = std::array<uint16_t, 2>;
    EXPECT_TRUE(opens_from_service(s, P{8883, 60444}));   // from a port that only served
    EXPECT_TRUE(opens_from_service(s, P{8883, 61000}));   // to an unranked one
    EXPECT_FALSE(opens_from_service(s, P{60444, 8883}));  // the client's SYN
    EXPECT_FALSE(opens_from_service(s, P{443, 60444}));   // 443 was a client's port too
    EXPECT_FALSE(opens_from_service(s, P{1000, 60444}));  // an unranked port
    EXPECT_FALSE(opens_from_service(s, P{8883, 8883}));
}

TEST(TcpRoles, FormatThirtyTwoOpensUltraloqsConnectionsFromTheHub) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    // The flow model's mistake: every other TCP flow drawn from its server's end, hosts and ports.
    const size_t planted = plant_mistakes(enc, 4, 6, [&](FlowTokens& f, size_t k) {
        if (k % 2) std::swap(f.a[kAttrCliHost], f.a[kAttrSrvHost]), std::swap(f.a[kAttrCliPort], f.a[kAttrSrvPort]);
    });
    ASSERT_GT(planted, 30u);
    auto syns_from_service = [](std::span<const PacketRecord> recs) {
        size_t n = 0, syns = 0;
        for (const auto& r : recs)
            if (r.proto == 6 && (r.present & kHasTcp) && (r.tcp_flags & 0x12) == 0x02) ++syns, n += r.sport < r.dport;
        EXPECT_GT(syns, 0u);
        return n;
    };
    EXPECT_EQ(syns_from_service(cap.records), 0u);
    EXPECT_GT(syns_from_service(regenerate_as(enc, 31)), 0u);
    EXPECT_EQ(syns_from_service(regenerate_as(enc, 32)), 0u);
}

TEST(TcpRoles, SideBytesRoundTripAndOlderFormatsHaveNone) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_GE(enc.side.hosts.size(), 5u);
    ASSERT_EQ(enc.side.tcp_roles.size(), enc.side.hosts.size());
    ASSERT_EQ(enc.side.tcp_port_roles.size(), enc.side.ports.size());
    EXPECT_EQ(std::count(enc.side.tcp_roles.begin(), enc.side.tcp_roles.end(), kClient), 1);  // the hub alone opens
    EXPECT_GT(std::count(enc.side.tcp_roles.begin(), enc.side.tcp_roles.end(), kServer), 3);
    const auto port_role = [&](uint16_t p) {
        return enc.side.tcp_port_roles[std::find(enc.side.ports.begin(), enc.side.ports.end(), p) - enc.side.ports.begin()];
    };
    EXPECT_EQ(port_role(8883), kServer);  // MQTT over TLS, the hub's only service
    EXPECT_EQ(port_role(53), kNone);      // DNS is UDP
    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->tcp_roles, enc.side.tcp_roles);
    EXPECT_EQ(back->tcp_port_roles, enc.side.tcp_port_roles);
    for (const uint8_t format : {29, 30}) {
        ChunkSide old = enc.side;
        old.format = format;
        auto o = parse_side(serialize_side(old), "chunk", format);
        ASSERT_TRUE(o.ok()) << o.status().message();
        EXPECT_EQ(o->tcp_roles.empty(), format < 30);
        EXPECT_TRUE(o->tcp_port_roles.empty());
        EXPECT_FALSE(parse_side(serialize_side(enc.side), "chunk", format).ok());  // an older reader: bytes left over
    }
}

TEST(TcpRoles, FormatThirtyKeepsUltraloqsHubAtEveryTcpFlow) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    const std::array<uint8_t, 16> real_hub = busiest_tcp_host(cap.records);
    ASSERT_EQ(without(cap.records, real_hub), 0u);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    // The flow model's mistakes: every third TCP flow's client host is its server's, or the
    // hub goes to the server's end.
    const size_t tcp_flows = plant_mistakes(enc, 4, 6, [&](FlowTokens& f, size_t k) {
        if (k % 3 == 0) f.a[kAttrCliHost] = static_cast<uint8_t>((f.a[kAttrSrvHost] + 1) % enc.side.hosts.size());
        if (k % 3 == 1) std::swap(f.a[kAttrCliHost], f.a[kAttrSrvHost]);
    });
    ASSERT_GT(tcp_flows, 30u);
    const std::vector<PacketRecord> v29 = regenerate_as(enc, 29), v30 = regenerate_as(enc, 30);
    const std::array<uint8_t, 16> hub = busiest_tcp_host(v30);
    EXPECT_GT(without(v29, busiest_tcp_host(v29)), 100u);
    EXPECT_EQ(without(v30, hub), 0u);
    // And the hub holds the client's (higher) port of each of its segments.
    size_t served = 0;
    for (const auto& r : v30)
        if (r.proto == 6 && (r.present & kHasPorts)) served += (r.src == hub ? r.sport < r.dport : r.dport < r.sport);
    EXPECT_EQ(served, 0u);
}

TEST(TcpRoles, FormatThirtyOneServesBlinksTcpFromItsServicePortsOnly) {
    Capture cap = load_dev_capture("IoT-Dataset__blink-cam-01.pcap", 12000);
    // The real camera's TCP is all to 443.
    std::set<uint16_t> real_served;
    for (const auto& r : cap.records)
        if (r.proto == 6 && (r.present & kHasPorts)) real_served.insert(std::min(r.sport, r.dport));
    ASSERT_EQ(real_served, (std::set<uint16_t>{443}));
    EncodedChunk enc = encode_chunk(cap.records, 1);
    // The flow model's mistake: every other TCP flow's server port is a client port's rank.
    const auto client_rank = std::find_if(enc.side.ports.begin(), enc.side.ports.end(), [](uint16_t p) { return p >= 49152; });
    ASSERT_NE(client_rank, enc.side.ports.end());
    const size_t planted = plant_mistakes(enc, 4, 6, [&](FlowTokens& f, size_t k) {
        if (k % 2 == 0) f.a[kAttrSrvPort] = static_cast<uint8_t>(client_rank - enc.side.ports.begin());
    });
    ASSERT_GE(planted, 16u);
    auto served = [](std::span<const PacketRecord> recs) {
        std::set<uint16_t> s;
        for (const auto& r : recs)
            if (r.proto == 6 && (r.present & kHasPorts)) s.insert(std::min(r.sport, r.dport));
        return s;
    };
    EXPECT_GT(served(regenerate_as(enc, 30)).size(), 1u);
    EXPECT_EQ(served(regenerate_as(enc, 31)), real_served);
}

namespace {

// A segment with TCP flags (SYN 0x02, SYN-ACK 0x12, ACK 0x10).
PacketRecord flagged(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, double t_s, uint8_t flags) {
    PacketRecord r = segment(src, sport, dst, dport, t_s);
    r.tcp_flags = flags;
    return r;
}

}  // namespace

TEST(TcpRoles, FormatFortyEightJudgesTheServerByTheSyn) {
    std::vector<PacketRecord> recs;
    // A device (10.0.0.1) opens to 9999 from a lower port, and from a higher one.
    recs.push_back(flagged(1, 1939, 2, 9999, 0, 0x02));
    recs.push_back(flagged(2, 9999, 1, 1939, 0.1, 0x12));
    recs.push_back(flagged(1, 14947, 2, 9999, 100, 0x02));
    // A piece of a connection whose SYN the chunk missed: 9999 listened, so it serves.
    recs.push_back(flagged(2, 9999, 1, 1829, 300, 0x10));
    // No handshake and no listener: the lower port serves, as before.
    recs.push_back(flagged(3, 443, 1, 50001, 500, 0x10));
    const std::vector<uint16_t> ports = {9999, 1939, 14947, 1829, 443, 50001};
    EXPECT_EQ(count_tcp_port_roles(recs, assemble_flows(recs), ports),
              (std::vector<uint8_t>{kServer, kClient, kClient, kClient, kServer, kClient}));
    EXPECT_EQ(count_tcp_roles(recs, assemble_flows(recs), 4, slot_of), (std::vector<uint8_t>{kClient, kServer, kServer, kNone}));
}

TEST(TcpRoles, FormatFortyEightServesFromAPortThatOnlyServed) {
    ChunkSide s;
    s.ports = {9999, 1939, 443, 8883};
    s.tcp_port_roles = {kServer, kClient, kServer | kClient, kServer};
    using P = std::array<uint16_t, 2>;
    EXPECT_EQ(server_end(s, P{1939, 9999}), 1);
    EXPECT_EQ(server_end(s, P{9999, 1939}), 0);
    EXPECT_EQ(server_end(s, P{443, 60000}), 0);  // neither only served: the lower port
    EXPECT_EQ(server_end(s, P{9999, 8883}), 1);  // both did: the lower port
    // The client's port below the service's stays the client's.
    EXPECT_EQ(tcp_role_ports(s, {1939, 9999}, 50000), (P{1939, 9999}));
    EXPECT_TRUE(opens_from_service(s, P{9999, 1939}));
    EXPECT_FALSE(opens_from_service(s, P{1939, 9999}));
    EXPECT_FALSE(opens_from_service(s, P{443, 60000}));
    // Format 47 judged by the lower port: 1939 served and 9999 was the client's.
    s.format = 47;
    EXPECT_EQ(server_end(s, P{1939, 9999}), 0);
    EXPECT_EQ(tcp_role_ports(s, {1939, 9999}, 50000), (P{9999, 50000}));
    EXPECT_FALSE(opens_from_service(s, P{9999, 1939}));
    // Hosts follow the ports' server end: the device (a client only) at 1939, its server at 9999.
    ChunkSide h = side_with({kClient, kServer});
    h.ports = s.ports, h.tcp_port_roles = s.tcp_port_roles;
    using E = std::array<int, 2>;
    EXPECT_EQ(tcp_role_hosts(h, 4, {1939, 9999}, {0, 1}), (E{0, 1}));
    h.format = 47;
    EXPECT_EQ(tcp_role_hosts(h, 4, {1939, 9999}, {0, 1}), (E{1, 0}));
}

TEST(TcpRoles, FormatFortyEightOpensSifelysConnectionsFromTheHub) {
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap", 20000);
    // Real: every SYN goes to the server's 9999, some from client ports below it.
    auto syns = [](std::span<const PacketRecord> recs) {
        std::array<size_t, 3> n{};  // SYNs, from below 9999, not to 9999
        for (const auto& r : recs)
            if (r.proto == 6 && (r.present & kHasTcp) && (r.tcp_flags & 0x12) == 0x02)
                ++n[0], n[1] += r.sport < 9999, n[2] += r.dport != 9999;
        return n;
    };
    const auto real = syns(cap.records);
    ASSERT_GT(real[1], 10u);
    ASSERT_EQ(real[2], 0u);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const auto port_role = [&](uint16_t p) {
        const auto it = std::find(enc.side.ports.begin(), enc.side.ports.end(), p);
        return it == enc.side.ports.end() ? kNone : enc.side.tcp_port_roles[it - enc.side.ports.begin()];
    };
    EXPECT_EQ(port_role(9999), kServer);
    const auto v47 = syns(regenerate_as(enc, 47)), v48 = syns(regenerate_as(enc, 48));
    EXPECT_GT(v47[2], 10u) << "format 47: SYNs from the server's end";
    EXPECT_EQ(v48[2], 0u) << "of " << v48[0] << " SYNs";
    EXPECT_GT(v48[1], 0u);  // the hub's client ports below 9999 stay its own
}
