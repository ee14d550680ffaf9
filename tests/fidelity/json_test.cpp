// The --json shape issue 3 fixes: exact top-level keys, the spec's metric names, null for
// undefined metrics.
#include <gtest/gtest.h>

#include <set>

#include "codec/fidelity/report_json.h"
#include "hand_records.h"

namespace dgc::fidelity {
namespace {

std::set<std::string> keys_of(const nlohmann::ordered_json& j) {
    std::set<std::string> k;
    for (auto it = j.begin(); it != j.end(); ++it) k.insert(it.key());
    return k;
}

TEST(Json, EvalHasExactlyTheIssueKeys) {
    const std::vector<PacketRecord> icmp = {test::ip4(0, 1, 2, 1, 84), test::ip4(5, 1, 2, 1, 84)};
    std::vector<PacketRecord> synth = icmp;
    synth.push_back(test::non_ip(3));
    const FidelityReport score = evaluate(icmp, synth);
    const FidelityReport fl = floor(icmp);
    const nlohmann::ordered_json j = eval_json(score, fl);
    EXPECT_EQ(keys_of(j), (std::set<std::string>{"metrics", "average", "floor", "floor_average", "packets", "replay",
                                                 "joint", "joint_average", "joint_floor", "joint_floor_average"}));
    EXPECT_EQ(keys_of(j["metrics"]),
              (std::set<std::string>{"sa", "da", "sp", "dp", "proto", "pkt_len", "ttl", "tos", "tcp_flags", "iat",
                                     "pps", "bps", "dsrc", "flow_pkts", "flow_bytes", "flow_dur", "flow_start"}));
    EXPECT_EQ(keys_of(j["joint"]), (std::set<std::string>{"j_proto_len", "j_svc_len", "j_flow_pkts_dur",
                                                          "j_svc_flow_bytes", "j_flow_gap_len"}));
    EXPECT_TRUE(j["metrics"]["sp"].is_null());  // no ports on either side
    EXPECT_EQ(j["metrics"]["proto"].get<double>(), 0.0);
    EXPECT_EQ(j["packets"]["synthetic"]["nonip"].get<uint64_t>(), 1u);
    EXPECT_EQ(j["packets"]["real"]["ip"].get<uint64_t>(), 2u);
    EXPECT_EQ(j["replay"].get<double>(), 1.0);
    // A single flow cannot be split: one half is empty, so every floor metric is 1.
    EXPECT_EQ(j["floor"]["proto"].get<double>(), 1.0);
    EXPECT_EQ(j["joint_floor"]["j_proto_len"].get<double>(), 1.0);
    EXPECT_TRUE(j["joint_floor"]["j_svc_len"].is_null());
    EXPECT_EQ(j["joint_floor_average"].get<double>(), 1.0);
}

TEST(Json, FloorOnly) {
    const std::vector<PacketRecord> t = {test::udp4(0, 1, 5, 2, 6, 60), test::udp4(1, 3, 7, 4, 8, 60)};
    const nlohmann::ordered_json j = floor_json(floor(t), PacketCounts{2, 0});
    EXPECT_EQ(keys_of(j), (std::set<std::string>{"floor", "floor_average", "packets", "joint_floor",
                                                 "joint_floor_average"}));
    EXPECT_EQ(j["floor"].size(), 17u);
    EXPECT_EQ(j["joint_floor"].size(), 5u);
}

}  // namespace
}  // namespace dgc::fidelity
