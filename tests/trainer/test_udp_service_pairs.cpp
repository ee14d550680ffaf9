// Format 36 (trainer/udp_services.h): a UDP service that two hosts hold together keeps
// them. sifely's hub asks its router and a public resolver on 53 (330 and 186 datagrams over
// the week): no one host holds nine in ten of it, so format 28 named no server, and the flow
// model's hosts answered DNS (the router asking the hub, public hosts serving it).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "codec/flows.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"
#include "trainer/udp_services.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

// Hosts 10.0.0.1..3 are ranked slots 0..2; any other host is unranked.
int slot_of(const PacketRecord& r, bool src) {
    const auto& a = src ? r.src : r.dst;
    return a[0] == 10 && a[3] >= 1 && a[3] <= 3 ? a[3] - 1 : -1;
}

const std::vector<uint16_t> kPorts = {53, 50000};  // ranks 0, 1

// The addresses that sent from port 53 and those that asked it, over IPv4 UDP.
struct DnsView {
    std::set<std::array<uint8_t, 16>> servers, clients;
};

DnsView dns_view(std::span<const PacketRecord> recs) {
    DnsView v;
    for (const PacketRecord& r : recs) {
        if (r.proto != 17 || !r.has_ports() || r.ip_version != 4 || is_group(4, r.dst)) continue;
        if (r.sport == 53) v.servers.insert(r.src);
        if (r.dport == 53 && r.sport != 53) v.clients.insert(r.src);
    }
    return v;
}

}  // namespace

TEST(UdpServicePairs, TwoHostsThatHoldAServiceTogetherAreItsPair) {
    std::vector<PacketRecord> recs;
    auto at = [&](double t_s, const PacketRecord& r) { push_at(recs, t_s, r); };
    // The hub (10.0.0.2) asks its router (.1) seven times and a resolver (.3) four, each answered.
    for (int i = 0; i < 11; ++i) {
        const uint8_t server = i < 7 ? 1 : 3;
        at(100 * i, lan_record(17, 2, 4096, server, 53, 75));
        at(100 * i + 0.01, lan_record(17, server, 53, 2, 4096, 91));
    }
    const std::vector<UdpService> s = count_udp_services(recs, assemble_flows(recs), kPorts, slot_of);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].host, UdpService::kNoServiceHost);  // 14 of 22 datagrams at the router
    EXPECT_EQ(s[0].pair, (std::array<uint8_t, 2>{0, 2}));
    EXPECT_EQ(s[0].pair_share, 14 * 15 / 22);
    EXPECT_EQ(s[0].client, 1);

    // A third server with over a tenth of the datagrams: no pair.
    for (int i = 0; i < 3; ++i) {
        at(2000 + 100 * i, lan_record(17, 2, 4096, 9, 53, 75));
        at(2000 + 100 * i + 0.01, lan_record(17, 9, 53, 2, 4096, 91));
    }
    const std::vector<UdpService> three = count_udp_services(recs, assemble_flows(recs), kPorts, slot_of);
    ASSERT_EQ(three.size(), 1u);
    EXPECT_EQ(three[0].pair[0], UdpService::kNoServiceHost);
}

TEST(UdpServicePairs, AFlowOfAPairedServiceTakesOneOfThePair) {
    UdpService dns{0, UdpService::kNoServiceHost, 1, 75, 91, 15, 15, UdpService::kAsked};
    dns.pair = {0, 2}, dns.pair_share = 9;
    const std::vector<UdpService> s = {dns};
    auto serve = [&](uint16_t p0, int h0, uint16_t p1, int h1, uint64_t u, bool pin1 = false) {
        return serve_udp_ports(s, kPorts, UdpEnds{{p0, p1}, {h0, h1}, {false, pin1}}, 55555, u);
    };
    // The model drew the resolver: it stays.
    UdpEnds e = serve(4096, 1, 53, 2, 14);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 2}));
    EXPECT_FALSE(e.host_moved[0] || e.host_moved[1] || e.hosts_swapped);
    // An unranked server: the pair's member at its share (u % 15 < 9: the router).
    e = serve(4096, 1, 53, -1, 3);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_TRUE(e.host_moved[1]);
    e = serve(4096, 1, 53, -1, 12);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 2}));
    // The resolver asking the hub's 53: the two trade ends.
    e = serve(4096, 2, 53, 1, 3);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 2}));
    EXPECT_TRUE(e.hosts_swapped);
    // An unranked host asking the router: the hub, which asks it nine times in ten.
    e = serve(4096, -1, 53, 0, 3);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_TRUE(e.host_moved[0]);
    // The chunk never asked 53 through a group address: the hub asks a server of the pair.
    e = serve(4096, 1, 53, -1, 12, true);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 2}));
    EXPECT_FALSE(e.pinned[1]);
    // Without the pair (format 28's entry alone) the model's hosts stand.
    UdpService alone = dns;
    alone.pair = {UdpService::kNoServiceHost, UdpService::kNoServiceHost};
    e = serve_udp_ports({alone}, kPorts, UdpEnds{{4096, 53}, {2, 1}, {}}, 55555, 3);
    EXPECT_EQ(e.host, (std::array<int, 2>{2, 1}));
}

TEST(UdpServicePairs, SifelysTwoResolversAreItsDnsPairAndRoundTrip) {
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const size_t dns = static_cast<size_t>(std::find(enc.side.ports.begin(), enc.side.ports.end(), 53) - enc.side.ports.begin());
    const UdpService* entry = nullptr;
    for (const UdpService& u : enc.side.udp_services)
        if (u.port == dns) entry = &u;
    ASSERT_NE(entry, nullptr);
    ASSERT_NE(entry->pair[0], UdpService::kNoServiceHost);
    // Two resolvers and one client in the chunk: the pair (the larger first) and the entry's client.
    const DnsView real = dns_view(cap.records);
    ASSERT_EQ(real.servers.size(), 2u);
    ASSERT_EQ(real.clients.size(), 1u);
    EXPECT_NE(entry->pair[0], entry->pair[1]);
    EXPECT_GE(entry->pair_share, 8);
    EXPECT_LT(entry->pair_share, 15);
    EXPECT_NE(entry->client, UdpService::kNoServiceHost);

    const std::string bytes = serialize_side(enc.side);
    auto back = parse_side(bytes, "test");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->udp_services, enc.side.udp_services);
    // Format 35's side is the same less the block, and reads with no pairs.
    ChunkSide old = enc.side;
    old.format = 35;
    auto old_back = parse_side(serialize_side(old), "test", 35);
    ASSERT_TRUE(old_back.ok()) << old_back.status().message();
    EXPECT_LT(serialize_side(old).size(), bytes.size());
    for (const UdpService& u : old_back->udp_services) EXPECT_EQ(u.pair[0], UdpService::kNoServiceHost);

    // A pair beside a single host, or one host twice, is corrupt.
    for (int broken = 0; broken < 2; ++broken) {
        ChunkSide bad = enc.side;
        for (UdpService& u : bad.udp_services)
            if (u.port == dns) (broken ? u.pair[1] = u.pair[0] : u.host = 0);
        auto refused = parse_side(serialize_side(bad), "chunk-5");
        ASSERT_FALSE(refused.ok());
        EXPECT_NE(refused.status().message().find("pair of hosts"), std::string::npos);
    }
}
