// Format 62: IGMP goes to the groups the chunk's went to, as whole messages a stack would send.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <span>
#include <vector>

#include "codec/frame_synth.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"
#include "trainer/igmp_messages.h"

namespace dgc::trainer {
namespace {

std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }

PacketRecord igmp_to(const std::array<uint8_t, 16>& dst, uint32_t ip_len) {
    PacketRecord r;
    r.ip_version = 4, r.proto = 2, r.present = kHasIp, r.ttl = 64;
    r.src = v4(192, 168, 1, 100), r.dst = dst, r.ip_len = ip_len;
    return r;
}

TEST(IgmpMessages, AMessageFollowsWhereItGoes) {
    const std::vector<std::array<uint8_t, 16>> groups = {v4(239, 255, 255, 250), v4(224, 0, 0, 251), v4(224, 0, 0, 252)};
    // All systems: a general query, version 3 where the length has room for 12 bytes.
    for (auto [len, want] : {std::pair{36u, 36u}, {40u, 36u}, {32u, 32u}, {28u, 32u}}) {
        PacketRecord q = igmp_to(v4(224, 0, 0, 1), len);
        set_igmp_message(q, groups, 0, false);
        EXPECT_EQ(q.icmp_type, kIgmpQuery);
        EXPECT_EQ(q.icmp_code, 100);
        EXPECT_EQ(q.icmp_rest, 0u);
        EXPECT_EQ(q.ip_len, want) << len;
        EXPECT_EQ(q.ttl, 1);
        EXPECT_TRUE(q.present & kHasIgmp);
    }
    // IGMPv3's reports: a record per group the length holds, from `offset` on, of the
    // chunk's groups; joins, or the groups' modes where the chunk has a querier.
    PacketRecord rep = igmp_to(v4(224, 0, 0, 22), 48);
    set_igmp_message(rep, groups, 2, false);
    EXPECT_EQ(rep.icmp_type, kIgmpV3Report);
    EXPECT_EQ(rep.icmp_rest, 2u);
    EXPECT_EQ(rep.ip_len, 48u);
    EXPECT_EQ(rep.igmp_records[0], (IgmpRecord{4, {224, 0, 0, 252}}));
    EXPECT_EQ(rep.igmp_records[1], (IgmpRecord{4, {239, 255, 255, 250}}));
    EXPECT_EQ(rep.igmp_records[2], IgmpRecord{});
    PacketRecord big = igmp_to(v4(224, 0, 0, 22), 400), small = igmp_to(v4(224, 0, 0, 22), 30);
    set_igmp_message(big, groups, 0, true);
    set_igmp_message(small, groups, 0, true);
    EXPECT_EQ(big.icmp_rest, 3u) << "no group twice";
    EXPECT_EQ(big.ip_len, 24u + 8 + 24);
    EXPECT_EQ(big.igmp_records[0].type, 2);
    EXPECT_EQ(small.icmp_rest, 1u);
    EXPECT_EQ(small.ip_len, 40u);
    PacketRecord none = igmp_to(v4(224, 0, 0, 22), 48);
    set_igmp_message(none, {}, 0, false);
    EXPECT_EQ(none.icmp_type, kIgmpV3Report);
    EXPECT_EQ(none.icmp_rest, 0u);
    EXPECT_EQ(none.ip_len, 32u);
    // A version 2 report goes to its group; a leave to all routers names one.
    PacketRecord v2 = igmp_to(v4(239, 255, 255, 250), 60);
    set_igmp_message(v2, groups, 0, false);
    EXPECT_EQ(v2.icmp_type, kIgmpV2Report);
    EXPECT_EQ(v2.icmp_rest, 0xeffffffau);
    EXPECT_EQ(v2.ip_len, 32u);
    PacketRecord leave = igmp_to(v4(224, 0, 0, 2), 32);
    set_igmp_message(leave, groups, 1, false);
    EXPECT_EQ(leave.icmp_type, kIgmpLeave);
    EXPECT_EQ(leave.icmp_rest, 0xe00000fbu);
    // One host: a query (RFC 3376 lets a querier ask one).
    PacketRecord one = igmp_to(v4(192, 168, 1, 7), 32);
    set_igmp_message(one, groups, 0, false);
    EXPECT_EQ(one.icmp_type, kIgmpQuery);
    // Each is written whole: frame_synth captures the message after the Router Alert.
    for (const PacketRecord& r : {rep, big, v2, leave, one}) {
        const SynthLayout L = synth_layout(r, 1);
        EXPECT_EQ(L.ip, 24u);
        EXPECT_EQ(L.caplen, 14 + r.ip_len);
    }
}

TEST(IgmpMessages, CountsTheRankedReceiversAndReadsThemBack) {
    std::vector<PacketRecord> recs;
    for (int i = 0; i < 3; ++i) recs.push_back(igmp_to(v4(224, 0, 0, 22), i ? 40 : 48));  // all from slot 2
    for (int i = 0; i < 5; ++i) recs.push_back(igmp_to(v4(224, 0, 0, 1), 36));
    recs.push_back(igmp_to(v4(239, 1, 2, 3), 32));  // unranked
    PacketRecord udp = igmp_to(v4(224, 0, 0, 1), 60);
    udp.proto = 17;
    recs.push_back(udp);
    recs[3].src[3] = 9;  // one of the five queries from another host: nine in ten no longer holds
    auto slot_of = [](const PacketRecord& r, bool src) {
        if (src) return r.src[3] == 100 ? 2 : -1;
        return r.dst[3] == 22 ? 4 : r.dst[3] == 1 ? 7 : -1;
    };
    const std::vector<IgmpDest> dests = count_igmp_dests(recs, slot_of);
    ASSERT_EQ(dests.size(), 2u);
    EXPECT_EQ(dests[0], (IgmpDest{7, 5, 36, kNoSlot}));
    EXPECT_EQ(dests[1], (IgmpDest{4, 3, 40, 2}));

    // wechat's: its hosts' reports to 224.0.0.22, its router's queries to 224.0.0.1.
    ChunkSide side = encode_chunk(load_dev_capture("nDPI__wechat.pcap").records, 1).side;
    ASSERT_EQ(side.igmp_dests.size(), 2u);
    EXPECT_EQ(side.igmp_dests[0].packets, 20u);
    EXPECT_EQ(side.igmp_dests[1].packets, 4u);
    EXPECT_EQ(side.igmp_dests[0].ip_len, 40u);  // one record
    EXPECT_EQ(side.igmp_dests[1].ip_len, 36u);  // a version 3 query
    EXPECT_EQ(side.igmp_dests[0].sender, kNoSlot) << "three hosts report";
    EXPECT_NE(side.igmp_dests[1].sender, kNoSlot) << "the router queries";
    expect_read_back_from(side, 62, [](const ChunkSide& s) { return s.igmp_dests; });
    // A receiver outside the ranked hosts, out of order, twice, of nothing, of less than a
    // message, or of a sender outside the ranked hosts or itself is refused.
    const auto n = static_cast<uint8_t>(side.hosts.size());
    for (const std::vector<IgmpDest>& bad : {std::vector<IgmpDest>{{n, 1, 32}}, {{4, 3, 32}, {7, 5, 32}}, {{4, 3, 32}, {4, 3, 32}},
                                             {{4, 0, 32}}, {{4, 1, 27}}, {{4, 1, 32, n}}, {{4, 1, 32, 4}}}) {
        side.igmp_dests = bad;
        EXPECT_FALSE(read_back_as(side, 62).ok());
    }
}

TEST(IgmpMessages, AFlowTheModelSendsElsewhereGoesToTheChunksReceivers) {
    const std::vector<std::array<uint8_t, 16>> addr = {v4(192, 168, 1, 1), v4(224, 0, 0, 22), v4(224, 0, 0, 1), v4(239, 255, 255, 250)};
    const std::vector<IgmpDest> dests = {{1, 30, 40, kNoSlot}, {2, 10, 32, 0}};
    const IgmpSender sender(dests, addr);
    EXPECT_EQ(sender.receiver(addr[1], 1), -1);
    EXPECT_EQ(sender.receiver(addr[2], 1), -1);
    int to_reports = 0;
    for (uint64_t s = 0; s < 400; ++s) {
        const int g = sender.receiver(addr[0], s);
        ASSERT_TRUE(g == 1 || g == 2);
        to_reports += g == 1;
    }
    EXPECT_NEAR(to_reports, 300, 40) << "by the messages each received";
    EXPECT_EQ(IgmpSender({}, addr).receiver(addr[0], 1), -1);
    EXPECT_EQ(sender.sender(addr[2]), 0) << "the querier";
    EXPECT_EQ(sender.sender(addr[1]), -1);
    EXPECT_EQ(sender.sender(addr[3]), -1);
    // Reports name the chunk's groups but IGMP's own; the querier makes them state modes.
    // Each receiver's messages are as long as the chunk's to it were.
    PacketRecord r = igmp_to(addr[1], 200), q = igmp_to(addr[2], 200), elsewhere = igmp_to(addr[3], 200);
    sender.message(r, 0, 0);
    EXPECT_EQ(r.igmp_records[0], (IgmpRecord{2, {239, 255, 255, 250}}));
    EXPECT_EQ(r.ip_len, 40u);
    sender.message(q, 0, 0);
    EXPECT_EQ(q.ip_len, 32u) << "a version 2 query";
    sender.message(elsewhere, 0, 0);
    EXPECT_EQ(elsewhere.icmp_type, kIgmpV2Report);
}

// wechat's hosts send version 3 reports to 224.0.0.22 and its router queries 224.0.0.1;
// where the flow model sends IGMP to another host, format 61 sent bare headers there,
// format 62 sends whole messages to those two groups.
TEST(IgmpMessages, FormatSixtyTwoSendsWechatsIgmpAsIgmp) {
    Capture cap = load_dev_capture("nDPI__wechat.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_FALSE(enc.side.igmp_dests.empty());
    // The flow model's mistakes: every other IGMP flow to the busiest ranked host that got none.
    uint8_t other = 0;
    while (other == enc.side.igmp_dests[0].slot || other == enc.side.igmp_dests[1].slot) ++other;
    size_t planted = 0;
    for (FlowTokens& f : enc.flows)
        if (proto_of(enc.side, f).proto == 2 && planted++ % 2 == 0) f.a[kAttrSrvHost] = other;
    ASSERT_GT(planted, 2u);
    auto igmp = [](std::span<const PacketRecord> recs) {
        std::vector<PacketRecord> out;
        for (const PacketRecord& r : recs)
            if (r.is_ip() && r.proto == 2) out.push_back(r);
        return out;
    };
    const auto real = igmp(cap.records), v61 = igmp(regenerate_as(enc, 61)), v62 = igmp(regenerate_as(enc, 62));
    ASSERT_EQ(real.size(), 24u);
    ASSERT_FALSE(v62.empty());
    size_t elsewhere61 = 0;
    for (const PacketRecord& r : v61) {
        EXPECT_FALSE(r.present & kHasIgmp);
        elsewhere61 += r.dst != v4(224, 0, 0, 22) && r.dst != v4(224, 0, 0, 1);
    }
    EXPECT_GT(elsewhere61, 0u);
    std::set<uint8_t> types;
    std::set<std::array<uint8_t, 16>> queriers;
    for (const PacketRecord& r : v62) {
        if (r.icmp_type == kIgmpQuery) queriers.insert(r.src);
        ASSERT_TRUE(r.present & kHasIgmp);
        EXPECT_EQ(r.ttl, 1);
        EXPECT_TRUE(r.dst == v4(224, 0, 0, 22) || r.dst == v4(224, 0, 0, 1));
        EXPECT_EQ(r.icmp_type, r.dst[3] == 1 ? kIgmpQuery : kIgmpV3Report);
        types.insert(r.icmp_type);
        for (uint32_t i = 0; r.icmp_type == kIgmpV3Report && i < r.icmp_rest; ++i) {
            EXPECT_EQ(r.igmp_records[i].group[0] & 0xf0, 0xe0);
            EXPECT_FALSE(igmp_control_group({r.igmp_records[i].group[0], r.igmp_records[i].group[1], r.igmp_records[i].group[2], r.igmp_records[i].group[3]}));
        }
    }
    EXPECT_EQ(types.size(), 2u);
    EXPECT_EQ(queriers.size(), 1u);
}

}  // namespace
}  // namespace dgc::trainer
