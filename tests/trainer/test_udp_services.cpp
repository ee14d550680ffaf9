// Format 28 (trainer/udp_services.h): a well-known UDP port keeps its server host and its
// datagrams' lengths, and a client's ephemeral port repeats only as often as the chunk's did.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "codec/flows.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/udp_services.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord datagram(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint32_t ip_len) {
    return lan_record(17, src, sport, dst, dport, ip_len);
}

// Hosts 10.0.0.1 and 10.0.0.2 are ranked slots 0 and 1; any other host is unranked.
int slot_of(const PacketRecord& r, bool src) {
    const auto& a = src ? r.src : r.dst;
    return a[0] == 10 && (a[3] == 1 || a[3] == 2) ? a[3] - 1 : -1;
}

const std::vector<uint16_t> kPorts = {67, 53, 68, 123, 50000};  // ranks 0..4

const UdpService* entry(const std::vector<UdpService>& s, uint16_t port) {
    for (const UdpService& u : s)
        if (kPorts[u.port] == port) return &u;
    return nullptr;
}

}  // namespace

TEST(UdpServices, CountsEachWellKnownPortsHostAndLengths) {
    std::vector<PacketRecord> recs;
    auto at = [&](double t_s, const PacketRecord& r) { push_at(recs, t_s, r); };
    // DNS: six queries, each answered at once on its own port (238 bytes, once 70).
    for (int i = 0; i < 6; ++i) {
        const auto port = static_cast<uint16_t>(40000 + i);
        at(100 * i, datagram(2, port, 1, 53, 106));
        at(100 * i + 0.01, datagram(1, 53, 2, port, i < 5 ? 238 : 70));
    }
    // DHCP: the unspecified address's broadcasts (they say nothing of hosts), then the
    // configured client's requests to its router and the router's replies.
    for (int i = 0; i < 4; ++i) at(1000 + 100 * i, datagram(0, 68, 255, 67, 350));
    for (int i = 0; i < 4; ++i) {
        at(2000 + 100 * i, datagram(2, 68, 1, 67, 350));
        at(2000 + 100 * i + 0.01, datagram(1, 67, 2, 68, 346));
    }
    // NTP between 123 and 123 at both hosts: neither holds it; lengths differ.
    for (int i = 0; i < 4; ++i)
        at(3000 + 100 * i, datagram(static_cast<uint8_t>(1 + i % 2), 123, static_cast<uint8_t>(2 - i % 2), 123, 76 + 4 * i));
    const std::vector<UdpService> s = count_udp_services(recs, assemble_flows(recs), kPorts, slot_of);

    const UdpService* dns = entry(s, 53);
    ASSERT_NE(dns, nullptr);
    EXPECT_EQ(dns->host, 0);  // 10.0.0.1
    EXPECT_EQ(dns->len_in, 106);
    EXPECT_EQ(dns->share_in, 15);
    EXPECT_EQ(dns->len_out, 238);
    EXPECT_EQ(dns->share_out, 12);  // 5 of 6, in 15ths
    EXPECT_EQ(dns->flags, UdpService::kAsked | UdpService::kAnswered);
    EXPECT_EQ(dns->client, 1);  // 10.0.0.2 asks
    const UdpService* server = entry(s, 67);
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(server->host, 0);  // the broadcasts to 67 do not count against the router
    EXPECT_EQ(server->len_in, 350);
    EXPECT_EQ(server->len_out, 346);
    EXPECT_EQ(server->flags, UdpService::kAsked | UdpService::kToGroup | UdpService::kAnswered);
    EXPECT_EQ(server->client, 1);
    const UdpService* client = entry(s, 68);
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(client->host, 1);
    EXPECT_EQ(client->flags, UdpService::kAnswered);  // not asked: its flows open from it
    EXPECT_EQ(client->client, 0);
    EXPECT_EQ(entry(s, 123), nullptr);
    EXPECT_EQ(entry(s, 50000), nullptr);  // a client's port, not a service

    // Fewer than kServiceMinDatagrams say nothing.
    const std::vector<PacketRecord> few(recs.begin(), recs.begin() + 3);
    EXPECT_EQ(entry(count_udp_services(few, assemble_flows(few), kPorts, slot_of), 53), nullptr);
}

TEST(UdpServices, AServicePortMovesToItsHostAndItsClientAsksFirst) {
    const std::vector<UdpService> s = {
        {1, 0, 1, 106, 238, 15, 15, UdpService::kAsked},                          // 53 at slot 0, asked by 1
        {0, 0, 1, 350, 346, 15, 15, UdpService::kAsked | UdpService::kToGroup},  // 67 at slot 0
        {2, 1, 0, 346, 350, 15, 15, 0},                                           // 68 at slot 1
        {3, UdpService::kNoServiceHost, UdpService::kNoServiceHost, 76, 76, 15, 15, 0},  // 123: lengths only
    };
    auto serve = [&](uint16_t p0, int h0, uint16_t p1, int h1, bool pin0 = false, bool pin1 = false) {
        return serve_udp_ports(s, kPorts, UdpEnds{{p0, p1}, {h0, h1}, {pin0, pin1}}, 55555);
    };
    // The model gave the hub (slot 1) the DNS port and its router an ephemeral one.
    UdpEnds e = serve(53, 1, 50123, 0);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{50123, 53}));
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_FALSE(e.hosts_swapped);
    // 53 to 53 from the hub: the hub asks from an ephemeral port.
    e = serve(53, 1, 53, 0);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{55555, 53}));
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    // The hub serving DHCP to an unranked host: the hub asks its router.
    e = serve(67, 1, 68, -1);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{68, 67}));
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_FALSE(e.hosts_swapped);
    EXPECT_FALSE(e.host_moved[0]);
    EXPECT_TRUE(e.host_moved[1]);
    // The router asking its client's 68 from 67: the hosts trade ends.
    e = serve(68, 0, 67, 1);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{68, 67}));
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_TRUE(e.hosts_swapped);
    // A query to an unranked host's 53: the router answers it.
    e = serve(50001, 1, 53, -1);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_TRUE(e.host_moved[1]);
    // An unranked host asking the DNS port: the hub, which asks it nine times in ten.
    e = serve(50002, -1, 53, 0);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_TRUE(e.host_moved[0]);
    // The unspecified address's DHCP discover to the broadcast address stays as it is.
    e = serve(68, -1, 67, -1, true, true);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{68, 67}));
    EXPECT_EQ(e.host, (std::array<int, 2>{-1, -1}));
    // A router's offer to the broadcast address comes from the router; the hub's broadcast
    // request stays one (67 is reached through the broadcast address), its DNS query does not.
    e = serve(67, 1, 68, -1, false, true);
    EXPECT_EQ(e.host, (std::array<int, 2>{0, -1}));
    e = serve(68, 1, 67, -1, false, true);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, -1}));
    EXPECT_FALSE(e.host_moved[0] || e.host_moved[1]);
    e = serve(50001, 1, 53, -1, false, true);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, 0}));
    EXPECT_TRUE(e.host_moved[1]);
    // A port with no host, and one the table does not name, stay where the model put them.
    e = serve(123, 1, 123, -1);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{123, 123}));
    EXPECT_EQ(e.host, (std::array<int, 2>{1, -1}));
    e = serve(50000, 1, 9999, -1);
    EXPECT_EQ(e.host, (std::array<int, 2>{1, -1}));
    EXPECT_FALSE(e.host_moved[0] || e.host_moved[1] || e.hosts_swapped);
}

TEST(UdpServices, AServicesDatagramsTakeItsLengthAtItsShare) {
    const std::vector<UdpService> s = {{1, 0, 1, 106, 238, 15, 9, 0}, {2, 1, 0, 346, 350, 6, 3, 0}};
    EXPECT_EQ(service_len(s, kPorts, 50000, 53, 14), 106u);
    EXPECT_EQ(service_len(s, kPorts, 53, 50000, 8), 238u);
    EXPECT_EQ(service_len(s, kPorts, 53, 50000, 9), std::nullopt);  // beyond its 9 of 15
    EXPECT_EQ(service_len(s, kPorts, 68, 53, 0), 106u);               // to 53 (15) beats from 68 (3)
    EXPECT_EQ(service_len(s, kPorts, 50000, 9999, 0), std::nullopt);
}

namespace {

// Per UDP port below 1024: the lengths of the datagrams sent to it, and the addresses that
// sent from it.
struct ServiceView {
    std::map<uint16_t, std::set<uint32_t>> lens_to;
    std::map<uint16_t, std::set<std::array<uint8_t, 16>>> senders_from;
};

ServiceView view(std::span<const PacketRecord> recs) {
    ServiceView v;
    for (const PacketRecord& r : recs) {
        if (r.proto != 17 || !r.has_ports() || r.ip_version != 4) continue;
        if (r.dport < 1024) v.lens_to[r.dport].insert(r.ip_len);
        if (r.sport < 1024) v.senders_from[r.sport].insert(r.src);
    }
    return v;
}

}  // namespace

TEST(UdpServices, FormatTwentyEightKeepsUltraloqsDnsAndDhcpWhereTheyWere) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ServiceView real = view(cap.records);
    ASSERT_EQ(real.lens_to[53], (std::set<uint32_t>{92}));  // 106-byte frames
    ASSERT_EQ(real.senders_from[53].size(), 1u);
    // A flow model that draws hosts and ports by rank, not role: the UDP flows' client hosts
    // and both ports rotated.
    ASSERT_GT(rotate_attr(enc, 17, kAttrCliHost, 5), 30u);
    rotate_attr(enc, 17, kAttrSrvPort, 3);
    rotate_attr(enc, 17, kAttrCliPort, 7);
    ServiceView v27 = view(regenerate_as(enc, 27)), v28 = view(regenerate_as(enc, 28));
    EXPECT_GT(v27.lens_to[53].size(), 3u);
    EXPECT_GT(v27.senders_from[53].size(), 1u);
    EXPECT_EQ(v28.lens_to[53], real.lens_to[53]);
    EXPECT_EQ(v28.lens_to[67], real.lens_to[67]);
    EXPECT_EQ(v28.senders_from[53].size(), 1u);
    EXPECT_EQ(v28.senders_from[67].size(), real.senders_from[67].size());
}

TEST(UdpServices, EphemeralRepeatsAreCountedAndKept) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    // Repeats of a 5-tuple from a client port of 1024 or more, over 60 s apart.
    auto ephemeral_repeats = [](std::span<const PacketRecord> recs) {
        std::set<std::string> seen;
        uint32_t n = 0;
        for (const Flow& f : assemble_flows(recs)) {
            const PacketRecord& r = recs[f.packets[0]];
            if (r.proto != 17 || !r.has_ports()) continue;
            n += !seen.insert(endpoint_pair_key(r)).second && r.sport >= 1024;
        }
        return n;
    };
    EXPECT_EQ(enc.side.udp_ephemeral_repeats, ephemeral_repeats(cap.records));
    EXPECT_LE(ephemeral_repeats(regenerate_as(enc, 28)), enc.side.udp_ephemeral_repeats);

    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->udp_services, enc.side.udp_services);
    EXPECT_EQ(back->udp_ephemeral_repeats, enc.side.udp_ephemeral_repeats);
    ASSERT_FALSE(enc.side.udp_services.empty());
    enc.side.udp_services[0].port = static_cast<uint8_t>(enc.side.ports.size());
    EXPECT_FALSE(parse_side(serialize_side(enc.side), "chunk", kSideFormat).ok());
    enc.side.format = 27;
    EXPECT_TRUE(parse_side(serialize_side(enc.side), "chunk 27", 27).ok());  // format 27 never wrote them
}

namespace {

// UDP flows of two or more datagrams on `port` that got a reply.
size_t answered_on(std::span<const PacketRecord> recs, uint16_t port) {
    size_t n = 0;
    for (const Flow& f : assemble_flows(recs)) {
        const PacketRecord& r = recs[f.packets[0]];
        if (r.proto != 17 || !r.has_ports() || (r.sport != port && r.dport != port)) continue;
        n += std::any_of(f.packets.begin(), f.packets.end(), [&](uint32_t i) { return recs[i].src != r.src; });
    }
    return n;
}

}  // namespace

TEST(UdpServices, AServiceThatNeverAnswersTakesNoAnswerFromTheCount) {
    // blink's camera broadcasts DHCP discovers and its router offers on 5-tuples of their own:
    // no DHCP flow is answered, every DNS one is.
    Capture cap = load_dev_capture("IoT-Dataset__blink-cam-02.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(answered_on(cap.records, 67), 0u);
    ASSERT_GE(answered_on(cap.records, 53), 30u);
    const auto dhcp = std::find_if(enc.side.udp_services.begin(), enc.side.udp_services.end(),
                                   [&](const UdpService& u) { return enc.side.ports[u.port] == 67; });
    ASSERT_NE(dhcp, enc.side.udp_services.end());
    EXPECT_TRUE(dhcp->flags & UdpService::kUnanswered);
    // A flow model that gives the camera's flows other services than the real ones.
    rotate_attr(enc, 17, kAttrSrvPort, 5);
    const std::vector<PacketRecord> v27 = regenerate_as(enc, 27), v28 = regenerate_as(enc, 28);
    EXPECT_GT(answered_on(v27, 67), 3u);
    // At most one: the camera's 68 is not the stack's to change, so two one-way flows the
    // model put on DHCP's 5-tuple within 60 s of each other are one flow both ways.
    EXPECT_LE(answered_on(v28, 67), 1u);
    EXPECT_GT(answered_on(v28, 53), answered_on(v27, 53));
}

TEST(UdpServices, FormatTwentyNineWritesEachDnsMessagesHeaderWithItsFlowsId) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    std::vector<PacketRecord> v28 = regenerate_as(enc, 28);
    const std::vector<PacketRecord> v29 = regenerate_as(enc, 29);
    ASSERT_EQ(v28.size(), v29.size());
    size_t dns = 0, queries = 0, answers = 0;
    for (const Flow& f : assemble_flows(v29)) {
        const PacketRecord& r0 = v29[f.packets[0]];
        if (r0.proto != 17 || (r0.sport != kDnsPort && r0.dport != kDnsPort)) continue;
        for (uint32_t i : f.packets) {
            const PacketRecord& r = v29[i];
            ASSERT_TRUE(r.present & kHasDns);
            EXPECT_EQ(r.dns_id, r0.dns_id);  // a question and its answer share the id
            const bool answer = r.sport == kDnsPort && r.dport != kDnsPort;
            answers += answer, queries += !answer, ++dns;
            if (r.sport != r.dport) {
                EXPECT_EQ(r.dns_flags, answer ? 0x8180 : 0x0100);  // two 53s: by who asked
            }
        }
    }
    EXPECT_GT(queries, 5u);
    EXPECT_GT(answers, 5u);
    // Everything else is format 28's: the same records but for the DNS header.
    size_t with_header = 0;
    for (size_t i = 0; i < v28.size(); ++i) {
        EXPECT_FALSE(v28[i].present & kHasDns);
        PacketRecord r = v29[i];
        with_header += (r.present & kHasDns) != 0;
        r.present &= static_cast<uint16_t>(~kHasDns), r.dns_id = 0, r.dns_flags = 0;
        EXPECT_EQ(r, v28[i]) << i;
    }
    EXPECT_EQ(with_header, dns);
}

TEST(UdpServices, FormatFiftyFourBroadcastsAServicesSamePortDatagramsSentToItsGroup) {
    const std::vector<uint16_t> ports = {53, 137};
    // 137 held by slot 0, its datagrams sent to a group address, never asked; 53 asked of slot 1.
    const std::vector<UdpService> s = {{1, 0, UdpService::kNoServiceHost, 0, 0, 0, 0, UdpService::kToGroup | UdpService::kUnanswered},
                                       {0, 1, 0, 0, 0, 0, 0, UdpService::kAsked | UdpService::kAnswered}};
    auto serve = [&](uint16_t p0, int h0, uint16_t p1, int h1, bool broadcasts) {
        return serve_udp_ports(s, ports, UdpEnds{{p0, p1}, {h0, h1}, {false, false}}, 55555, 0, broadcasts);
    };
    // The DNS server to slot 0, 137 to 137: format 28 made it a client asking 137 at its holder.
    UdpEnds e = serve(137, 1, 137, 0, false);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{55555, 137}));
    EXPECT_FALSE(e.to_broadcast);
    // Format 54: the holder broadcasts from 137 to 137 on its subnet.
    e = serve(137, 1, 137, 0, true);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{137, 137}));
    EXPECT_EQ(e.host[0], 0);
    EXPECT_TRUE(e.host_moved[0]);
    EXPECT_TRUE(e.to_broadcast);
    EXPECT_TRUE(e.pinned[1]);
    // A service never sent to a group (DNS's 53 to 53) still asks from an ephemeral port, and a
    // client's port to 137 is no broadcast.
    e = serve(53, 0, 53, 1, true);
    EXPECT_EQ(e.port, (std::array<uint16_t, 2>{55555, 53}));
    EXPECT_FALSE(e.to_broadcast);
    EXPECT_FALSE(serve(50000, 1, 137, 0, true).to_broadcast);
}

TEST(UdpServices, FormatFiftyFourSendsTinbasNetbiosQueriesToItsSubnetsBroadcast) {
    // Every NetBIOS name query of the real trace goes from 10.0.2.108:137 to 10.0.2.255:137.
    Capture cap = load_dev_capture("USTC-TFC2016__Tinba.pcap", 30000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const auto netbios = [](const std::vector<PacketRecord>& recs, bool broadcast) {
        return std::count_if(recs.begin(), recs.end(), [&](const PacketRecord& r) {
            return r.ip_version == 4 && r.proto == 17 && !(r.present & kHasIcmp) && r.sport == 137 && r.dport == 137 &&
                   (r.dst[3] == 255) == broadcast;
        });
    };
    EXPECT_EQ(netbios(cap.records, true), 30);
    EXPECT_EQ(netbios(cap.records, false), 0);
    const std::vector<PacketRecord> v53 = regenerate_as(enc, 53), v54 = regenerate_as(enc, 54);
    EXPECT_EQ(netbios(v53, true), 0) << "format 53 asks 137 from an ephemeral port";
    EXPECT_GT(netbios(v54, true), 0);
    EXPECT_EQ(netbios(v54, false), 0);
    for (const PacketRecord& r : v54) {
        if (r.ip_version == 4 && r.proto == 17 && r.sport == 137 && r.dport == 137 && r.dst[3] == 255) {
            EXPECT_TRUE(std::equal(r.src.begin(), r.src.begin() + 3, r.dst.begin())) << "its sender's own /24";
        }
    }
    EXPECT_EQ(v53.size(), v54.size());
}
