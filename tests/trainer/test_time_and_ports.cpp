// The side information's time grid (the spec's flow_start bins), the start-gap draw that
// follows a chunk's changing rate, and the exact port pool: pure arithmetic, no torch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "codec/capture_reader.h"
#include "tests/trainer/dev_capture.h"
#include "codec/fidelity/binning.h"
#include "trainer/chunk_tokens.h"
#include "trainer/pipeline_policy.h"
#include "trainer/synth_records.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

Capture load(const char* name) { return load_dev_capture(name); }

FlowTokens flow(uint32_t packets, int cli_token, int srv_token) {
    FlowTokens f;
    f.packets = packets;
    f.a[kAttrProto] = 0;
    f.a[kAttrCliPort] = static_cast<uint8_t>(cli_token);
    f.a[kAttrSrvPort] = static_cast<uint8_t>(srv_token);
    return f;
}

}  // namespace

TEST(TimeGrid, BucketsAreTheSpecsFlowStartBins) {
    for (int64_t span : {int64_t{7}, int64_t{1000}, int64_t{12345}, int64_t{589'994'925'000}}) {
        const int64_t t0 = 1'600'000'000'000'000'000;
        for (int64_t k = 0; k <= 1000; ++k) {
            const int64_t t = t0 + span * k / 1000;
            ASSERT_EQ(static_cast<uint64_t>(time_bucket(t, t0, span)), fidelity::flow_start_bin(t, t0, t0 + span))
                << span << " " << k;
        }
        EXPECT_EQ(bucket_first(0, t0, span), t0);
        EXPECT_EQ(bucket_last(kTimeBuckets - 1, t0, span), t0 + span);
        for (int b = 0; b < kTimeBuckets; ++b) {
            const int64_t lo = bucket_first(b, t0, span), hi = bucket_last(b, t0, span);
            if (hi < lo) continue;  // narrower than a nanosecond: no time falls in it
            EXPECT_EQ(time_bucket(lo, t0, span), b) << span << " " << b;
            EXPECT_EQ(time_bucket(hi, t0, span), b) << span << " " << b;
            if (b > 0) {
                EXPECT_LT(time_bucket(lo - 1, t0, span), b);
            }
        }
    }
}

TEST(StartGaps, RateMatchedPartHasTheBucketsMeanGap) {
    // dtbin classes 20 (~9 µs), 40 (~0.9 ms), 60 (~90 ms), 80 (~9 s), all equally common.
    std::vector<uint32_t> hist(kDtClasses, 0);
    for (int k : {20, 40, 60, 80}) hist[k] = 100;
    auto mean_of = [&](const std::vector<uint32_t>& w) {
        double n = 0, s = 0;
        for (int k = 1; k < kDtClasses; ++k) {
            auto [lo, hi] = dt_class_bounds(k);
            const double l = static_cast<double>(lo), h = static_cast<double>(hi);
            n += w[k], s += w[k] * (h - l) / std::log(h / l);
        }
        return s / n;
    };
    for (double target : {2e4, 5e6, 5e8, 5e9}) {
        auto w = rate_matched_gaps(hist, target);
        EXPECT_NEAR(mean_of(w), target, 0.01 * target) << target;
    }
    auto busy = rate_matched_gaps(hist, 2e4);  // a burst: the short gaps only
    EXPECT_EQ(busy[20], 100u * 1024);
    EXPECT_GT(busy[40], 0u);
    EXPECT_EQ(busy[60], 0u);
    auto quiet = rate_matched_gaps(hist, 5e9);  // a lull: the long gaps only
    EXPECT_EQ(quiet[40], 0u);
    EXPECT_GT(quiet[60], 0u);
    EXPECT_EQ(quiet[80], 100u * 1024);
    // Beyond reach either way: the extreme class, whole.
    auto w = rate_matched_gaps(hist, 1e12);
    EXPECT_EQ(std::count_if(w.begin(), w.end(), [](uint32_t x) { return x; }), 1);
    EXPECT_EQ(w[80], 100u * 1024);
    w = rate_matched_gaps(hist, 10);
    EXPECT_EQ(std::count_if(w.begin(), w.end(), [](uint32_t x) { return x; }), 1);
    EXPECT_EQ(w[20], 100u * 1024);
}

TEST(PortPool, KeepsTheHeaviestTailPortsAndRoundTrips) {
    Capture cap = load("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_GT(enc.tail_ports.size(), 100u);
    for (size_t i = 1; i < enc.tail_ports.size(); ++i)
        ASSERT_GE(enc.tail_ports[i - 1].packets, enc.tail_ports[i].packets);
    std::set<uint16_t> ranked(enc.side.ports.begin(), enc.side.ports.end());
    for (const auto& t : enc.tail_ports) ASSERT_FALSE(ranked.count(t.port)) << t.port;

    enc.side.pool = pool_of(enc.tail_ports, 40);
    ASSERT_EQ(enc.side.pool.size(), 40u);
    std::set<uint16_t> heaviest;
    for (size_t i = 0; i < 40; ++i) heaviest.insert(enc.tail_ports[i].port);
    for (size_t i = 0; i < 40; ++i) {
        EXPECT_TRUE(heaviest.count(enc.side.pool[i].port));
        if (i) {
            EXPECT_LT(enc.side.pool[i - 1].port, enc.side.pool[i].port);
        }
    }
    EXPECT_TRUE(std::any_of(enc.side.pool.begin(), enc.side.pool.end(), [](auto& p) { return p.server; }));
    EXPECT_TRUE(std::any_of(enc.side.pool.begin(), enc.side.pool.end(), [](auto& p) { return !p.server; }));

    const std::string bytes = serialize_side(enc.side);
    auto back = parse_side(bytes, "test");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(serialize_side(*back), bytes);
    EXPECT_EQ(back->ip_t0, enc.side.ip_t0);
    EXPECT_EQ(back->ip_span, enc.side.ip_span);

    ChunkSide dup = enc.side;
    dup.pool[1].port = dup.pool[0].port;
    auto bad = parse_side(serialize_side(dup), "chunk 3");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("chunk 3: port pool"), std::string::npos) << bad.status().message();
}

TEST(PortPool, PortsGoToTheFlowsOfTheirSizeAndSide) {
    ChunkSide side;
    side.protos = {{4, 6, true}};
    const int bucket1 = kPortRanks + 1;  // ports 4096..8191
    side.pool = {{5000, static_cast<uint8_t>(fidelity::log2bin(10)), true},  // a server port of ~10 packets
                 {6000, 1, false},                                            // a client port of one packet
                 {40000, 1, true}};                                           // a server port in bucket 9
    std::vector<FlowTokens> flows = {flow(1, kPortRanks + 12, kPortRanks + 9), flow(10, bucket1, bucket1),
                                     flow(1, bucket1, 0)};
    auto pick = assign_pool_ports(side, flows);
    ASSERT_EQ(pick.size(), flows.size());
    EXPECT_EQ(pick[1][1], 0);   // the big flow's server side takes the heavy server port
    EXPECT_EQ(pick[1][0], -1);  // but not a one-packet client port
    EXPECT_EQ(pick[0][0], 1);   // that goes to a one-packet flow, though it drew bucket 12
    EXPECT_EQ(pick[0][1], 2);   // bucket 9's server port to the flow that drew bucket 9
    EXPECT_EQ(pick[2][0], -1);  // no client port left
    EXPECT_EQ(pick[2][1], -1);  // a ranked-port token never takes from the pool
}

TEST(PortPool, SynthesizedRecordsCarryThePoolAndTheIpSpan) {
    Capture cap = load("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    enc.side.pool = pool_of(enc.tail_ports, 200);
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 3);
    std::set<uint16_t> seen;
    int64_t ip0 = INT64_MAX, ip1 = INT64_MIN;
    for (const auto& r : recs) {
        if (!r.is_ip()) continue;
        ip0 = std::min(ip0, r.t_ns), ip1 = std::max(ip1, r.t_ns);
        if (r.has_ports()) seen.insert(r.sport), seen.insert(r.dport);
    }
    size_t used = 0;
    for (const auto& p : enc.side.pool) used += seen.count(p.port);
    EXPECT_GT(used, 180u);  // real tokens: nearly every stored port finds its flow
    // The metrics' time grid is the IP packets' span: it must come out exact.
    EXPECT_EQ(ip0, enc.side.ip_t0);
    EXPECT_EQ(ip1, enc.side.ip_t0 + enc.side.ip_span);
    EXPECT_GT(enc.side.ip_t0, enc.side.t0);  // gnutella opens with a non-IP frame
}

TEST(ChunkPolicy, ThePoolFillsToJustUnderTheByteTarget) {
    EXPECT_LE(pool_fill_bytes(10000, 0.49), 5000u);  // under the 0.5 B/packet target
    EXPECT_GT(pool_fill_bytes(10000, 0.49), 4800u);
}
