// Flow assembly (codec/flows.h) against the spec's definition: protocol + unordered
// endpoints, ports only for TCP/UDP with ports, > 60 s gap ends a flow, time order.
#include <gtest/gtest.h>

#include <algorithm>

#include "codec/flows.h"
#include "hand_records.h"

namespace dgc {
namespace {

using test::kSec;

TEST(FlowKey, EndpointsAreUnordered) {
    const PacketRecord fwd = test::tcp4(0, 0x0a000001, 1234, 0x0a000002, 80, 60);
    const PacketRecord rev = test::tcp4(0, 0x0a000002, 80, 0x0a000001, 1234, 60);
    EXPECT_EQ(flow_key_of(fwd), flow_key_of(rev));
    EXPECT_EQ(flow_key_hash(flow_key_of(fwd)), flow_key_hash(flow_key_of(rev)));
    const PacketRecord other_port = test::tcp4(0, 0x0a000002, 81, 0x0a000001, 1234, 60);
    EXPECT_NE(flow_key_of(fwd), flow_key_of(other_port));
}

TEST(FlowKey, PortsOnlyWhenPresentAndIpv4TailIgnored) {
    PacketRecord frag = test::ip4(0, 0x0a000001, 0x0a000002, 17, 1500);  // non-first fragment: no ports
    frag.sport = 999;  // stale values must not leak into the key
    const FlowKey k = flow_key_of(frag);
    EXPECT_EQ(k.port_a, 0);
    EXPECT_EQ(k.port_b, 0);
    PacketRecord dirty = frag;
    dirty.src[9] = 0x55;  // bytes after an IPv4 address are not part of it
    EXPECT_EQ(flow_key_of(dirty), k);
    PacketRecord icmp = test::ip4(0, 0x0a000001, 0x0a000002, 1, 84);
    EXPECT_NE(flow_key_of(icmp), k);  // protocol is part of the key
}

TEST(Flows, SixtySecondIdleTimeoutAndDirections) {
    std::vector<PacketRecord> recs = {
        test::tcp4(0, 0x0a000001, 1000, 0x0a000002, 80, 100),
        test::tcp4(1 * kSec, 0x0a000002, 80, 0x0a000001, 1000, 200),  // reverse direction, same flow
        test::tcp4(61 * kSec, 0x0a000001, 1000, 0x0a000002, 80, 300), // gap exactly 60 s: same flow
        test::tcp4(121 * kSec + 1, 0x0a000001, 1000, 0x0a000002, 80, 400),  // gap 60 s + 1 ns: new flow
        test::non_ip(5 * kSec),
    };
    const auto flows = assemble_flows(recs);
    ASSERT_EQ(flows.size(), 2u);
    EXPECT_EQ(flows[0].packets, (std::vector<uint32_t>{0, 1, 2}));
    EXPECT_EQ(flows[0].start_ns, 0);
    EXPECT_EQ(flows[0].end_ns, 61 * kSec);
    EXPECT_EQ(flows[0].bytes, 600u);
    EXPECT_EQ(flows[1].packets, (std::vector<uint32_t>{3}));
    EXPECT_EQ(flows[1].start_ns, 121 * kSec + 1);
}

TEST(Flows, NonMonotonicTimesAreSortedStably) {
    // File order is not time order; two packets share t = 2 s and must keep file order.
    std::vector<PacketRecord> recs = {
        test::udp4(3 * kSec, 0x0a000001, 53, 0x0a000009, 5353, 10),   // 0
        test::udp4(2 * kSec, 0x0a000009, 5353, 0x0a000001, 53, 20),   // 1
        test::udp4(100 * kSec, 0x0a000001, 53, 0x0a000009, 5353, 30), // 2: 97 s after -> new flow
        test::udp4(2 * kSec, 0x0a000001, 53, 0x0a000009, 5353, 40),   // 3: tie with 1, after it
        test::udp4(1 * kSec, 0x0a000003, 1, 0x0a000004, 2, 50),       // 4: another key, earliest
    };
    EXPECT_EQ(time_order(recs), (std::vector<uint32_t>{4, 1, 3, 0, 2}));
    const auto flows = assemble_flows(recs);
    ASSERT_EQ(flows.size(), 3u);
    EXPECT_EQ(flows[0].packets, (std::vector<uint32_t>{4}));
    EXPECT_EQ(flows[1].packets, (std::vector<uint32_t>{1, 3, 0}));
    EXPECT_EQ(flows[1].start_ns, 2 * kSec);
    EXPECT_EQ(flows[1].end_ns, 3 * kSec);
    EXPECT_EQ(flows[1].bytes, 70u);
    EXPECT_EQ(flows[2].packets, (std::vector<uint32_t>{2}));

    const FlowTable t = build_flow_table(recs);
    ASSERT_EQ(t.flows.size(), 3u);
    EXPECT_EQ(t.flows[1].packets, 3u);
    EXPECT_EQ(t.flow_of[3], 1u);
}

TEST(Flows, ManyKeysSurviveTableGrowth) {
    std::vector<PacketRecord> recs;
    for (uint32_t i = 0; i < 5000; ++i) {
        recs.push_back(test::udp4(i, 0x0a000000 + i, 1000, 0x0b000000, 53, 60));
        recs.push_back(test::udp4(10'000 + i, 0x0b000000, 53, 0x0a000000 + i, 1000, 60));
    }
    const auto flows = assemble_flows(recs);
    ASSERT_EQ(flows.size(), 5000u);
    for (const auto& f : flows) EXPECT_EQ(f.packets.size(), 2u);
}

}  // namespace
}  // namespace dgc
