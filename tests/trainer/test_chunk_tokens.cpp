#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>

#include "codec/capture_reader.h"
#include "tests/trainer/dev_capture.h"
#include "codec/fidelity/binning.h"
#include "codec/flows.h"
#include "trainer/chunk_tokens.h"
#include "trainer/pipeline.h"
#include "trainer/pipeline_policy.h"
#include "trainer/synth_records.h"

using namespace dgc;
using namespace dgc::trainer;

static Capture load(const char* name) { return load_dev_capture(name); }

TEST(ChunkTokens, PacketCountClassesCoverEveryCountOnce) {
    for (uint64_t n = 1; n < 200000; n += (n < 5000 ? 1 : 97)) {
        int c = pkts_class(n);
        auto [lo, hi] = pkts_class_range(c);
        ASSERT_LE(lo, n) << n;
        ASSERT_GE(hi, n) << n;
        ASSERT_LT(c, kPktClasses);
    }
    EXPECT_EQ(pkts_class(1), 0);
    EXPECT_EQ(pkts_class(2), 1);
    EXPECT_EQ(pkts_class(3), 2);
    EXPECT_EQ(pkts_class(4), 3);
    EXPECT_EQ(pkts_class(6), 4);
}

TEST(ChunkTokens, TimeBucketsSpanTheChunk) {
    EXPECT_EQ(time_bucket(100, 100, 0), 0);
    EXPECT_EQ(time_bucket(100, 100, 1000), 0);
    EXPECT_EQ(time_bucket(1100, 100, 1000), kTimeBuckets - 1);
    EXPECT_EQ(phase_of_bucket(kTimeBuckets - 1), kPhaseClasses - 1);
    EXPECT_EQ(len_class(40), 2);
    EXPECT_EQ(len_class(100000), kLenClasses - 1);
}

TEST(ChunkTokens, FitFlowSizesHitsTheTotalExactly) {
    std::vector<FlowTokens> flows(5);
    uint32_t sizes[5] = {1, 10, 3, 200, 7};
    for (int i = 0; i < 5; ++i) flows[i].packets = sizes[i];
    for (uint64_t total : {5ull, 6ull, 100ull, 221ull, 5000ull}) {
        auto f = flows;
        fit_flow_sizes(f, total);
        uint64_t sum = 0;
        for (const auto& x : f) {
            sum += x.packets;
            EXPECT_GE(x.packets, 1u);
        }
        EXPECT_EQ(sum, total);
        if (total >= 100) {
            EXPECT_GT(f[3].packets, f[1].packets);  // proportions survive
        }
    }
    auto f = flows;
    fit_flow_sizes(f, 3);
    EXPECT_EQ(f.size(), 3u);
}

TEST(ChunkTokens, FitFlowSizesStaysInsideEachClassWhenItCan) {
    // Sizes drawn at the top of their classes (9..11 -> 11, 12..15 -> 15) and a total the
    // classes can still hold: every flow keeps its class, the sum is exact.
    std::vector<FlowTokens> flows(6);
    uint32_t sizes[6] = {11, 15, 11, 15, 3, 1};
    uint64_t lo_sum = 0;
    for (int i = 0; i < 6; ++i) {
        flows[i].packets = sizes[i];
        lo_sum += pkts_class_range(pkts_class(sizes[i])).first;
    }
    fit_flow_sizes(flows, lo_sum + 3);
    uint64_t sum = 0;
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(pkts_class(flows[i].packets), pkts_class(sizes[i])) << i;
        EXPECT_EQ(flows[i].a[kAttrPkts], pkts_class(sizes[i]));
        sum += flows[i].packets;
    }
    EXPECT_EQ(sum, lo_sum + 3);
}

TEST(ChunkTokens, SampledFlowsTakeTheChunksExactSizeClasses) {
    // The model drew 1, 9, 1, 40 and 1 packets; the chunk had three single-packet flows, one
    // of two and one of 8..11: order decides who gets which, sizes move into their class.
    std::vector<FlowTokens> flows(5);
    uint32_t drawn[5] = {1, 9, 1, 40, 1};
    for (int i = 0; i < 5; ++i) flows[i].packets = drawn[i];
    std::vector<uint32_t> classes(kPktClasses, 0);
    classes[pkts_class(1)] = 3, classes[pkts_class(2)] = 1, classes[pkts_class(10)] = 1;
    match_size_classes(flows, classes);
    EXPECT_EQ(flows[0].packets, 1u);
    EXPECT_EQ(flows[2].packets, 1u);
    EXPECT_EQ(flows[4].packets, 1u);
    EXPECT_EQ(flows[1].packets, 2u);   // the second smallest draw takes the two-packet class
    EXPECT_EQ(flows[3].packets, 11u);  // the largest moves down to the top of 8..11
    for (const auto& f : flows) EXPECT_EQ(f.a[kAttrPkts], pkts_class(f.packets));
    // Counts that do not add up to the flows leave them as drawn.
    auto again = flows;
    classes[0] = 7;
    match_size_classes(again, classes);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(again[i].packets, flows[i].packets);
}

TEST(SynthRecords, GapsFitTheDrawnDurationClass) {
    constexpr int64_t kS = 1'000'000'000;
    auto total = [](const std::vector<int64_t>& g) { return std::accumulate(g.begin() + 1, g.end(), int64_t{0}); };
    // Already inside: untouched.
    std::vector<int64_t> g = {0, 1000, 2000, 3 * kS};
    auto before = g;
    fit_gaps_to_duration(g, 2 * kS, 4 * kS, 60 * kS);
    EXPECT_EQ(g, before);
    // Far too short: the small in-burst gaps keep their classes, the largest stretch (<= cap).
    g = {0, 1000, 20 * kS, 1000, 30 * kS};
    fit_gaps_to_duration(g, 100 * kS, 125 * kS, 60 * kS);
    EXPECT_GE(total(g), 100 * kS);
    EXPECT_LE(total(g), 125 * kS);
    for (int64_t x : g) EXPECT_LE(x, 60 * kS);
    EXPECT_EQ(fidelity::dtbin_key(g[1]), fidelity::dtbin_key(1000));
    EXPECT_EQ(fidelity::dtbin_key(g[3]), fidelity::dtbin_key(1000));
    // Far too long: the largest level down, the small ones stand.
    g = {0, 50 * kS, 1000, 40 * kS, 2000};
    fit_gaps_to_duration(g, 10 * kS, 12 * kS, 60 * kS);
    EXPECT_GE(total(g), 10 * kS);
    EXPECT_LE(total(g), 12 * kS);
    EXPECT_EQ(g[2], 1000);
    EXPECT_EQ(g[4], 2000);
    // A little off: every gap stays in its own dtbin class, clear of the target's edges.
    g = {0, 6'400'000'000, 6'400'000'000, 6'400'000'000};
    const uint64_t k1 = fidelity::dtbin_key(g[1]);
    auto [lo, hi] = dt_class_bounds(static_cast<int>(fidelity::dtbin_key(22 * kS)));
    fit_gaps_to_duration(g, lo, hi, 60 * kS);
    for (int j = 1; j <= 3; ++j) EXPECT_EQ(fidelity::dtbin_key(g[j]), k1) << j;
    EXPECT_EQ(fidelity::dtbin_key(total(g)), fidelity::dtbin_key(22 * kS));
    EXPECT_GT(total(g), lo);
}

TEST(ChunkTokens, EncodingMatchesFlowsAndSideRoundTrips) {
    Capture cap = load("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    auto flows = assemble_flows(cap.records);
    ASSERT_EQ(enc.flows.size(), flows.size());
    EXPECT_EQ(enc.side.flows(), flows.size());
    EXPECT_EQ(enc.side.ip_packets + enc.side.nonip_packets, cap.records.size());
    EXPECT_EQ(enc.packets.size(), enc.side.ip_packets);
    for (size_t i = 0; i < flows.size(); ++i) EXPECT_EQ(enc.flows[i].packets, flows[i].packets.size());
    for (const auto& f : enc.flows) EXPECT_EQ(enc.packets[f.first].dir, 0);  // the initiator speaks first

    std::string bytes = serialize_side(enc.side);
    auto back = parse_side(bytes, "test");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(serialize_side(*back), bytes);
    EXPECT_EQ(back->flow_starts, enc.side.flow_starts);
    EXPECT_EQ(back->size_classes, enc.side.size_classes);
    EXPECT_EQ(std::accumulate(back->size_classes.begin(), back->size_classes.end(), uint64_t{0}), flows.size());
    EXPECT_FALSE(parse_side(bytes.substr(0, bytes.size() / 2), "test").ok());
}

TEST(ChunkTokens, SynthesizedRecordsKeepCountsAndSpan) {
    Capture cap = load("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 7);
    EXPECT_EQ(recs.size(), cap.records.size());
    EXPECT_EQ(recs.front().t_ns, enc.side.t0);
    EXPECT_EQ(recs.back().t_ns, enc.side.t0 + enc.side.span);
    uint64_t ip = 0;
    for (const auto& r : recs) ip += r.is_ip();
    EXPECT_EQ(ip, enc.side.ip_packets);
    // Re-encoding the synthetic records from the real tokens keeps the flow structure.
    auto again = encode_chunk(recs, 1);
    EXPECT_NEAR(static_cast<double>(again.flows.size()), static_cast<double>(enc.flows.size()), 0.05 * enc.flows.size());
    // The generated gaps stand as drawn (no rescaling to a separate duration): the in-flow
    // gap classes come back almost unchanged.
    std::vector<double> want(kDtClasses), got(kDtClasses);
    for (const auto& p : enc.packets) want[p.gap] += 1;
    for (const auto& p : again.packets) got[p.gap] += 1;
    double overlap = 0;
    for (int k = 0; k < kDtClasses; ++k) overlap += std::min(want[k], got[k]);
    EXPECT_GT(overlap / static_cast<double>(enc.packets.size()), 0.9);
    // Unranked hosts come from a pool of the chunk's own size, not one address per flow.
    auto distinct = [](const std::vector<PacketRecord>& v) {
        std::set<std::array<uint8_t, 16>> a;
        for (const auto& r : v)
            if (r.is_ip()) a.insert(r.src), a.insert(r.dst);
        return static_cast<double>(a.size());
    };
    EXPECT_GT(enc.side.other_hosts, 100u);
    EXPECT_NEAR(distinct(recs), distinct(cap.records), 0.05 * distinct(cap.records));
}

TEST(ChunkPlan, BoundsByCountAndTime) {
    std::vector<PacketRecord> recs(10);
    for (int i = 0; i < 10; ++i) recs[i].t_ns = int64_t{i} * 1'000'000'000;
    auto by_count = plan_chunks(recs, 0, 4);
    ASSERT_EQ(by_count.size(), 3u);
    EXPECT_EQ(by_count[2].first, 8u);
    EXPECT_EQ(by_count[2].count, 2u);
    auto by_time = plan_chunks(recs, 2.5, 0);
    ASSERT_EQ(by_time.size(), 4u);
    EXPECT_EQ(by_time[0].count, 3u);
}

TEST(ChunkPolicy, RankAndBudgetGrowWithTheChunk) {
    EXPECT_EQ(lora_rank_for(1000, 300, 0.49), 0);
    EXPECT_EQ(lora_rank_for(3905, 580, 0.49), kTimeSizeOnlyRank1);  // gnutella: gap/length/direction heads only
    EXPECT_EQ(lora_rank_for(3905, 1000, 0.49), 0);                  // its format-6 side leaves head biases
    EXPECT_EQ(lora_rank_for(6000, 700, 0.49), 1);
    EXPECT_LE(lora_rank_for(10000, 1000, 0.49), lora_rank_for(50000, 1000, 0.49));
    EXPECT_EQ(lora_rank_for(1000000, 2000, 0.49), 4);
    EXPECT_EQ(default_train_steps(100), kMinTrainSteps);
    EXPECT_EQ(default_train_steps(7000), 56);
    EXPECT_EQ(default_train_steps(20000), 160);
    EXPECT_EQ(default_train_steps(10000000), kMaxTrainSteps);  // a chunk's cost is bounded
    EXPECT_EQ(default_keyframe_steps(100), 4 * kMinTrainSteps);
    EXPECT_EQ(default_keyframe_steps(3905), 124);   // gnutella: 31 steps a chunk
    EXPECT_EQ(default_keyframe_steps(20000), kMaxTrainSteps);  // and a keyframe's is bounded too
    EXPECT_EQ(scaled_steps(160, 0.5), 80);
    EXPECT_EQ(scaled_steps(3, 0.1), 1);
    EXPECT_EQ(default_warmup_steps(1000), 600);
    EXPECT_EQ(default_warmup_steps(100000), 3000);
    EXPECT_EQ(default_warmup_steps(1000000000), 6000);
}

// A real host keeps one synthetic address across the chunks of a trace (the side carries a
// hash of its address, never the address): the busiest host of two halves of a trace.
TEST(ChunkTokens, HostsKeepTheirSyntheticAddressAcrossChunks) {
    Capture cap = load("packet-captures__pkt.TCP.synflood.spoofed.pcap");
    const size_t half = cap.records.size() / 2;
    std::span<const PacketRecord> all(cap.records);
    EncodedChunk a = encode_chunk(all.subspan(0, half), 1), b = encode_chunk(all.subspan(half), 1);
    ASSERT_FALSE(a.side.hosts.empty());
    ASSERT_EQ(a.side.host_ids.size(), a.side.hosts.size());
    EXPECT_EQ(a.side.host_ids[0], b.side.host_ids[0]);  // the flood's victim in both halves
    auto back = parse_side(serialize_side(a.side), "test");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->host_ids, a.side.host_ids);

    auto busiest_dst = [](const std::vector<PacketRecord>& recs) {
        std::map<std::array<uint8_t, 16>, uint64_t> n;
        for (const auto& r : recs) n[r.dst] += r.is_ip();
        return std::max_element(n.begin(), n.end(), [](auto& x, auto& y) { return x.second < y.second; })->first;
    };
    auto ra = synthesize_records(a.side, a.flows, a.packets, 11);
    auto rb = synthesize_records(b.side, b.flows, b.packets, 99);
    EXPECT_EQ(busiest_dst(ra), busiest_dst(rb));
    EXPECT_NE(busiest_dst(ra), busiest_dst(cap.records));  // synthetic, not the real address
}

// An IoT hub's long connections are cut by the 60 s rule into many flows on few keys; the
// synthetic flows of one key must stay apart too, or they read back as fewer, longer flows.
TEST(ChunkTokens, FlowsSharingAKeyStaySeparate) {
    Capture cap = load("IoT-Dataset__ultraloq-hub-01.pcap");
    std::span<const PacketRecord> part(cap.records.data(), 8000);
    EncodedChunk enc = encode_chunk(part, 1);
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 5);
    const double real = static_cast<double>(assemble_flows(part).size());
    EXPECT_NEAR(static_cast<double>(assemble_flows(recs).size()), real, 0.03 * real);
}
