// Format 7's additions to the protocol compiler: pure ACKs and FINs with data at the chunk's
// own shares, the request a handshake is followed by, and UDP ports that only ever talk to
// one partner port (DHCP's 68 and 67). Pure functions first, then real chunks' own tokens.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_semantics.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_choices.h"
#include "trainer/synth_records.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

uint32_t grants(ShareQuota q, int asks) {
    uint32_t n = 0;
    for (int i = 0; i < asks; ++i) n += q.grant(true);
    return n;
}

// The payloads fix_duplicate_acks gives `plan` when the model sized every segment `model`.
std::vector<uint32_t> payloads_of(std::vector<TcpSegmentPlan>& plan, uint32_t model, ShareQuota* pure) {
    std::vector<uint32_t> out(plan.size());
    fix_duplicate_acks(
        plan, [&](uint32_t j, uint8_t) { return plan[j].control ? 0 : model; }, out, pure, 7);
    return out;
}

PacketRecord udp(uint16_t sport, uint16_t dport, uint8_t host) {
    PacketRecord r;
    r.present = kHasIp | kHasPorts | kHasUdp;
    r.ip_version = 4, r.proto = 17, r.ip_len = 60;
    r.src = {10, 0, 0, host}, r.dst = {10, 0, 0, 1};
    r.sport = sport, r.dport = dport;
    return r;
}

}  // namespace

TEST(ShareQuota, GrantsTheChunksShareInAnyOrder) {
    EXPECT_EQ(grants(ShareQuota(0, 50, true), 30), 0u);
    EXPECT_EQ(grants(ShareQuota(50, 50, true), 30), 30u);
    EXPECT_EQ(grants(ShareQuota(1, 3, true), 30), 10u);
    EXPECT_EQ(grants(ShareQuota(0, 50, false), 30), 30u);  // off: the model decides
    EXPECT_EQ(grants(ShareQuota(0, 0, true), 30), 30u);    // nothing measured: off
    ShareQuota q(1, 4, true);
    EXPECT_FALSE(q.grant(false));  // a candidate that does not ask still counts
    EXPECT_TRUE(q.grant(true));
    EXPECT_FALSE(q.grant(true));
}

TEST(SegmentShape, FinsCarryDataAtTheChunksShare) {
    auto plan = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1, 0, 1, 0}, std::vector<uint8_t>{0x02, 0x12, 0x10, 0x18, 0x11, 0x11, 0x10});
    ShareQuota all(4, 4, true);
    shape_teardown(plan, all, false);
    EXPECT_EQ(plan[4].flags, kFin | kAck | kPsh);
    EXPECT_FALSE(plan[4].control);
    EXPECT_FALSE(plan[5].control);
    EXPECT_EQ(plan[6].flags, kAck);  // the last ACK stays: the capture has pure ACKs
    auto payload = payloads_of(plan, 0, nullptr);
    EXPECT_EQ(payload[4], 0u);  // format 6 never fills a FIN
    ShareQuota pure(1, 2, true);
    payload = payloads_of(plan, 0, &pure);
    EXPECT_GT(payload[4], 0u);
    EXPECT_GT(payload[5], 0u);

    // A capture without pure ACKs: FIN, FIN and no bare ACK after them; the slot goes to
    // the closer's data before its FIN.
    auto bare = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1, 0, 1}, std::vector<uint8_t>{0x18, 0x18, 0x18, 0x11, 0x11, 0x10});
    ShareQuota none(0, 4, true);
    shape_teardown(bare, none, true);
    ASSERT_EQ(bare.size(), 6u);
    EXPECT_EQ(bare[3].flags, kAck | kPsh);
    EXPECT_FALSE(bare[3].control);
    EXPECT_TRUE(bare[4].flags & kFin);
    EXPECT_TRUE(bare[5].flags & kFin);
    EXPECT_EQ(bare[3].dir, bare[4].dir);
}

TEST(SegmentShape, AHandshakeIsFollowedByARequest) {
    // SYN, SYN-ACK, ACK, then a pure ACK that acknowledges nothing (the model sized it so).
    auto plan = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1, 0}, std::vector<uint8_t>{0x02, 0x12, 0x10, 0x10, 0x10});
    auto v6 = plan;
    EXPECT_EQ(payloads_of(v6, 0, nullptr)[3], 0u);  // format 6: a duplicate ACK
    ShareQuota pure(1, 1, true);
    auto p = payloads_of(plan, 0, &pure);
    EXPECT_EQ(p[2], 0u);  // the handshake's ACK stays bare
    EXPECT_EQ(p[3], 7u);  // min_data: no side has sent data yet
    EXPECT_EQ(p[4], 0u);  // now acknowledging the request is a pure ACK
}

TEST(SegmentShape, PureAcksBeyondTheChunksShareCarryData) {
    // Mid-connection: data both ways, the model's ACKs in between.
    auto plan = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1, 0, 1}, std::vector<uint8_t>{0x18, 0x10, 0x18, 0x10, 0x18, 0x10});
    std::vector<uint32_t> out(plan.size());
    const std::vector<uint32_t> model = {100, 0, 200, 0, 300, 0};
    ShareQuota none(0, 10, true);
    fix_duplicate_acks(
        plan, [&](uint32_t j, uint8_t) { return model[j]; }, out, &none, 7);
    for (size_t j = 0; j < out.size(); ++j) EXPECT_GT(out[j], 0u) << "segment " << j;
    ShareQuota all(10, 10, true);
    auto again = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1, 0, 1}, std::vector<uint8_t>{0x18, 0x10, 0x18, 0x10, 0x18, 0x10});
    fix_duplicate_acks(
        again, [&](uint32_t j, uint8_t) { return model[j]; }, out, &all, 7);
    EXPECT_EQ(out[1], 0u);
    EXPECT_EQ(out[3], 0u);
}

TEST(UdpPortPartners, FixedPairsNotServices) {
    std::vector<PacketRecord> recs;
    for (uint8_t h = 2; h < 6; ++h) {
        recs.push_back(udp(68, 67, h));                                      // DHCP
        recs.push_back(udp(5353, 5353, h));                                  // mDNS
        recs.push_back(udp(static_cast<uint16_t>(40000 + h * 7), 53, h));  // DNS from ephemeral ports
    }
    for (size_t i = 0; i < recs.size(); ++i) recs[i].t_ns = static_cast<int64_t>(i) * 1000;
    const auto flows = assemble_flows(recs);
    const std::vector<uint16_t> ports = {67, 68, 5353, 53};
    const auto pairs = udp_port_partners(recs, flows, ports);
    const std::set<std::pair<uint8_t, uint8_t>> got(pairs.begin(), pairs.end());
    EXPECT_EQ(got, (std::set<std::pair<uint8_t, uint8_t>>{{0, 1}, {1, 0}, {2, 2}}));

    ChunkSide side;
    side.format = 7;
    side.ports = ports;
    side.port_partners = pairs;
    uint16_t cli = 67, srv = 67;  // the model drew the server's port twice
    pair_udp_ports(side, cli, srv, 50000);
    EXPECT_EQ(std::make_pair(cli, srv), std::make_pair(uint16_t{68}, uint16_t{67}));
    cli = 68, srv = 53;
    pair_udp_ports(side, cli, srv, 50000);
    EXPECT_EQ(srv, 67);
    cli = 45000, srv = 53;  // a service reached from anywhere: untouched
    pair_udp_ports(side, cli, srv, 50000);
    EXPECT_EQ(std::make_pair(cli, srv), std::make_pair(uint16_t{45000}, uint16_t{53}));
    // Format 20: DHCP's client port does not make a DNS query DHCP; the query comes from an
    // ephemeral port. An unranked server port still takes the client's partner.
    side.format = 20;
    cli = 68, srv = 53;
    pair_udp_ports(side, cli, srv, 50000);
    EXPECT_EQ(std::make_pair(cli, srv), std::make_pair(uint16_t{50000}, uint16_t{53}));
    cli = 68, srv = 4000;
    pair_udp_ports(side, cli, srv, 50000);
    EXPECT_EQ(std::make_pair(cli, srv), std::make_pair(uint16_t{68}, uint16_t{67}));
    cli = 67, srv = 67;
    pair_udp_ports(side, cli, srv, 50000);
    EXPECT_EQ(std::make_pair(cli, srv), std::make_pair(uint16_t{68}, uint16_t{67}));
}

TEST(SegmentShape, SideRoundTripsAndRejectsAPartnerOutsideTheRanks) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap");
    cap.records.resize(std::min<size_t>(cap.records.size(), 6000));
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_GE(enc.side.format, 7);
    enc.side.format = 7;  // this test is about format 7's block; format 8 appends its own
    EXPECT_GT(enc.side.pure_acks, 0u);
    EXPECT_FALSE(enc.side.port_partners.empty());  // DHCP
    const std::string bytes = serialize_side(enc.side);
    auto back = parse_side(bytes, "chunk", 7);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->pure_acks, enc.side.pure_acks);
    EXPECT_EQ(back->fins, enc.side.fins);
    EXPECT_EQ(back->data_fins, enc.side.data_fins);
    EXPECT_EQ(back->port_partners, enc.side.port_partners);
    ChunkSide bad = enc.side;
    bad.port_partners.push_back({0, static_cast<uint8_t>(bad.ports.size())});
    auto refused = parse_side(serialize_side(bad), "chunk 3", 7);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("chunk 3"), std::string::npos);
}

TEST(SegmentShape, RealChunksComeBackWithTheirOwnShapes) {
    // tls2 holds data segments only (no pure ACK anywhere); ultraloq's DHCP is 68 <-> 67.
    Capture tls = load_dev_capture("PcapPlusPlus__tls2.pcap");
    EncodedChunk enc = encode_chunk(tls.records, 1);
    ASSERT_EQ(enc.side.pure_acks, 0u);
    ASSERT_GT(enc.side.data_fins, 0u);
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 3);
    uint64_t pure = 0, fins = 0, data_fins = 0;
    for (const auto& r : recs) {
        if (!(r.present & kHasTcp)) continue;
        const bool data = fidelity::tcp_payload_bytes(r) > 0;
        pure += (r.tcp_flags & (kSyn | kFin | kRst | kAck)) == kAck && !data;
        fins += (r.tcp_flags & kFin) != 0;
        data_fins += (r.tcp_flags & kFin) && data;
    }
    EXPECT_EQ(pure, 0u);
    EXPECT_GT(fins, 0u);
    EXPECT_EQ(data_fins, fins);

    Capture iot = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap");
    iot.records.resize(std::min<size_t>(iot.records.size(), 6000));
    EncodedChunk e2 = encode_chunk(iot.records, 1);
    auto r2 = synthesize_records(e2.side, e2.flows, e2.packets, 3);
    uint64_t dhcp = 0, odd = 0;
    for (const auto& r : r2) {
        if (r.proto != 17 || !(r.present & kHasPorts)) continue;
        const bool a = r.sport == 67 || r.sport == 68, b = r.dport == 67 || r.dport == 68;
        dhcp += a || b;
        odd += (a || b) && !(a && b && r.sport != r.dport);
    }
    EXPECT_GT(dhcp, 0u);
    EXPECT_EQ(odd, 0u) << "DHCP ports paired with something other than each other";
}
