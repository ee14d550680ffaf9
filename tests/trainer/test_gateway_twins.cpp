// Format 55 (trainer/gateway_twins.h): a gateway that receives on one MAC and sends from
// another keeps both, and the router's own address keeps its one MAC.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <vector>

#include "codec/address_class.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/gateway_twins.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

using Mac = std::array<uint8_t, 6>;
constexpr Mac kDevice{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}, kVirtual{0x00, 0x00, 0x5e, 0x00, 0x01, 0x01},
    kRouter{0x00, 0x1b, 0xc0, 0x53, 0x17, 0x83};

PacketRecord frame(std::array<uint8_t, 16> src, const Mac& smac, std::array<uint8_t, 16> dst, const Mac& dmac, double t_s) {
    PacketRecord r = lan_record(6, 0, 40000, 0, 443, 52);
    r.src = src, r.dst = dst, r.eth_src = smac, r.eth_dst = dmac;
    r.present |= kHasTcp;
    r.tcp_flags = 0x10;
    r.t_ns = static_cast<int64_t>(t_s * 1e9);
    return r;
}

// A device at 10.0.0.5 talks to six off-link servers: it sends to the routers' virtual MAC,
// their answers arrive from one router's own MAC. The router (10.0.0.1) answers DNS from
// the virtual MAC, as the address's owner.
std::vector<PacketRecord> vrrp_lan() {
    const std::array<uint8_t, 16> device{10, 0, 0, 5}, router{10, 0, 0, 1};
    std::vector<PacketRecord> recs;
    double t = 0;
    for (uint8_t k = 1; k <= 6; ++k) {
        const std::array<uint8_t, 16> server{52, 94, 0, k};
        for (int i = 0; i < 3; ++i) {
            recs.push_back(frame(device, kDevice, server, kVirtual, t += 0.1));
            recs.push_back(frame(device, kDevice, server, kVirtual, t += 0.1));
            recs.push_back(frame(server, kRouter, device, kDevice, t += 0.1));
        }
        recs.push_back(frame(device, kDevice, router, kVirtual, t += 0.1));
        recs.push_back(frame(router, kVirtual, device, kDevice, t += 0.1));
    }
    return recs;
}

// Per IP address, the MACs it was seen with: as a source, and as a destination.
std::map<std::array<uint8_t, 16>, std::pair<std::set<Mac>, std::set<Mac>>> macs_of(const std::vector<PacketRecord>& recs) {
    std::map<std::array<uint8_t, 16>, std::pair<std::set<Mac>, std::set<Mac>>> out;
    for (const auto& r : recs) {
        if (!r.is_ip()) continue;
        out[r.src].first.insert(r.eth_src);
        out[r.dst].second.insert(r.eth_dst);
    }
    return out;
}

bool is_public(const std::array<uint8_t, 16>& a) { return classify_address(4, a.data()) == AddrClass::kPublic4; }

}  // namespace

TEST(GatewayTwins, TheGatewaysOtherMacIsItsTwinAndTheRoutersOwnAddressKeepsOne) {
    EncodedChunk enc = encode_chunk(vrrp_lan(), 1);
    const ChunkSide& s = enc.side;
    ASSERT_EQ(s.gateway_twins.twins.size(), 1u);
    const GatewayTwin& twin = s.gateway_twins.twins[0];
    // The servers send more to the virtual MAC than they are heard from: it is their gateway,
    // and their frames come from the twin.
    EXPECT_EQ(s.gateway_macs[twin.gateway].mac, mac_id_of(kVirtual));
    EXPECT_EQ(twin.mac, mac_id_of(kRouter));
    EXPECT_FALSE(twin.receives);
    ASSERT_EQ(s.gateway_twins.hosts.size(), s.hosts.size());
    size_t servers = 0, router = 0;
    for (size_t k = 0; k < s.host_sem.size(); ++k) {
        if (s.host_sem[k].mac != mac_id_of(kVirtual)) continue;
        const bool off_link = s.host_sem[k].addr_class == static_cast<uint8_t>(AddrClass::kPublic4);
        (off_link ? servers : router)++;
        EXPECT_EQ(s.gateway_twins.hosts[k], off_link) << "slot " << k;
    }
    EXPECT_EQ(servers, 6u);
    EXPECT_EQ(router, 1u);
}

TEST(GatewayTwins, ALanWithOneMacAGatewayHasNoTwin) {
    std::vector<PacketRecord> recs = vrrp_lan();
    for (auto& r : recs)
        if (r.eth_src == kRouter) r.eth_src = kVirtual;
    EncodedChunk enc = encode_chunk(recs, 1);
    EXPECT_FALSE(enc.side.gateway_macs.empty());
    EXPECT_TRUE(enc.side.gateway_twins.twins.empty());
    EXPECT_TRUE(enc.side.gateway_twins.hosts.empty());
}

TEST(GatewayTwins, TheTwinsRoundTripAndFormat54ReadsNone) {
    EncodedChunk enc = encode_chunk(vrrp_lan(), 1);
    ASSERT_FALSE(enc.side.gateway_twins.twins.empty());
    expect_read_back_from(enc.side, 55, [](const ChunkSide& s) { return s.gateway_twins; });
}

TEST(GatewayTwins, ATwinOutsideTheGatewaysOrOnTheGatewaysOwnMacIsRefused) {
    EncodedChunk enc = encode_chunk(vrrp_lan(), 1);
    ChunkSide side = enc.side;
    side.format = 55;  // read as written: no later block's bytes left over
    ASSERT_TRUE(parse_side(serialize_side(side), "chunk 9", 55).ok());
    side.gateway_twins.twins[0].gateway = static_cast<uint8_t>(side.gateway_macs.size());
    auto outside = parse_side(serialize_side(side), "chunk 9", 55);
    ASSERT_FALSE(outside.ok());
    EXPECT_NE(outside.status().message().find("chunk 9"), std::string::npos);
    side = enc.side;
    side.format = 55;
    side.gateway_twins.twins[0].mac = side.gateway_macs[side.gateway_twins.twins[0].gateway].mac;
    EXPECT_FALSE(parse_side(serialize_side(side), "chunk 9", 55).ok());
}

TEST(GatewayTwins, RegeneratedServersAreHeardFromTheTwinAndTheRouterFromItsOwnMac) {
    EncodedChunk enc = encode_chunk(vrrp_lan(), 1);
    const Mac virt = synth_mac(mac_id_of(kVirtual)), twin = synth_mac(mac_id_of(kRouter));
    for (uint8_t format : {54, 55}) {
        size_t servers = 0, router = 0;
        for (const auto& [addr, m] : macs_of(regenerate_as(enc, format))) {
            if (is_public(addr)) {
                ++servers;
                EXPECT_EQ(m.first, std::set<Mac>{format == 55 ? twin : virt}) << int(format);
                EXPECT_EQ(m.second, std::set<Mac>{virt}) << int(format);
            } else if (m.first.count(virt)) {
                ++router;
                EXPECT_EQ(m.second, std::set<Mac>{virt}) << int(format);
            }
        }
        EXPECT_GT(servers, 0u) << int(format);
        EXPECT_EQ(router, 1u) << int(format);
    }
}

TEST(GatewayTwins, Format55HearsAlexasPeersFromTheOtherMac) {
    Capture cap = load_dev_capture("nDPI__alexa-app.pcapng");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_FALSE(enc.side.gateway_twins.twins.empty());
    const auto two_macs = [](const std::vector<PacketRecord>& recs) {
        size_t n = 0, of = 0;
        for (const auto& [addr, m] : macs_of(recs)) {
            if (!is_public(addr) || m.first.empty() || m.second.empty()) continue;
            ++of;
            std::set<Mac> all = m.first;
            all.insert(m.second.begin(), m.second.end());
            n += all.size() == 2;
        }
        return std::pair{n, of};
    };
    const auto [real, real_of] = two_macs(cap.records);
    const auto [v54, v54_of] = two_macs(regenerate_as(enc, 54));
    const auto [v55, v55_of] = two_macs(regenerate_as(enc, 55));
    ASSERT_GT(real * 10, real_of * 9) << "alexa's peers come from one MAC and go to another";
    EXPECT_EQ(v54, 0u);
    EXPECT_GT(v55 * 10, v55_of * 8) << v55 << " of " << v55_of;
}
