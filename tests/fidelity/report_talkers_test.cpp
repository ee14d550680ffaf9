// Top talkers and protocol mix of the report, on hand-made records.
#include <gtest/gtest.h>

#include "codec/fidelity/profile.h"
#include "codec/fidelity/report_talkers.h"
#include "hand_records.h"

namespace dgc::fidelity {
namespace {

TEST(ReportTalkers, SourcesByPacketsMostFirst) {
    std::vector<PacketRecord> r;
    for (int i = 0; i < 5; ++i) r.push_back(test::udp4(i, 0x0a000002, 53, 0x0a000001, 4000, 80));
    for (int i = 0; i < 3; ++i) r.push_back(test::tcp4(i, 0xc0a80101, 80, 0x0a000001, 4000, 60));
    for (int i = 0; i < 3; ++i) r.push_back(test::ip4(i, 0x08080808, 0x0a000001, 1, 84));
    r.push_back(test::non_ip(9));
    PacketRecord v6 = test::ip4(10, 0, 0, 58, 100);
    v6.ip_version = 6;
    v6.src = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    r.push_back(v6);
    const auto top = top_talkers(r, 3);
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0].address, "10.0.0.2");
    EXPECT_EQ(top[0].packets, 5u);
    EXPECT_EQ(top[1].address, "192.168.1.1");  // ties by address text: "192..." < "8..."
    EXPECT_EQ(top[2].address, "8.8.8.8");
    EXPECT_EQ(top[2].packets, 3u);
    const auto all = top_talkers(r, 10);
    ASSERT_EQ(all.size(), 4u);  // the non-IP record is no talker
    EXPECT_EQ(all[3].address, "fe80::1");
}

TEST(ReportTalkers, ProtocolMixSharesOfBothTraces) {
    std::vector<PacketRecord> a, b;
    for (int i = 0; i < 3; ++i) a.push_back(test::udp4(i, 1, 53, 2, 4000, 80));
    a.push_back(test::tcp4(5, 1, 80, 2, 4000, 60));
    for (int i = 0; i < 4; ++i) b.push_back(test::ip4(i, 1, 2, 1, 84));
    const auto mix = protocol_mix(profile_trace(a).metrics[kProto], profile_trace(b).metrics[kProto]);
    ASSERT_EQ(mix.size(), 3u);
    EXPECT_EQ(mix[0].proto, 1u);  // ICMP: 0 + 1
    EXPECT_DOUBLE_EQ(mix[0].synth, 1.0);
    EXPECT_EQ(mix[1].proto, 17u);
    EXPECT_DOUBLE_EQ(mix[1].real, 0.75);
    EXPECT_DOUBLE_EQ(mix[1].synth, 0.0);
    EXPECT_EQ(mix[2].proto, 6u);
    EXPECT_DOUBLE_EQ(mix[2].real, 0.25);
}

}  // namespace
}  // namespace dgc::fidelity
