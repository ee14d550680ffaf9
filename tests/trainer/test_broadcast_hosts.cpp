// Format 63: a /24's .255 that sends is a host, not its subnet's broadcast.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/broadcast_hosts.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {
namespace {

std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }

PacketRecord udp_from(const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst) {
    PacketRecord r;
    r.ip_version = 4, r.proto = 17, r.present = kHasIp | kHasPorts, r.ip_len = 60;
    r.src = src, r.dst = dst;
    return r;
}

bool last_octet_255(const std::array<uint8_t, 16>& a) { return a[3] == 255 && a[0] != 255; }

TEST(BroadcastHosts, CountsTheScopesWhoseDotTwoFiftyFivesSend) {
    const auto host = v4(192, 168, 1, 7);
    // Sent to, never from: a LAN broadcast, the limited broadcast, a public .255.
    std::vector<PacketRecord> recs = {udp_from(host, v4(10, 0, 2, 255)), udp_from(host, v4(255, 255, 255, 255)),
                                      udp_from(host, v4(41, 100, 68, 255)), udp_from(v4(255, 255, 255, 255), host)};
    EXPECT_EQ(count_bcast_host_scopes(recs), 0);
    recs.push_back(udp_from(v4(41, 100, 68, 255), host));
    EXPECT_EQ(count_bcast_host_scopes(recs), kPublicBcastHosts);
    recs.push_back(udp_from(v4(100, 64, 9, 255), host));  // shared (carrier-grade NAT) space
    EXPECT_EQ(count_bcast_host_scopes(recs), kBcastHostScopes);

    // amp.UDP.snmp's reflectors answer from public .255 addresses; gnutella's VM sends to
    // its LAN's broadcast and peers' .255 that never answer.
    ChunkSide amp = encode_chunk(load_dev_capture("packet-captures__amp.UDP.snmp.src161.pcapng").records, 1).side;
    EXPECT_TRUE(amp.bcast_host_scopes & kPublicBcastHosts);
    EXPECT_EQ(encode_chunk(load_dev_capture("nDPI__gnutella.pcap").records, 1).side.bcast_host_scopes, 0);
    expect_read_back_from(amp, 63, [](const ChunkSide& s) { return s.bcast_host_scopes; });
    amp.bcast_host_scopes = 4;
    EXPECT_FALSE(read_back_as(amp, 63).ok()) << "an unknown scope";
}

TEST(BroadcastHosts, ADotTwoFiftyFiveIsAGroupWhereNoneOfItsScopeSent) {
    ChunkSide side;
    side.bcast_host_scopes = kPublicBcastHosts;
    const auto pub = v4(41, 100, 68, 255), lan = v4(10, 0, 2, 255);
    side.format = 62;
    EXPECT_TRUE(group_in_chunk(side, 4, pub)) << "format 62: every .255";
    side.format = 63;
    EXPECT_FALSE(group_in_chunk(side, 4, pub));
    EXPECT_TRUE(group_in_chunk(side, 4, lan));
    EXPECT_TRUE(group_in_chunk(side, 4, v4(224, 0, 0, 1)));
    EXPECT_TRUE(group_in_chunk(side, 4, v4(255, 255, 255, 255)));
    EXPECT_FALSE(group_in_chunk(side, 4, v4(41, 100, 68, 7)));
    side.bcast_host_scopes = kPrivateBcastHosts;
    EXPECT_TRUE(group_in_chunk(side, 4, pub));
    EXPECT_FALSE(group_in_chunk(side, 4, lan));
}

// amp.UDP.snmp: format 62 took the reflectors that answer from .255 for broadcasts, which
// only receive, and sent the victim's requests to them; format 63 has them answer.
TEST(BroadcastHosts, FormatSixtyThreeHasAmpsReflectorsAnswerFromDotTwoFiftyFive) {
    Capture cap = load_dev_capture("packet-captures__amp.UDP.snmp.src161.pcapng");
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    auto count = [](const std::vector<PacketRecord>& recs, bool from) {
        size_t n = 0;
        for (const PacketRecord& r : recs)
            if (r.is_ip() && r.proto == 17) n += last_octet_255(from ? r.src : r.dst);
        return n;
    };
    const std::vector<PacketRecord> v62 = regenerate_as(enc, 62), v63 = regenerate_as(enc, 63);
    ASSERT_GT(count(cap.records, true), 50u);
    ASSERT_EQ(count(cap.records, false), 0u);
    EXPECT_GT(count(v62, false), 0u);
    EXPECT_EQ(count(v62, true), 0u);
    EXPECT_EQ(count(v63, false), 0u);
    EXPECT_GT(count(v63, true), 0u);
}

}  // namespace
}  // namespace dgc::trainer
