#include "fs/policy.h"

#include <gtest/gtest.h>

namespace dgc::fs {
namespace {

constexpr int64_t kS = 1'000'000'000;

TraceFacts modelled(uint64_t id, const std::string& path, int64_t accepted_s, uint64_t raw = 100) {
    TraceFacts t;
    t.id = id;
    t.path = path;
    t.accepted_ns = accepted_s * kS;
    t.raw_stored = raw;
    t.modelled = true;
    t.chunks = t.chunks_done = 2;
    t.worst_fidelity = 0.1;
    return t;
}

Policy parse(const std::string& text) {
    auto p = parse_policy(text, "test.toml");
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? *p : Policy{};
}

TEST(Policy, ParsesDurationsSizesAndRules) {
    auto p = parse(R"(
[defaults]
raw_ttl = "2d"
max_jsd = 0.3
[volume]
raw_quota = "10M"
sweep_interval = 5
[training]
chunk_packets = 500
steps = 40
[[rule]]
path = "legal/*"
hold = true
[[rule]]
path = "legal/public/*"
hold = false
raw_ttl = 0
)");
    EXPECT_EQ(p.defaults.raw_ttl_s, 2 * 86400);
    EXPECT_EQ(p.raw_quota, 10u << 20);
    EXPECT_EQ(p.sweep_interval_s, 5);
    EXPECT_EQ(p.chunk_packets, 500u);
    EXPECT_EQ(p.train_steps, 40);
    EXPECT_TRUE(p.effective("legal/a/b.pcap").hold.value_or(false));  // '*' crosses '/'
    auto pub = p.effective("legal/public/x.pcap");
    EXPECT_FALSE(pub.hold.value_or(true));
    EXPECT_EQ(pub.raw_ttl_s, 0);
    EXPECT_DOUBLE_EQ(pub.max_jsd.value_or(0), 0.3);
    EXPECT_EQ(p.effective("other.pcap").raw_ttl_s, 2 * 86400);
}

TEST(Policy, RejectsMistakesWithTheLocation) {
    auto bad = parse_policy("[defaults]\nraw_ttl = \"3 fortnights\"\n", "p.toml");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("p.toml: defaults.raw_ttl"), std::string::npos) << bad.status().message();
    EXPECT_FALSE(parse_policy("[defaults]\nraw_tll = 3\n", "p.toml").ok());
    EXPECT_FALSE(parse_policy("[[rule]]\nhold = true\n", "p.toml").ok());
    EXPECT_FALSE(parse_policy("[defaults\n", "p.toml").ok());
    EXPECT_FALSE(parse_duration("5y").ok());
    EXPECT_FALSE(parse_duration("forever")->has_value());
    EXPECT_EQ(*parse_size("4k"), 4096u);
}

// The storage knob (issue 12 item 3): [training] sets it for the volume, the last matching
// rule for its subtree; anything outside (0, 4] is refused naming the file and the key.
TEST(Policy, BytesPerPacketGlobalAndPerRule) {
    EXPECT_DOUBLE_EQ(Policy{}.bytes_per_packet, 0.49);
    auto p = parse(R"(
[training]
bytes_per_packet = 0.05
[[rule]]
path = "core/*"
bytes_per_packet = 0.5
[[rule]]
path = "core/edge/*"
bytes_per_packet = 1
[[rule]]
path = "core/*.pcapng"
raw_ttl = "1d"
)");
    EXPECT_DOUBLE_EQ(p.bytes_per_packet, 0.05);
    EXPECT_DOUBLE_EQ(p.bytes_per_packet_for("/iot/a.pcap", p.bytes_per_packet), 0.05);
    EXPECT_DOUBLE_EQ(p.bytes_per_packet_for("/iot/a.pcap", 0.2), 0.2);  // dgcfs --bytes-per-packet
    EXPECT_DOUBLE_EQ(p.bytes_per_packet_for("core/a.pcap", 0.2), 0.5);  // a rule beats the global value
    EXPECT_DOUBLE_EQ(p.bytes_per_packet_for("core/edge/b.pcap", 0.2), 1.0);
    EXPECT_DOUBLE_EQ(p.bytes_per_packet_for("core/c.pcapng", 0.2), 0.5);  // a rule without the knob keeps it
}

TEST(Policy, BytesPerPacketOutOfRangeIsRefused) {
    for (const char* v : {"0", "-0.1", "4.5", "\"lots\"", "nan"}) {
        auto g = parse_policy(std::string("[training]\nbytes_per_packet = ") + v + "\n", "p.toml");
        ASSERT_FALSE(g.ok()) << v;
        EXPECT_NE(g.status().message().find("p.toml: training.bytes_per_packet"), std::string::npos) << g.status().message();
        EXPECT_NE(g.status().message().find("(0, 4]"), std::string::npos) << g.status().message();
        auto r = parse_policy(std::string("[[rule]]\npath = \"x/*\"\nbytes_per_packet = ") + v + "\n", "q.toml");
        ASSERT_FALSE(r.ok()) << v;
        EXPECT_NE(r.status().message().find("q.toml: rule 1.bytes_per_packet"), std::string::npos) << r.status().message();
    }
    EXPECT_TRUE(parse_policy("[training]\nbytes_per_packet = 4\n", "p.toml").ok());
}

TEST(Policy, TtlExpiresOnlyModelledUnheldTracesThatPassTheGate) {
    auto p = parse("[defaults]\nraw_ttl = 60\nmax_jsd = 0.2\n");
    std::vector<TraceFacts> ts = {modelled(1, "ok.pcap", 0), modelled(2, "young.pcap", 50),
                                  modelled(3, "training.pcap", 0), modelled(4, "held.pcap", 0),
                                  modelled(5, "bad-fidelity.pcap", 0), modelled(6, "garbage.pcap", 0)};
    ts[2].modelled = false;
    ts[2].chunks_done = 1;
    ts[3].xattr_hold = true;
    ts[4].worst_fidelity = 0.25;
    ts[5].modelled = false;
    ts[5].unmodelable = "not a capture";
    auto d = decide(p, ts, 100 * kS);
    std::map<uint64_t, Decision> by;
    for (auto& x : d) by[x.id] = x;
    EXPECT_EQ(by[1].action, Action::kExpireRaw);
    EXPECT_EQ(by.count(2), 0u);  // TTL not reached: nothing to say
    EXPECT_EQ(by[3].action, Action::kBlocked);
    EXPECT_NE(by[3].reason.find("1/2"), std::string::npos);
    EXPECT_EQ(by[4].action, Action::kBlocked);
    EXPECT_NE(by[4].reason.find("hold"), std::string::npos);
    EXPECT_EQ(by[5].action, Action::kBlocked);
    EXPECT_NE(by[5].reason.find("fidelity gate"), std::string::npos);
    EXPECT_EQ(by[6].action, Action::kBlocked);
    EXPECT_NE(by[6].reason.find("unmodelable"), std::string::npos);
}

TEST(Policy, QuotaExpiresOldestEligibleFirst) {
    auto p = parse("[volume]\nraw_quota = 250\n");
    std::vector<TraceFacts> ts = {modelled(1, "c.pcap", 30), modelled(2, "a.pcap", 10), modelled(3, "b.pcap", 20),
                                  modelled(4, "d.pcap", 5)};
    ts[3].modelled = false;  // oldest, but may not expire
    auto d = decide(p, ts, 100 * kS);
    std::vector<uint64_t> expired;
    for (auto& x : d)
        if (x.action == Action::kExpireRaw) expired.push_back(x.id);
    EXPECT_EQ(expired, (std::vector<uint64_t>{2, 3}));  // 400 -> 200 bytes
}

TEST(Policy, QuotaNeverOverridesInvariantTwo) {
    auto p = parse("[volume]\nraw_quota = 0\n[defaults]\nhold = true\n");
    std::vector<TraceFacts> ts = {modelled(1, "a.pcap", 0)};
    auto d = decide(p, ts, 100 * kS);
    for (auto& x : d) EXPECT_NE(x.action, Action::kExpireRaw);
    ASSERT_FALSE(d.empty());
    EXPECT_NE(d.back().reason.find("quota still exceeded"), std::string::npos);
}

TEST(Policy, ModelTtlDropsOnlyAfterRawIsGone) {
    auto p = parse("[defaults]\nmodel_ttl = \"1m\"\n");
    std::vector<TraceFacts> ts = {modelled(1, "a.pcap", 0), modelled(2, "b.pcap", 0)};
    ts[1].raw_present = false;
    auto d = decide(p, ts, 61 * kS);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].id, 2u);
    EXPECT_EQ(d[0].action, Action::kDropTrace);
    EXPECT_EQ(raw_expiry_ns(p, ts[0]), std::nullopt);
}

TEST(Policy, RawExpiryTimeFollowsTheRule) {
    auto p = parse("[defaults]\nraw_ttl = \"1h\"\n[[rule]]\npath = \"fast/*\"\nraw_ttl = 0\n");
    EXPECT_EQ(raw_expiry_ns(p, modelled(1, "x", 10)), (10 + 3600) * kS);
    EXPECT_EQ(raw_expiry_ns(p, modelled(1, "fast/x", 10)), 10 * kS);
}

// Drift-aware reuse (issue 12 item 1) is on unless [training] reuse = false; anything but a
// boolean is refused naming the key.
TEST(Policy, ReuseSwitch) {
    EXPECT_TRUE(Policy{}.reuse);
    EXPECT_TRUE(parse("[training]\nsteps = 10\n").reuse);
    EXPECT_FALSE(parse("[training]\nreuse = false\n").reuse);
    EXPECT_TRUE(parse("[training]\nreuse = true\n").reuse);
    auto bad = parse_policy("[training]\nreuse = \"no\"\n", "p.toml");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("p.toml: training.reuse"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace dgc::fs

