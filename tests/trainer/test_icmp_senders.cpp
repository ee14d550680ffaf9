// Format 38 (trainer/icmp_senders.h): an ICMP error comes from the host that sends that kind
// of error, and goes to a unicast host. sifely's time exceeded errors come from ISP routers
// that send nothing else; format 37 sent them from the hub's router to 224.0.0.1.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "codec/address_class.h"
#include "codec/icmp_quote.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"
#include "trainer/icmp_senders.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord icmp(uint8_t src, uint8_t dst, uint8_t type, uint8_t code) {
    PacketRecord r = lan_record(1, src, 0, dst, 0, 56);
    r.present = kHasIp | kHasIcmp;
    r.icmp_type = type, r.icmp_code = code;
    return r;
}

// 10.0.0.1..3 are ranked slots 0..2; any other host is unranked.
int src_slot(const PacketRecord& r) { return r.src[0] == 10 && r.src[3] >= 1 && r.src[3] <= 3 ? r.src[3] - 1 : -1; }

struct ErrorView {
    size_t to_groups = 0;                       // errors sent to a group or the unspecified address
    std::set<std::array<uint8_t, 16>> senders;  // of time exceeded errors
    size_t senders_other_traffic = 0;           // of those senders' packets, those that are no ICMP error
};

ErrorView error_view(std::span<const PacketRecord> recs) {
    ErrorView v;
    for (const PacketRecord& r : recs) {
        if (!r.is_ip() || !(r.present & kHasIcmp) || !icmp_is_error(r)) continue;
        v.to_groups += is_group(r.ip_version, r.dst) || unspecified(r.ip_version, r.dst);
        if (r.proto == 1 && r.icmp_type == 11) v.senders.insert(r.src);
    }
    for (const PacketRecord& r : recs)
        if (r.is_ip() && v.senders.count(r.src) && !((r.present & kHasIcmp) && icmp_is_error(r))) ++v.senders_other_traffic;
    return v;
}

}  // namespace

TEST(IcmpSenders, AnErrorKindHasTheHostThatSendsNineInTenOfIt) {
    std::vector<PacketRecord> recs;
    for (int i = 0; i < 9; ++i) recs.push_back(icmp(1, 2, 11, 0));  // the router: time exceeded
    recs.push_back(icmp(3, 2, 11, 0));
    for (int i = 0; i < 8; ++i) recs.push_back(icmp(2, 1, 3, 3));   // port unreachable, 8 of 10
    for (int i = 0; i < 2; ++i) recs.push_back(icmp(3, 1, 3, 3));
    for (int i = 0; i < 5; ++i) recs.push_back(icmp(2, 1, 8, 0));   // echo requests: no error
    recs.push_back(icmp(2, 1, 3, 1));                                // host unreachable, once
    for (int i = 0; i < 3; ++i) recs.push_back(icmp(9, 1, 3, 13));  // from an unranked host
    const std::vector<IcmpKind> kinds = {{1, 11, 0, 10}, {1, 3, 3, 10}, {1, 8, 0, 5}, {1, 3, 1, 1}, {1, 3, 13, 3}};
    const std::vector<uint8_t> want = {0, kNoIcmpSender, kNoIcmpSender, kNoIcmpSender, kNoIcmpSender};
    EXPECT_EQ(count_icmp_senders(recs, kinds, src_slot), want);
    EXPECT_TRUE(icmp_error_type(1, 11));
    EXPECT_FALSE(icmp_error_type(1, 0));
    EXPECT_TRUE(icmp_error_type(58, 1));
    EXPECT_FALSE(icmp_error_type(58, 135));
}

TEST(IcmpSenders, SideKeepsThemAndRefusesASenderOutsideTheRankedOrForNoError) {
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(enc.side.icmp_senders.size(), enc.side.icmp.size());
    size_t named = 0;
    for (size_t k = 0; k < enc.side.icmp.size(); ++k) named += enc.side.icmp_senders[k] != kNoIcmpSender;
    EXPECT_GE(named, 2u);  // time exceeded (an ISP router), port unreachable (the hub)
    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->icmp_senders, enc.side.icmp_senders);
    ChunkSide v37 = enc.side;
    v37.format = 37;
    auto old = parse_side(serialize_side(v37), "chunk", 37);
    ASSERT_TRUE(old.ok()) << old.status().message();
    EXPECT_TRUE(old->icmp_senders.empty());

    ChunkSide bad = enc.side;
    bad.icmp_senders[0] = static_cast<uint8_t>(bad.hosts.size());
    EXPECT_FALSE(parse_side(serialize_side(bad), "chunk", kSideFormat).ok());
    bad = enc.side;
    const auto named_kind = std::find_if(bad.icmp_senders.begin(), bad.icmp_senders.end(), [](uint8_t x) { return x != kNoIcmpSender; });
    bad.icmp[named_kind - bad.icmp_senders.begin()].type = 8;  // an echo request has no sender
    EXPECT_FALSE(parse_side(serialize_side(bad), "chunk", kSideFormat).ok());
}

TEST(IcmpSenders, FormatThirtyEightSendsErrorsFromTheirSendersToHosts) {
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    // The flow model's hosts, as format 37 regenerated sifely: its ICMP flows from the
    // busiest unicast host to a group address.
    const int from = unicast_slot(enc.side, 4), to = group_slot(enc.side, 4);
    ASSERT_GE(from, 0);
    ASSERT_GE(to, 0);
    for (FlowTokens& f : enc.flows)
        if (proto_of(enc.side, f).proto == 1) f.a[kAttrCliHost] = static_cast<uint8_t>(from), f.a[kAttrSrvHost] = static_cast<uint8_t>(to);
    const ErrorView real = error_view(cap.records), v37 = error_view(regenerate_as(enc, 37, 1)),
                    v38 = error_view(regenerate_as(enc, 38, 1));
    EXPECT_EQ(real.to_groups, 0u);
    EXPECT_GT(v37.to_groups, 0u);
    EXPECT_EQ(v38.to_groups, 0u);
    // Routers off the LAN that only report: they send nothing but errors.
    ASSERT_FALSE(real.senders.empty());
    EXPECT_EQ(real.senders_other_traffic, 0u);
    ASSERT_FALSE(v37.senders.empty());
    EXPECT_GT(v37.senders_other_traffic, 0u);
    ASSERT_EQ(v38.senders.size(), 1u);
    EXPECT_EQ(v38.senders_other_traffic, 0u);
}

TEST(IcmpSenders, FormatThirtyEightSendsToTheLocalControlBlockWithTtlOne) {
    // sifely's hub sends IGMP to 224.0.0.1 with TTL 1, as every stack sends to 224.0.0.0/24;
    // format 37 sent the flows the model drew there with their sender's TTL (64, 128), and
    // tshark flagged each.
    EXPECT_TRUE(local_control_block(4, {224, 0, 0, 251}));
    EXPECT_FALSE(local_control_block(4, {224, 0, 1, 1}));
    EXPECT_FALSE(local_control_block(6, {224, 0, 0, 1}));
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    auto to_block = [](std::span<const PacketRecord> recs) {
        std::array<size_t, 2> n{};  // TTL 1, other TTLs
        for (const PacketRecord& r : recs)
            if (r.is_ip() && local_control_block(r.ip_version, r.dst)) ++n[r.ttl != 1];
        return n;
    };
    const auto real = to_block(cap.records), v37 = to_block(regenerate_as(enc, 37, 1)), v38 = to_block(regenerate_as(enc, 38, 1));
    EXPECT_GT(real[0], 0u);
    EXPECT_EQ(real[1], 0u);
    EXPECT_GT(v37[1], 0u);
    EXPECT_GT(v38[0], 0u);
    EXPECT_EQ(v38[1], 0u);
}
