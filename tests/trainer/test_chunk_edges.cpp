// Format 25, a chunk's edges: its earliest and latest IP packets sit at its exact edges
// (side information since format 5) without tearing a packet minutes away from its flow, its
// first bucket opens with a flow, and a late piece near its end stays on its connection.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "codec/fidelity/binning.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/edge_connections.h"
#include "trainer/flow_timing.h"
#include "trainer/synth_records.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

PacketRecord ip_at(int64_t t) {
    PacketRecord r;
    r.t_ns = t;
    r.ip_version = 4;
    r.present = kHasIp;
    return r;
}

std::vector<int64_t> times_of(const std::vector<PacketRecord>& recs) {
    std::vector<int64_t> out;
    for (const auto& r : recs) out.push_back(r.t_ns);
    return out;
}

// Each TCP 4-tuple's packet times, ascending.
std::map<std::string, std::vector<int64_t>> tcp_times_by_pair(std::span<const PacketRecord> recs) {
    std::map<std::string, std::vector<int64_t>> by_pair;
    for (const auto& r : recs)
        if (r.proto == 6 && (r.present & kHasTcp)) by_pair[endpoint_pair_key(r)].push_back(r.t_ns);
    for (auto& [key, ts] : by_pair) std::sort(ts.begin(), ts.end());
    return by_pair;
}

// TCP packets more than 60 s from every other packet of their 4-tuple: a packet torn from
// its flow, which tcptrace shows as a connection of its own (the real IoT weeks have 0-1).
int lone_tcp_packets(std::span<const PacketRecord> recs) {
    int lone = 0;
    for (const auto& [key, ts] : tcp_times_by_pair(recs)) {
        for (size_t i = 0; i < ts.size(); ++i) {
            const bool before = i > 0 && ts[i] - ts[i - 1] <= 60 * kSecond;
            const bool after = i + 1 < ts.size() && ts[i + 1] - ts[i] <= 60 * kSecond;
            lone += !before && !after;
        }
    }
    return lone;
}

}  // namespace

TEST(ChunkEdges, EdgesTakeTheWholeFlowOfTheEarliestAndLatestRecord) {
    // Three flows' records in `out` as the generator appends them, then one ARP frame.
    std::vector<PacketRecord> out{ip_at(500 * kSecond), ip_at(510 * kSecond),                       // flow 0: [0, 2)
                                  ip_at(100 * kSecond), ip_at(130 * kSecond),                       // flow 1: [2, 4)
                                  ip_at(300 * kSecond), ip_at(320 * kSecond), ip_at(700 * kSecond)};  // flow 2: [4, 7)
    const std::vector<size_t> begins{0, 2, 4, 7};
    out.push_back(PacketRecord{});  // non-IP, after the flows
    out.back().t_ns = 400 * kSecond;

    // Format 24: one record moves, minutes from the rest of its flow.
    std::vector<PacketRecord> single = out;
    pin_extreme(single, true, false, 40 * kSecond, true);
    pin_extreme(single, true, true, 900 * kSecond, true);
    EXPECT_EQ(times_of(single), (std::vector<int64_t>{500 * kSecond, 510 * kSecond, 40 * kSecond, 130 * kSecond,
                                                      300 * kSecond, 320 * kSecond, 900 * kSecond, 400 * kSecond}));
    // Format 25: the whole flow of each, its own gaps kept; the non-IP frame stays.
    std::vector<PacketRecord> whole = out;
    pin_ip_edges(whole, begins, 40 * kSecond, 900 * kSecond);
    EXPECT_EQ(times_of(whole), (std::vector<int64_t>{500 * kSecond, 510 * kSecond, 40 * kSecond, 70 * kSecond,
                                                     500 * kSecond, 520 * kSecond, 900 * kSecond, 400 * kSecond}));
    // One flow holding both edges would leave one edge if moved whole: its two records move
    // alone, as format 24 moves them.
    std::vector<PacketRecord> one{ip_at(100 * kSecond), ip_at(110 * kSecond), ip_at(800 * kSecond)};
    pin_ip_edges(one, std::vector<size_t>{0, 3}, 40 * kSecond, 900 * kSecond);
    EXPECT_EQ(times_of(one), (std::vector<int64_t>{40 * kSecond, 110 * kSecond, 900 * kSecond}));
    // No IP record: nothing moves.
    std::vector<PacketRecord> none{PacketRecord{}};
    pin_ip_edges(none, std::vector<size_t>{0, 0}, 40 * kSecond, 900 * kSecond);
    EXPECT_EQ(none[0].t_ns, 0);
}

TEST(ChunkEdges, FirstBucketOpensWithItsFirstFlow) {
    // One flow in the chunk's first bucket, four in the next: format 24 leaned the first
    // bucket's flow on its end (the edge of a burst), so nothing started at the chunk's first
    // packet and the pin moved one there from minutes later.
    ChunkSide side;
    side.ip_t0 = 1000 * kSecond;
    side.ip_span = 100 * 864 * kSecond;  // a day: buckets of 864 s
    side.flow_starts.assign(kTimeBuckets, 0);
    side.flow_starts[0] = 1, side.flow_starts[1] = 4, side.flow_starts[kTimeBuckets - 1] = 1;
    side.start_gaps.assign(kDtClasses, 0);
    side.start_gaps[fidelity::dtbin_key(10 * kSecond)] = 6;  // flows 10 s apart
    std::vector<FlowTokens> flows(6);
    for (size_t i = 1; i < 5; ++i) flows[i].bucket = 1;
    flows[5].bucket = kTimeBuckets - 1;
    side.format = 24;
    EXPECT_GT(flow_start_times(side, flows, 7)[0], side.ip_t0 + 60 * kSecond);
    side.format = 25;
    const std::vector<int64_t> starts = flow_start_times(side, flows, 7);
    EXPECT_EQ(starts[0], side.ip_t0);
    // The rest as format 24 places them.
    side.format = 24;
    const std::vector<int64_t> before = flow_start_times(side, flows, 7);
    EXPECT_TRUE(std::equal(starts.begin() + 1, starts.end(), before.begin() + 1));
}

TEST(ChunkEdges, FormatTwentyFiveTearsNoPacketFromItsFlow) {
    // ultraloq's hub: one MQTT connection at a time, a piece every 60 s. Where the flow model
    // draws the pieces shorter than the real ones, the chunk's last packet comes early and
    // format 24 pinned it alone to the chunk's end, minutes from its flow (regenerated whole,
    // 9 such packets in the week, lockly 6, sifely 7; the real traces 0, 0 and 1).
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_LE(lone_tcp_packets(cap.records), 1);
    const size_t shorter = plant_mistakes(enc, 4, 6, [&](FlowTokens& f, size_t) {
        if (f.packets >= 2 && f.a[kAttrDur] >= 2) f.a[kAttrDur] -= 2;
    });
    ASSERT_GT(shorter, 500u);
    const auto v24 = regenerate_as(enc, 24), v25 = regenerate_as(enc, 25);
    EXPECT_GE(lone_tcp_packets(v24), 1);
    EXPECT_EQ(lone_tcp_packets(v25), 0);
    // Both keep the chunk's exact IP span.
    for (const auto* recs : {&v24, &v25}) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (const auto& r : *recs)
            if (r.is_ip()) lo = std::min(lo, r.t_ns), hi = std::max(hi, r.t_ns);
        EXPECT_EQ(lo, enc.side.ip_t0);
        EXPECT_EQ(hi, enc.side.ip_t0 + enc.side.ip_span);
    }
}

TEST(ChunkEdges, LowEndOffsetsAreFormatTwentyFoursRefit) {
    const std::vector<int64_t> gaps{0, 2 * kSecond, 30 * kSecond, 500'000'000, 50 * kSecond};
    std::vector<int64_t> offsets(gaps.size(), 0);
    for (size_t j = 1; j < gaps.size(); ++j) offsets[j] = offsets[j - 1] + gaps[j];
    const int dur_class = static_cast<int>(fidelity::dtbin_key(offsets.back()));
    std::vector<int64_t> refit = gaps;
    fit_gaps_to_class(refit, dur_class, 60 * kSecond, true);
    std::vector<int64_t> want(refit.size(), 0);
    for (size_t j = 1; j < refit.size(); ++j) want[j] = want[j - 1] + refit[j];
    EXPECT_EQ(low_end_offsets(offsets, dur_class, 60 * kSecond), want);
    EXPECT_LT(want.back(), offsets.back());  // shorter, within its class
    EXPECT_EQ(static_cast<int>(fidelity::dtbin_key(want.back())), dur_class);
    EXPECT_TRUE(low_end_offsets({}, dur_class, 60 * kSecond).empty());
}

TEST(ChunkEdges, CaughtUpOffsetsSpreadTheLagOverTheTimeLeft) {
    const std::vector<int64_t> offsets{0, 40 * kSecond, 100 * kSecond, 160 * kSecond};
    auto scaled = [&](int64_t num, int64_t den) {
        std::vector<int64_t> out;
        for (int64_t o : offsets) out.push_back(o * num / den);
        return out;
    };
    // On time, or behind by under a quarter of the time left: as they are.
    EXPECT_EQ(caught_up_offsets(offsets, 0, 600 * kSecond), offsets);
    EXPECT_EQ(caught_up_offsets(offsets, 100 * kSecond, 400 * kSecond), offsets);
    EXPECT_EQ(caught_up_offsets(offsets, 100 * kSecond, 0), offsets);  // no time left: it does not fit anyway
    // Behind by more: scaled by room / (room + lag) ...
    EXPECT_EQ(caught_up_offsets(offsets, 100 * kSecond, 300 * kSecond), scaled(3, 4));
    EXPECT_EQ(caught_up_offsets(offsets, 300 * kSecond, 200 * kSecond), scaled(2, 5));
    // ... to a quarter at least.
    EXPECT_EQ(caught_up_offsets(offsets, 1000 * kSecond, 100 * kSecond), scaled(1, 4));
    EXPECT_TRUE(caught_up_offsets({}, kSecond, kSecond).empty());
}

TEST(ChunkEdges, FormatTwentyFiveKeepsALatePieceNearTheEndOnItsConnection) {
    // Format 24 shortens a piece that goes on with a connection later than drawn, but judged
    // whether it fits before the chunk's end by its drawn length: near the end, the piece
    // went on with another connection (one silent for hours) or a 4-tuple of its own.
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    const size_t real = tcp_4tuples(cap.records);
    const size_t v24 = tcp_4tuples(regenerate_as(enc, 24)), v25 = tcp_4tuples(regenerate_as(enc, 25));
    EXPECT_LT(v25, v24);
    EXPECT_EQ(v25, real);  // 24 -> 23, as many as the real chunk's
}

namespace {

PacketRecord tcp_at(int64_t t, uint16_t sport, uint16_t dport) {
    PacketRecord r = ip_at(t);
    r.proto = 6;
    r.present |= kHasTcp | kHasPorts;
    r.src = {10, 0, 0, sport == 8883 ? uint8_t(2) : uint8_t(1)};
    r.dst = {10, 0, 0, sport == 8883 ? uint8_t(1) : uint8_t(2)};
    r.sport = sport, r.dport = dport;
    return r;
}

// The longest silence inside any TCP connection of `recs`.
int64_t longest_tcp_silence(std::span<const PacketRecord> recs) {
    int64_t longest = 0;
    for (const auto& [key, ts] : tcp_times_by_pair(recs))
        for (size_t i = 1; i < ts.size(); ++i) longest = std::max(longest, ts[i] - ts[i - 1]);
    return longest;
}

}  // namespace

TEST(ChunkEdges, SpreadToEdgeGrowsEachSilenceToItsCapThenMovesThePieceBefore) {
    // Three pieces (silences of 70 and 80 s past a 60 s split), 300 s short of the edge; cap 93 s.
    const std::vector<int64_t> t{0, 10, 80, 90, 170, 180};
    const auto s = [](std::vector<int64_t> v) {
        for (auto& x : v) x *= kSecond;
        return v;
    };
    EXPECT_EQ(spread_to_edge(s(t), 480 * kSecond, 60 * kSecond, 93 * kSecond), s({264, 274, 367, 377, 470, 480}));
    // A silence already over the cap takes nothing: the pieces before it move as far.
    EXPECT_EQ(spread_to_edge(s({0, 200, 210}), 310 * kSecond, 60 * kSecond, 93 * kSecond), s({100, 300, 310}));
    // Within the split of the edge the last piece still moves (reach_edge leaves it).
    EXPECT_EQ(spread_to_edge(s({0, 10}), 40 * kSecond, 60 * kSecond, 93 * kSecond), s({30, 40}));
    EXPECT_EQ(reach_edge(s({0, 10}), 40 * kSecond, 60 * kSecond, 93 * kSecond), s({0, 10}));
}

TEST(ChunkEdges, FormatSixtyEightMovesThePinnedPiecesConnection) {
    // A device's MQTT connection in three pieces (flows 0..2), a DNS exchange (flow 3); the
    // chunk's IP packets span [0, 700 s]. The connection's last piece holds the latest packet,
    // 400 s short of the end; the DNS exchange the earliest, 50 s after the start.
    std::vector<PacketRecord> out{tcp_at(100 * kSecond, 50000, 8883), tcp_at(110 * kSecond, 8883, 50000),  // flow 0
                                  tcp_at(200 * kSecond, 50000, 8883), tcp_at(210 * kSecond, 8883, 50000),  // flow 1
                                  tcp_at(290 * kSecond, 50000, 8883), tcp_at(300 * kSecond, 8883, 50000),  // flow 2
                                  ip_at(50 * kSecond), ip_at(51 * kSecond)};                                // flow 3
    const std::vector<size_t> begins{0, 2, 4, 6, 8};
    const PieceSpread spread{60 * kSecond, 93 * kSecond};

    // Format 25 moves the last piece alone: a 400 s silence inside the connection, which
    // tcptrace reads as two connections.
    std::vector<PacketRecord> v25 = out;
    pin_ip_edges(v25, begins, 0, 700 * kSecond);
    EXPECT_EQ(longest_tcp_silence(v25), 400 * kSecond + 80 * kSecond);
    // Format 68: each silence grows to 93 s at most, the pieces before move the rest of the way.
    std::vector<PacketRecord> v68 = out;
    pin_ip_edges(v68, begins, 0, 700 * kSecond, &spread);
    EXPECT_EQ(longest_tcp_silence(v68), 93 * kSecond);
    EXPECT_EQ(times_of(v68), (std::vector<int64_t>{484 * kSecond, 494 * kSecond, 587 * kSecond, 597 * kSecond, 690 * kSecond,
                                                   700 * kSecond, 0, 1 * kSecond}));
    // Not TCP (the DNS exchange at the start): the flow moves whole, as format 25 moves it.
    EXPECT_EQ(v68[6].t_ns, v25[6].t_ns);
    EXPECT_EQ(v68[7].t_ns, v25[7].t_ns);
}
