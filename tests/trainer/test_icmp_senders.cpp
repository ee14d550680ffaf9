// Formats 38 and 39 (trainer/icmp_senders.h): an ICMP error comes from the host that sends
// that kind of error and goes to the one that receives it, never to a group. sifely's time
// exceeded errors come from ISP routers that send nothing else; format 37 sent them from the
// hub's router to 224.0.0.1. Tinba's gateway tells its client a network is unreachable;
// format 38 told the client's DNS server. Format 67: an error the flow model had its
// receiver send goes the other way round where the chunk names no sender.
// Format 59 (trainer/flow_choices.h): an ICMP kind too rare for a share of one flow still gets one.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <vector>

#include "codec/address_class.h"
#include "codec/icmp_quote.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_choices.h"
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
int slot_of(const PacketRecord& r, bool src) {
    const auto& a = src ? r.src : r.dst;
    return a[0] == 10 && a[3] >= 1 && a[3] <= 3 ? a[3] - 1 : -1;
}

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

TEST(IcmpSenders, AnErrorKindHasTheHostsThatSendAndReceiveNineInTenOfIt) {
    std::vector<PacketRecord> recs;
    for (int i = 0; i < 9; ++i) recs.push_back(icmp(1, 2, 11, 0));  // the router: time exceeded, to .2
    recs.push_back(icmp(3, 2, 11, 0));
    for (int i = 0; i < 8; ++i) recs.push_back(icmp(2, 1, 3, 3));   // port unreachable, 8 of 10
    for (int i = 0; i < 2; ++i) recs.push_back(icmp(3, 1, 3, 3));
    for (int i = 0; i < 5; ++i) recs.push_back(icmp(2, 1, 8, 0));   // echo requests: no error
    recs.push_back(icmp(2, 1, 3, 1));                                // host unreachable, once
    for (int i = 0; i < 3; ++i) recs.push_back(icmp(9, 1, 3, 13));  // from an unranked host
    const std::vector<IcmpKind> kinds = {{1, 11, 0, 10}, {1, 3, 3, 10}, {1, 8, 0, 5}, {1, 3, 1, 1}, {1, 3, 13, 3}};
    const IcmpErrorHosts hosts = count_icmp_error_hosts(recs, kinds, slot_of);
    EXPECT_EQ(hosts.senders, (std::vector<uint8_t>{0, kNoIcmpSender, kNoIcmpSender, kNoIcmpSender, kNoIcmpSender}));
    // Port unreachables all to .1 (ten of them); .1 also receives the unranked host's three.
    EXPECT_EQ(hosts.receivers, (std::vector<uint8_t>{1, 0, kNoIcmpSender, kNoIcmpSender, 0}));
    EXPECT_TRUE(icmp_type_is_error(1, 11));
    EXPECT_FALSE(icmp_type_is_error(1, 0));
    EXPECT_TRUE(icmp_type_is_error(58, 1));
    EXPECT_FALSE(icmp_type_is_error(58, 135));
}

TEST(IcmpSenders, SideKeepsThemAndRefusesAHostOutsideTheRankedOrForNoError) {
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(enc.side.icmp_senders.size(), enc.side.icmp.size());
    ASSERT_EQ(enc.side.icmp_receivers.size(), enc.side.icmp.size());
    size_t senders = 0, receivers = 0;
    for (size_t k = 0; k < enc.side.icmp.size(); ++k)
        senders += enc.side.icmp_senders[k] != kNoIcmpSender, receivers += enc.side.icmp_receivers[k] != kNoIcmpSender;
    EXPECT_GE(senders, 2u);    // time exceeded (an ISP router), port unreachable (the hub)
    EXPECT_GE(receivers, 2u);  // the hub, its router
    // Format 38 has the senders' block, format 37 neither.
    auto back = read_back_as(enc.side, 39), v38 = read_back_as(enc.side, 38), v37 = read_back_as(enc.side, 37);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v38.ok()) << v38.status().message();
    ASSERT_TRUE(v37.ok()) << v37.status().message();
    EXPECT_EQ(back->icmp_senders, enc.side.icmp_senders);
    EXPECT_EQ(back->icmp_receivers, enc.side.icmp_receivers);
    EXPECT_EQ(v38->icmp_senders, enc.side.icmp_senders);
    EXPECT_TRUE(v38->icmp_receivers.empty());
    EXPECT_TRUE(v37->icmp_senders.empty());

    for (auto field : {&ChunkSide::icmp_senders, &ChunkSide::icmp_receivers}) {
        ChunkSide bad = enc.side;
        (bad.*field)[0] = static_cast<uint8_t>(bad.hosts.size());
        EXPECT_FALSE(read_back_as(bad, 39).ok());
        bad = enc.side;
        const auto& hosts = bad.*field;
        const auto named = std::find_if(hosts.begin(), hosts.end(), [](uint8_t x) { return x != kNoIcmpSender; });
        bad.icmp[named - hosts.begin()].type = 8;  // an echo request has neither
        EXPECT_FALSE(read_back_as(bad, 39).ok());
    }
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

TEST(IcmpSenders, FormatThirtyNineSendsAnErrorToTheHostThatReceivesIt) {
    // Tinba's gateway tells its client 1,483 times that a network is unreachable. Put, as the
    // flow model did, the client's busiest public peer (its DNS server) at the errors' far end.
    Capture cap = load_dev_capture("USTC-TFC2016__Tinba.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    int public_slot = -1;
    for (size_t k = 0; k < enc.side.host_sem.size() && public_slot < 0; ++k)
        if (static_cast<AddrClass>(enc.side.host_sem[k].addr_class) == AddrClass::kPublic4) public_slot = static_cast<int>(k);
    ASSERT_GE(public_slot, 0);
    for (FlowTokens& f : enc.flows)
        if (proto_of(enc.side, f).proto == 1) f.a[kAttrSrvHost] = static_cast<uint8_t>(public_slot);
    // Receivers of network unreachables (type 3 code 0), and how many were public.
    auto receivers = [](std::span<const PacketRecord> recs) {
        std::set<std::array<uint8_t, 16>> to;
        size_t public_hosts = 0;
        for (const PacketRecord& r : recs)
            if (r.is_ip() && r.proto == 1 && (r.present & kHasIcmp) && r.icmp_type == 3 && r.icmp_code == 0 && to.insert(r.dst).second)
                public_hosts += classify_address(4, r.dst.data()) == AddrClass::kPublic4;
        return std::pair{to.size(), public_hosts};
    };
    const auto real = receivers(cap.records), v38 = receivers(regenerate_as(enc, 38, 1)), v39 = receivers(regenerate_as(enc, 39, 1));
    EXPECT_EQ(real, (std::pair<size_t, size_t>{1, 0}));
    EXPECT_GT(v38.second, 0u);
    EXPECT_EQ(v39, (std::pair<size_t, size_t>{1, 0}));
}

TEST(IcmpSenders, FormatSixtySevenTurnsRoundAnErrorItsReceiverWouldSend) {
    // gnutella's VM is told by its NAT gateway (unranked) that two hosts are unreachable, and
    // by four peers, one error each, that a port is: the chunk names the VM as both kinds'
    // receiver and no sender. Draw, as the flow model did, the VM at the errors' first end.
    Capture cap = load_dev_capture("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    int vm = -1;
    for (size_t k = 0; k < enc.side.icmp.size(); ++k)
        if (icmp_type_is_error(enc.side.icmp[k].proto, enc.side.icmp[k].type)) {
            EXPECT_EQ(enc.side.icmp_senders[k], kNoIcmpSender);
            vm = enc.side.icmp_receivers[k];
            ASSERT_NE(vm, kNoIcmpSender);
        }
    ASSERT_GE(vm, 0);
    for (FlowTokens& f : enc.flows)
        if (proto_of(enc.side, f).proto == 1) f.a[kAttrCliHost] = static_cast<uint8_t>(vm);
    // ICMP errors sent to and from the host in the most IP packets (the VM, in every flow).
    auto to_from_busiest = [](std::span<const PacketRecord> recs) {
        std::map<std::array<uint8_t, 16>, size_t> seen;
        for (const PacketRecord& r : recs)
            if (r.is_ip()) ++seen[r.src], ++seen[r.dst];
        const auto busiest = std::max_element(seen.begin(), seen.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
        std::array<size_t, 3> n{};  // to it, from it, all errors
        for (const PacketRecord& r : recs)
            if (r.is_ip() && (r.present & kHasIcmp) && icmp_is_error(r)) n[0] += r.dst == busiest, n[1] += r.src == busiest, ++n[2];
        return n;
    };
    const auto real = to_from_busiest(cap.records), v66 = to_from_busiest(regenerate_as(enc, 66, 1)),
               v67 = to_from_busiest(regenerate_as(enc, 67, 1));
    EXPECT_EQ(real, (std::array<size_t, 3>{8, 0, 8}));
    ASSERT_GT(v66[2], 0u);
    EXPECT_EQ(v66[1], v66[2]) << "format 66: the VM sends every error";
    ASSERT_GT(v67[2], 0u);
    EXPECT_EQ(v67[0], v67[2]);
    EXPECT_EQ(v67[1], 0u);
}


TEST(IcmpKinds, FormatFiftyNineGivesARareKindTheSmallestFlowOfTheCommonest) {
    ChunkSide side;
    side.protos = {ProtoEntry{4, 1, false}, ProtoEntry{4, 6, true}};
    side.icmp = {{1, 3, 0, 500}, {1, 8, 0, 40}, {1, 3, 3, 1}};  // most packets first, as the encoder ranks them
    std::vector<FlowTokens> flows(5);
    const uint32_t packets[] = {300, 12, 150, 79, 51};
    for (size_t i = 0; i < flows.size(); ++i) flows[i].packets = packets[i];
    flows[1].a[kAttrProto] = 1;  // a TCP flow takes no kind
    for (size_t i : {0, 2, 3, 4}) flows[i].a[kAttrProto] = 0;
    side.format = 58;
    const std::vector<int> v58 = assign_icmp_kinds(side, flows, 7);
    side.format = 59;
    const std::vector<int> v59 = assign_icmp_kinds(side, flows, 7);
    EXPECT_EQ(v58, (std::vector<int>{0, -1, 0, 0, 0})) << "four flows: 541 packets' strata all fall in the first kind's 500";
    EXPECT_EQ(v59, (std::vector<int>{0, -1, 0, 1, 2})) << "the rarer kinds take the smallest flows, the rarest the smallest";
    // Fewer flows than kinds: the commonest keeps one, the next kind takes the other.
    flows.resize(3);
    EXPECT_EQ(assign_icmp_kinds(side, flows, 7), (std::vector<int>{0, -1, 1}));
    flows.resize(1);
    EXPECT_EQ(assign_icmp_kinds(side, flows, 7), (std::vector<int>{0}));
}

TEST(IcmpKinds, FormatFiftyNineRegeneratesTinbasPortUnreachable) {
    // Record 13,687: the client tells 8.8.4.4 its port is closed, among 876 net
    // unreachables its gateway sent it.
    Capture cap = load_dev_capture("USTC-TFC2016__Tinba.pcap", 14000);
    const auto port_unreachables = [](std::span<const PacketRecord> recs) {
        return std::count_if(recs.begin(), recs.end(), [](const PacketRecord& r) { return r.is_ip() && (r.present & kHasIcmp) && icmp_port_unreachable(r); });
    };
    ASSERT_EQ(port_unreachables(cap.records), 1);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_EQ(port_unreachables(regenerate_as(enc, 58)), 0) << "format 58: both ICMP flows took the net unreachables";
    EXPECT_GE(port_unreachables(regenerate_as(enc, 59)), 1);
}
