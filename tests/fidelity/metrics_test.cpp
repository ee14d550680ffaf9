// Hand-computed cases for the spec's binning, the JSD and the metric families.
#include <gtest/gtest.h>

#include <cmath>

#include "codec/fidelity/binning.h"
#include "codec/fidelity/fidelity.h"
#include "hand_records.h"

namespace dgc::fidelity {
namespace {

using test::kMs;
using test::kSec;

Histogram hist(std::vector<std::pair<uint64_t, uint64_t>> kv) {
    Histogram h;
    for (auto [k, c] : kv) h.push_sorted(k, c);
    return h;
}

// JSD of (1/2, 1/2) against (1, 0), by hand: M = (3/4, 1/4);
// KL(P||M) = 1/2 log2(2/3) + 1/2 log2(2), KL(Q||M) = log2(4/3).
const double kHalfVsOne = 0.5 * (0.5 * std::log2(2.0 / 3.0) + 0.5) + 0.5 * std::log2(4.0 / 3.0);

TEST(Binning, Log2Bin) {
    EXPECT_EQ(log2bin(0), 0u);
    EXPECT_EQ(log2bin(1), 1u);
    EXPECT_EQ(log2bin(2), 2u);
    EXPECT_EQ(log2bin(3), 2u);
    EXPECT_EQ(log2bin(4), 3u);
    EXPECT_EQ(log2bin(1500), 11u);
    EXPECT_EQ(log2bin(~uint64_t{0}), 64u);
}

TEST(Binning, DtEdgesAndBins) {
    const auto& e = dt_edges();
    EXPECT_EQ(e.front(), 100);               // 10^2 ns
    EXPECT_EQ(e[1], 126);                    // llround(10^2.1) = 125.89 -> 126
    EXPECT_EQ(e[70], 1'000'000'000);         // k = 0
    EXPECT_EQ(e.back(), 1'000'000'000'000);  // 1000 s
    EXPECT_EQ(dtbin_key(0), 0u);             // "zero"
    EXPECT_EQ(dtbin_key(1), 1u);             // below E[-70]: k = -70
    EXPECT_EQ(dtbin_key(125), 1u);
    EXPECT_EQ(dtbin_key(126), 2u);           // exactly on an edge belongs to it
    EXPECT_EQ(dtbin_key(kSec), 71u);         // k = 0
    EXPECT_EQ(dtbin_key(kSec - 1), 70u);
    EXPECT_EQ(dtbin_key(2 * kSec), 74u);     // E[3] = 1995262315 <= 2e9 < E[4]
    EXPECT_EQ(dtbin_key(5000 * kSec), 101u); // beyond 1000 s: k = 30
}

TEST(Binning, WindowsAndFlowStart) {
    EXPECT_EQ(window_of(0), 0);
    EXPECT_EQ(window_of(kSec - 1), 0);
    EXPECT_EQ(window_of(-1), -1);  // toward minus infinity, not toward zero
    EXPECT_EQ(window_of(-kSec), -1);
    EXPECT_EQ(window_of(-kSec - 1), -2);
    EXPECT_EQ(flow_start_bin(5, 5, 5), 0u);
    EXPECT_EQ(flow_start_bin(10 * kSec, 0, 72 * kSec), 13u);
    EXPECT_EQ(flow_start_bin(72 * kSec, 0, 72 * kSec), 99u);  // 100 clamps to 99
    // A span of ~290 years: 100 x span overflows 64 bits, the result must not.
    EXPECT_EQ(flow_start_bin(INT64_MAX / 2, -INT64_MAX / 2, INT64_MAX / 2), 99u);
    EXPECT_EQ(flow_start_bin(0, -INT64_MAX / 2, INT64_MAX / 2), 50u);
}

TEST(Jsd, IdenticalDisjointAndTwoBin) {
    const Histogram a = hist({{1, 5}, {7, 5}});
    EXPECT_EQ(*jsd(a, a), 0.0);
    EXPECT_EQ(*jsd(a, hist({{1, 50}, {7, 50}})), 0.0);  // only shares matter
    EXPECT_NEAR(*jsd(a, hist({{2, 3}, {9, 1}})), 1.0, 1e-15);
    EXPECT_NEAR(*jsd(a, hist({{1, 4}})), kHalfVsOne, 1e-15);
    EXPECT_NEAR(*jsd(hist({{1, 4}}), a), kHalfVsOne, 1e-15);  // symmetric
    EXPECT_NEAR(kHalfVsOne, 0.311278124459133, 1e-12);
}

TEST(Jsd, OneSidedIsOneAndEmptyIsUndefined) {
    EXPECT_EQ(jsd(Histogram{}, Histogram{}), std::nullopt);
    EXPECT_EQ(*jsd(hist({{3, 1}}), Histogram{}), 1.0);
    EXPECT_EQ(*jsd(Histogram{}, hist({{3, 1}})), 1.0);
}

std::vector<PacketRecord> mixed_trace() {
    std::vector<PacketRecord> t;
    for (int i = 0; i < 40; ++i) {
        t.push_back(test::tcp4(i * 300 * kMs, 0x0a000001, 40000 + i % 3, 0x0a000002, 443, 60 + 40 * (i % 5),
                               i % 4 == 0 ? 0x02 : 0x18));
        t.push_back(test::udp4(i * 300 * kMs + 7, 0x0a000003, 5353, 0x0a000004 + i % 2, 53, 80 + i));
        if (i % 9 == 0) t.push_back(test::non_ip(i * 300 * kMs));
    }
    return t;
}

TEST(Evaluate, IdenticalTracesScoreZeroEverywhere) {
    const auto t = mixed_trace();
    const FidelityReport r = evaluate(t, t);
    for (int i = 0; i < kMetricCount; ++i) {
        ASSERT_TRUE(r.score.metrics[i].has_value()) << kMetricNames[i];
        EXPECT_EQ(*r.score.metrics[i], 0.0) << kMetricNames[i];
    }
    for (int i = 0; i < kJointCount; ++i) EXPECT_EQ(*r.score.joint[i], 0.0) << kJointNames[i];
    EXPECT_EQ(*r.score.average, 0.0);
    EXPECT_EQ(*r.score.joint_average, 0.0);
    EXPECT_EQ(r.real.ip, 80u);
    EXPECT_EQ(r.real.nonip, 5u);
    EXPECT_EQ(*r.replay, 1.0);
}

TEST(Evaluate, DisjointValuesScoreOne) {
    std::vector<PacketRecord> a, b;
    for (int i = 0; i < 4; ++i) {
        auto r = test::tcp4(i * kMs, 0x0a000001, 1000, 0x0a000002, 80, 100, 0x02);
        a.push_back(r);
    }
    for (int i = 0; i < 8; ++i) {
        auto r = test::udp4(i * kSec, 0x0b000001, 2000, 0x0b000002, 53, 1000);
        r.ttl = 128;
        r.tos = 8;
        b.push_back(r);
    }
    const FidelityReport r = evaluate(a, b);
    for (Metric m : {kSp, kDp, kProto, kPktLen, kTtl, kTos, kTcpFlags, kIat, kPps, kBps, kFlowPkts, kFlowBytes, kFlowDur})
        EXPECT_NEAR(*r.score.metrics[m], 1.0, 1e-12) << kMetricNames[m];
    // Both have a single source, a single flow starting at T0: same rank/ dsrc / start shapes.
    for (Metric m : {kSa, kDa, kDsrc, kFlowStart}) EXPECT_EQ(*r.score.metrics[m], 0.0) << kMetricNames[m];
    EXPECT_EQ(*r.replay, 0.0);
    for (int i = 0; i < kJointCount; ++i) EXPECT_NEAR(*r.score.joint[i], 1.0, 1e-12) << kJointNames[i];
}

TEST(Evaluate, UndefinedMetricsAreLeftOutOfTheMean) {
    // ICMP only, one packet each: no ports, no TCP flags, no gaps.
    const std::vector<PacketRecord> a = {test::ip4(0, 0x0a000001, 0x0a000002, 1, 84)};
    std::vector<PacketRecord> b = {test::ip4(0, 0x0a000001, 0x0a000002, 1, 84)};
    b[0].ttl = 1;
    const FidelityReport r = evaluate(a, b);
    for (Metric m : {kSp, kDp, kTcpFlags, kIat}) EXPECT_FALSE(r.score.metrics[m].has_value()) << kMetricNames[m];
    EXPECT_EQ(*r.score.metrics[kTtl], 1.0);
    EXPECT_FALSE(r.score.joint[kJSvcLen].has_value());
    EXPECT_FALSE(r.score.joint[kJFlowGapLen].has_value());
    // 13 defined metrics, one of them 1: the mean is 1/13, not 1/17.
    EXPECT_NEAR(*r.score.average, 1.0 / 13.0, 1e-15);

    const FidelityReport empty = evaluate(std::vector<PacketRecord>{}, std::vector<PacketRecord>{test::non_ip(0)});
    for (const auto& v : empty.score.metrics) EXPECT_FALSE(v.has_value());
    EXPECT_FALSE(empty.score.average.has_value());
    EXPECT_FALSE(empty.replay.has_value());
    EXPECT_EQ(empty.synthetic.nonip, 1u);
}

TEST(Metrics, RankFrequency) {
    // Real sources: X x3, Y x1 -> (3/4, 1/4); synthetic: Z x2, W x2 -> (1/2, 1/2).
    std::vector<PacketRecord> real = {
        test::ip4(0, 1, 9, 1, 84), test::ip4(1, 1, 9, 1, 84), test::ip4(2, 1, 9, 1, 84), test::ip4(3, 2, 9, 1, 84)};
    std::vector<PacketRecord> synth = {
        test::ip4(0, 7, 9, 1, 84), test::ip4(1, 8, 9, 1, 84), test::ip4(2, 8, 9, 1, 84), test::ip4(3, 7, 9, 1, 84)};
    const double expected = 0.5 * (0.75 * std::log2(0.75 / 0.625) + 0.25 * std::log2(0.25 / 0.375)) +
                            0.5 * (0.5 * std::log2(0.5 / 0.625) + 0.5 * std::log2(0.5 / 0.375));
    const FidelityReport r = evaluate(real, synth);
    EXPECT_NEAR(*r.score.metrics[kSa], expected, 1e-15);
    EXPECT_EQ(*r.score.metrics[kDa], 0.0);  // one destination on both sides
    // One source with everything: (1) against (1/2, 1/2) after padding with a zero.
    const std::vector<PacketRecord> one_source = {test::ip4(0, 5, 9, 1, 84), test::ip4(1, 5, 9, 1, 84)};
    EXPECT_NEAR(*evaluate(synth, one_source).score.metrics[kSa], kHalfVsOne, 1e-15);
}

TEST(Metrics, OneSecondWindows) {
    // Windows -1 (t = -0.5 s), 0 (two sources), 1 empty, 2; given out of time order.
    const std::vector<PacketRecord> t = {
        test::ip4(2500 * kMs, 3, 9, 1, 50), test::ip4(100 * kMs, 1, 9, 1, 100), test::ip4(-500 * kMs, 1, 9, 1, 16),
        test::ip4(200 * kMs, 2, 9, 1, 200), test::ip4(300 * kMs, 1, 9, 1, 1)};
    const TraceProfile p = profile_trace(t);
    // pps: window -1: 1 -> bin 1; 0: 3 -> bin 2; 1: 0 -> bin 0; 2: 1 -> bin 1.
    EXPECT_EQ(p.metrics[kPps].keys, (std::vector<uint64_t>{0, 1, 2}));
    EXPECT_EQ(p.metrics[kPps].counts, (std::vector<uint64_t>{1, 2, 1}));
    // bps: 16 -> 5; 301 -> 9; 0 -> 0; 50 -> 6.
    EXPECT_EQ(p.metrics[kBps].keys, (std::vector<uint64_t>{0, 5, 6, 9}));
    // dsrc: {1} -> 1; {1,2} -> 2; {} -> 0; {3} -> 1.
    EXPECT_EQ(p.metrics[kDsrc].keys, (std::vector<uint64_t>{0, 1, 2}));
    EXPECT_EQ(p.metrics[kDsrc].counts, (std::vector<uint64_t>{1, 2, 1}));
    // iat over time order: 600 ms, 100 ms, 100 ms, 2.2 s.
    EXPECT_EQ(p.metrics[kIat].total, 4u);
    EXPECT_EQ(p.metrics[kIat].keys, (std::vector<uint64_t>{dtbin_key(100 * kMs), dtbin_key(600 * kMs),
                                                           dtbin_key(2200 * kMs)}));
    ASSERT_EQ(p.seconds.size(), 3u);
    EXPECT_EQ(p.seconds[1].window, 0);
    EXPECT_EQ(p.seconds[1].bytes, 301u);
}

TEST(Metrics, Flows) {
    const std::vector<PacketRecord> t = {
        test::tcp4(0, 1, 1000, 2, 80, 100),
        test::tcp4(1 * kSec, 2, 80, 1, 1000, 1500),
        test::tcp4(2 * kSec, 1, 1000, 2, 80, 40),
        test::udp4(10 * kSec, 3, 5000, 4, 53, 70),
        test::tcp4(72 * kSec, 1, 1000, 2, 80, 52),  // 70 s after the last: a new flow
    };
    const TraceProfile p = profile_trace(t);
    EXPECT_EQ(p.flows, 3u);
    EXPECT_EQ(p.metrics[kFlowPkts].keys, (std::vector<uint64_t>{1, 2}));  // 1 pkt x2, 3 pkts x1
    EXPECT_EQ(p.metrics[kFlowPkts].counts, (std::vector<uint64_t>{2, 1}));
    EXPECT_EQ(p.metrics[kFlowBytes].keys, (std::vector<uint64_t>{6, 7, 11}));  // 52, 70, 1640
    EXPECT_EQ(p.metrics[kFlowDur].keys, (std::vector<uint64_t>{0, 74}));      // zero x2, 2 s
    EXPECT_EQ(p.metrics[kFlowStart].keys, (std::vector<uint64_t>{0, 13, 99}));
    // svc = smaller port of the key: 80 for the TCP flows, 53 for the UDP one.
    EXPECT_EQ(p.joint[kJSvcFlowBytes].keys,
              (std::vector<uint64_t>{pair_key(53, 7), pair_key(80, 6), pair_key(80, 11)}));
    // Gaps inside flows: 1 s and 1 s in the first flow only.
    EXPECT_EQ(p.joint[kJFlowGapLen].total, 2u);
    EXPECT_EQ(p.joint[kJFlowPktsDur].keys, (std::vector<uint64_t>{pair_key(1, 0), pair_key(2, 74)}));
}

TEST(Replay, ShareOfSyntheticFlowsWithARealKey) {
    const std::vector<PacketRecord> real = {test::udp4(0, 1, 10, 2, 20, 60), test::udp4(0, 3, 30, 4, 40, 60)};
    const std::vector<PacketRecord> synth = {
        test::udp4(0, 2, 20, 1, 10, 60),               // same key, reversed: replayed
        test::udp4(100 * kSec, 2, 20, 1, 10, 60),      // a second flow of that key: replayed
        test::udp4(0, 3, 31, 4, 40, 60),               // different port
        test::tcp4(0, 3, 30, 4, 40, 60)};              // different protocol
    EXPECT_DOUBLE_EQ(*evaluate(real, synth).replay, 0.5);
}

TEST(Floor, HalvesFollowFlowKeys) {
    std::vector<PacketRecord> t;
    for (uint32_t i = 0; i < 400; ++i) {
        t.push_back(test::udp4(i * kMs, 0x0a000000 + i % 50, 1000 + i % 7, 0x0b000001, 53, 60 + i % 300));
        t.push_back(test::udp4(i * kMs + 1, 0x0b000001, 53, 0x0a000000 + i % 50, 1000 + i % 7, 90));
    }
    t.push_back(test::non_ip(0));
    const FlowHashSplit s = split_by_flow_hash(t);
    EXPECT_EQ(s.first.size() + s.second.size(), 800u);
    EXPECT_GT(s.first.size(), 200u);  // a well-mixed hash splits 350 keys roughly in half
    EXPECT_GT(s.second.size(), 200u);
    for (const auto& r : s.first) EXPECT_FALSE(second_half(flow_key_of(r)));
    for (const auto& r : s.second) EXPECT_TRUE(second_half(flow_key_of(r)));
    const FidelityReport f = floor(t);
    EXPECT_EQ(f.real.ip + f.synthetic.ip, 800u);
    EXPECT_EQ(*f.replay, 0.0);  // no key is in both halves
    ASSERT_TRUE(f.score.average.has_value());
    EXPECT_GT(*f.score.average, 0.0);
    EXPECT_LT(*f.score.average, 0.5);
}

}  // namespace
}  // namespace dgc::fidelity
