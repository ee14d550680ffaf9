// Format 64 (trainer/icmp_kind_flows.h): an ICMP kind keeps the flows it opened.
#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

#include "codec/flows.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_choices.h"
#include "trainer/icmp_kind_flows.h"

namespace dgc::trainer {
namespace {

// ICMP flows (the spec's) by the type and code of their first message.
std::map<std::pair<int, int>, size_t> flows_by_first_kind(std::span<const PacketRecord> recs) {
    std::map<std::pair<int, int>, size_t> out;
    for (const Flow& f : assemble_flows(recs)) {
        if (f.key.proto != 1) continue;
        const PacketRecord& r = recs[f.packets[0]];
        if (r.present & kHasIcmp) ++out[{r.icmp_type, r.icmp_code}];
    }
    return out;
}

TEST(IcmpKindFlows, EachKindGetsTheFlowsItOpenedLargestToTheMostPacketsOwed) {
    ChunkSide side;
    side.protos = {ProtoEntry{4, 1, false}, ProtoEntry{4, 6, true}};
    // Most packets first, as the encoder ranks them: net unreachables (2 flows, one of 1,480
    // packets), echo requests (3 flows holding their replies), lone echo replies (2 flows),
    // port unreachables (3 flows of one packet).
    side.icmp = {{1, 3, 0, 1482}, {1, 8, 0, 9}, {1, 0, 0, 8}, {1, 3, 3, 3}};
    side.icmp_opened = {{2, 1482}, {3, 15}, {2, 2}, {3, 3}};
    const uint32_t packets[] = {1400, 1, 6, 40, 1, 5, 1, 1, 4, 1, 3};
    std::vector<FlowTokens> flows(std::size(packets));
    for (size_t i = 0; i < flows.size(); ++i) flows[i].packets = packets[i];
    flows[3].a[kAttrProto] = 1;  // a TCP flow takes no kind
    side.format = 63;
    const std::vector<int> v63 = assign_icmp_kinds(side, flows, 7);
    side.format = 64;
    const std::vector<int> v64 = assign_icmp_kinds(side, flows, 7);
    // Largest first (1400, 6, 5, 4, 3, then the 1s in flow order: 1, 4, 6, 7, 9), each to the
    // kind with the most packets beyond one a flow left to place while it has flows left.
    EXPECT_EQ(v64, (std::vector<int>{0, 2, 0, -1, 2, 1, 3, 3, 1, 3, 1}));
    std::map<int, int> held63;
    for (int k : v63) ++held63[k];
    EXPECT_EQ(held63[2], 0) << "format 63: a reply opens no flow where the chunk has requests";
    EXPECT_LT(held63[3], 3) << "format 63: the port unreachables' 3 packets were worth one flow";

    // Fewer flows than the chunk's: the counts shrink by largest remainder.
    flows.resize(5);
    EXPECT_EQ(assign_icmp_kinds(side, flows, 7), (std::vector<int>{0, 3, 1, -1, 2}));
    // No counts for this protocol (a side written before): format 63's draw.
    side.icmp_opened.assign(4, IcmpOpened{});
    const std::vector<int> uncounted = assign_icmp_kinds(side, flows, 7);
    side.format = 63;
    EXPECT_EQ(uncounted, assign_icmp_kinds(side, flows, 7));
}

// Tinba's client told 8.8.4.4 three times, minutes apart, that port 57,799 (65,494, 57,630)
// was closed: three one-packet flows among two of its gateway's 1,483 net unreachables.
TEST(IcmpKindFlows, FormatSixtyFourRegeneratesTinbasThreePortUnreachableFlows) {
    Capture cap = load_dev_capture("USTC-TFC2016__Tinba.pcap");
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    const auto real = flows_by_first_kind(cap.records);
    ASSERT_EQ(real.at({3, 3}), 3u);
    ASSERT_EQ(real.at({3, 0}), 2u);
    const auto& kinds = enc.side.icmp;
    ASSERT_EQ(enc.side.icmp_opened.size(), kinds.size());
    std::map<std::pair<int, int>, IcmpOpened> opened;  // ICMPv4's kinds (its ICMPv6 kinds are NDP and MLD)
    for (size_t k = 0; k < kinds.size(); ++k)
        if (kinds[k].proto == 1) opened[{kinds[k].type, kinds[k].code}] = enc.side.icmp_opened[k];
    EXPECT_EQ(opened, (std::map<std::pair<int, int>, IcmpOpened>{{{3, 0}, {2, 1483}}, {{3, 3}, {3, 3}}}));
    const auto v63 = flows_by_first_kind(regenerate_as(enc, 63)), v64 = flows_by_first_kind(regenerate_as(enc, 64));
    EXPECT_EQ(v63.count({3, 3}) ? v63.at({3, 3}) : 0, 1u);
    EXPECT_EQ(v64.count({3, 3}) ? v64.at({3, 3}) : 0, 3u);

    expect_read_back_from(enc.side, 64, [](const ChunkSide& s) { return s.icmp_opened; });
    ChunkSide bad = enc.side;
    bad.icmp_opened[0] = {3, 2};
    EXPECT_FALSE(read_back_as(bad, 64).ok()) << "three flows in two packets";
    bad.icmp_opened[0] = {3, enc.side.ip_packets};
    EXPECT_FALSE(read_back_as(bad, 64).ok()) << "more packets than the chunk";
}

}  // namespace
}  // namespace dgc::trainer
