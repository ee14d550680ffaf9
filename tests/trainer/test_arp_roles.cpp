// Format 37 (trainer/arp_roles.h): who sends a chunk's ARP frames to whom. ultraloq's hub
// does all the asking, probing and announcing on its LAN and its router only answers;
// format 36 had the router ask the hub and probe for its own address.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "codec/address_class.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/arp_roles.h"
#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

constexpr std::array<uint8_t, 6> kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// An ARP frame from 10.0.0.<sender> (0: the unspecified address) for 10.0.0.<target>, to
// Ethernet broadcast or to the target's MAC.
PacketRecord arp(uint16_t op, uint8_t sender, uint8_t target, bool unicast = false) {
    PacketRecord r;
    r.ethertype = 0x0806;
    r.arp_op = op;
    r.src = sender ? std::array<uint8_t, 16>{10, 0, 0, sender} : std::array<uint8_t, 16>{};
    r.dst = {10, 0, 0, target};
    r.eth_dst = unicast ? std::array<uint8_t, 6>{2, 0, 0, 0, 0, target} : kBroadcastMac;
    r.wirelen = r.caplen = 60;
    return r;
}

// 10.0.0.1..9 are ranked slots 0..8; any other address is unranked.
int slot_of(const std::array<uint8_t, 16>& a) { return a[0] == 10 && a[3] >= 1 && a[3] <= 9 ? a[3] - 1 : -1; }

std::string ip4(const std::array<uint8_t, 16>& a) {
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." + std::to_string(a[3]);
}

// ARP frames by kind and sender address ("probe 10.0.0.2": a probe for that address).
std::map<std::string, size_t> arp_senders(std::span<const PacketRecord> recs) {
    static const char* kNames[] = {"request", "reply", "probe", "announcement"};
    std::map<std::string, size_t> n;
    for (const PacketRecord& r : recs) {
        if (r.is_ip() || r.ethertype != 0x0806 || arp_kind(r) == kArpKinds) continue;
        const ArpKind k = arp_kind(r);
        ++n[std::string(kNames[k]) + " " + ip4(k == kArpProbe ? r.dst : r.src)];
    }
    return n;
}

// Frames of one kind, whoever sent them.
size_t senders_total(const std::map<std::string, size_t>& m, const std::string& kind) {
    size_t n = 0;
    for (const auto& [k, c] : m) n += k.rfind(kind + " ", 0) == 0 ? c : 0;
    return n;
}

size_t unicast_requests(std::span<const PacketRecord> recs) {
    size_t n = 0;
    for (const PacketRecord& r : recs) n += !r.is_ip() && arp_kind(r) == kArpRequest && r.eth_dst != kBroadcastMac;
    return n;
}

}  // namespace

TEST(ArpRoles, FramesAreCountedByKindSenderAndTarget) {
    std::vector<PacketRecord> recs;
    for (int i = 0; i < 6; ++i) recs.push_back(arp(1, 2, 2));        // the hub announces itself
    for (int i = 0; i < 3; ++i) recs.push_back(arp(1, 0, 2));        // and probes for its address
    for (int i = 0; i < 5; ++i) recs.push_back(arp(1, 2, 1, i < 2));  // asks its router, twice by unicast
    for (int i = 0; i < 4; ++i) recs.push_back(arp(2, 1, 2, true));   // which answers
    recs.push_back(arp(1, 2, 77));                                    // a host that is not ranked
    recs.push_back(arp(3, 2, 1));                                     // RARP: neither kind
    PacketRecord ip = arp(1, 2, 1);
    ip.present = kHasIp;  // an IP packet is no ARP frame
    recs.push_back(ip);
    const std::vector<ArpRole> roles = count_arp_roles(recs, slot_of);
    const std::vector<ArpRole> want = {{kArpAnnouncement, 1, 1, 6, 0}, {kArpRequest, 1, 0, 5, 2},
                                       {kArpReply, 0, 1, 4, 4}, {kArpProbe, 1, 1, 3, 0}};
    EXPECT_EQ(roles, want);
}

TEST(ArpRoles, OnlyTheCommonestAreKept) {
    std::vector<PacketRecord> recs;
    for (uint8_t h = 1; h <= 9; ++h)
        for (int i = 0; i < h; ++i) recs.push_back(arp(1, h, h % 9 + 1));
    const std::vector<ArpRole> roles = count_arp_roles(recs, slot_of);
    ASSERT_EQ(roles.size(), kArpRoles);
    EXPECT_EQ(roles.front().frames, 9u);
    EXPECT_EQ(roles.back().frames, 2u);  // the one-frame request of 10.0.0.1 is left out
}

TEST(ArpRoles, DrawsCoverOnlyTheirKindAndLeaveTheRestToTheOldRule) {
    const std::vector<ArpRole> roles = {{kArpRequest, 1, 0, 30, 0}, {kArpReply, 0, 1, 10, 10}};
    Rng rng(7);
    size_t covered = 0, n = 4000;
    for (size_t i = 0; i < n; ++i) {
        const ArpRole* r = draw_arp_role(roles, kArpRequest, 40, rng);
        if (r) {
            EXPECT_EQ(r->kind, kArpRequest);
        }
        covered += r != nullptr;
    }
    EXPECT_NEAR(static_cast<double>(covered) / n, 0.75, 0.03);  // 30 of the kind's 40 frames
    EXPECT_EQ(draw_arp_role(roles, kArpProbe, 5, rng), nullptr);
}

TEST(ArpRoles, SideKeepsThemAndRefusesHostsOutsideTheRanked) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_GE(enc.side.arp_roles.size(), 4u);
    auto back = read_back_as(enc.side, 37), v36 = read_back_as(enc.side, 36);  // format 36 has no such block
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v36.ok()) << v36.status().message();
    EXPECT_EQ(back->arp_roles, enc.side.arp_roles);
    EXPECT_TRUE(v36->arp_roles.empty());

    ChunkSide bad = enc.side;
    bad.arp_roles[0].sender = static_cast<uint8_t>(bad.hosts.size());
    EXPECT_FALSE(read_back_as(bad, 37).ok());
    bad = enc.side;
    bad.arp_roles[0].frames = static_cast<uint32_t>(bad.nonip_packets) + 1;
    EXPECT_FALSE(read_back_as(bad, 37).ok());
    bad = enc.side;
    bad.arp_roles[0].kind = kArpKinds;
    EXPECT_FALSE(read_back_as(bad, 37).ok());
}

TEST(ArpRoles, FormatThirtySevenHasTheHubAskAndItsRouterAnswer) {
    // In these 20,000 records the hub (192.168.1.125) sends every request, probe and
    // announcement, 29 requests of 81 to the router's MAC; the router (.1) only replies.
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const auto real = arp_senders(cap.records);
    const std::vector<PacketRecord> v36 = regenerate_as(enc, 36), v37 = regenerate_as(enc, 37);
    const auto s36 = arp_senders(v36), s37 = arp_senders(v37);
    // Senders per kind, in each trace's own addresses: the hub and the router by rank.
    auto senders_of = [](const std::map<std::string, size_t>& m, const std::string& kind) {
        size_t n = 0;
        for (const auto& [k, c] : m) n += k.rfind(kind + " ", 0) == 0;
        return n;
    };
    for (const char* kind : {"request", "reply", "probe", "announcement"}) {
        EXPECT_EQ(senders_of(real, kind), 1u) << kind;
        EXPECT_EQ(senders_of(s37, kind), 1u) << kind;
    }
    EXPECT_GT(senders_of(s36, "request") + senders_of(s36, "probe"), 2u);
    // The one who asks is the one who is answered, and not the one who answers.
    std::string asker, answerer;
    for (const auto& [k, c] : s37) {
        if (k.rfind("request ", 0) == 0) asker = k.substr(8);
        if (k.rfind("reply ", 0) == 0) answerer = k.substr(6);
    }
    EXPECT_NE(asker, answerer);
    EXPECT_EQ(s37.count("announcement " + asker), 1u);
    EXPECT_EQ(s37.count("probe " + asker), 1u);
    EXPECT_GT(unicast_requests(cap.records), 0u);
    EXPECT_EQ(unicast_requests(v36), 0u);
    EXPECT_GT(unicast_requests(v37), 0u);
    // Requests from the chunk's count, not its count and the replies' on top.
    const size_t req = senders_total(real, "request"), req36 = senders_total(s36, "request"),
                 req37 = senders_total(s37, "request");
    EXPECT_GT(req36, req * 6 / 5) << req36 << " for " << req;
    EXPECT_LE(req37, req * 11 / 10) << req37 << " for " << req;
    EXPECT_GE(req37, req * 9 / 10) << req37 << " for " << req;
}

TEST(ArpRoles, FormatThirtySevenPutsUnrankedGroupsOutsideTheControlBlock) {
    // isp-fragtest's group addresses are unranked, spread over 228/8 to 239/8 and sent with
    // TTL 61 and 125; format 36 stood them in with 224.0.0.x, where tshark expects TTL 1.
    for (uint64_t idx : {0u, 1u, 253u, 254u, 1000u}) {
        const auto a36 = exact_stand_in(AddrClass::kMulticast4, idx, 36), a37 = exact_stand_in(AddrClass::kMulticast4, idx, 37);
        EXPECT_EQ(ip4(a36).rfind("224.0.0.", 0), 0u) << ip4(a36);
        EXPECT_EQ(ip4(a37).rfind("239.255.", 0), 0u) << ip4(a37);
        EXPECT_EQ(classify_address(4, a37.data()), AddrClass::kMulticast4);
    }
    EXPECT_NE(exact_stand_in(AddrClass::kMulticast4, 253, 37), exact_stand_in(AddrClass::kMulticast4, 254, 37));
    Capture cap = load_dev_capture("libtrace__isp-fragtest.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    auto to_block = [](std::span<const PacketRecord> recs) {
        size_t n = 0, groups = 0;
        for (const PacketRecord& r : recs) {
            if (!r.is_ip() || r.ip_version != 4) continue;
            groups += classify_address(4, r.dst.data()) == AddrClass::kMulticast4;
            n += r.dst[0] == 224 && r.dst[1] == 0 && r.dst[2] == 0 && r.ttl != 1;
        }
        return std::pair{n, groups};
    };
    EXPECT_EQ(to_block(cap.records).first, 0u);
    EXPECT_GT(to_block(regenerate_as(enc, 36)).first, 0u);
    const auto [v37_block, v37_groups] = to_block(regenerate_as(enc, 37));
    EXPECT_EQ(v37_block, 0u);
    EXPECT_GT(v37_groups, 0u);
}
