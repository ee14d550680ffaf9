// Format 57 (trainer/tcp_reorder.h): segments that arrive out of order are counted apart from
// resends, and the generator reorders as many.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/synth_endpoint.h"
#include "trainer/tcp_reorder.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord segment(bool from_client, uint32_t seq, uint32_t ack, uint8_t flags, uint32_t payload, double t_ms) {
    PacketRecord r = from_client ? lan_record(6, 5, 50000, 9, 443, 40 + payload) : lan_record(6, 9, 443, 5, 50000, 40 + payload);
    r.present |= kHasTcp;
    r.tcp_flags = flags, r.seq = seq, r.ack = ack;
    r.t_ns = static_cast<int64_t>(t_ms * 1e6);
    return r;
}

// A handshake (RTT 10 ms) and `n` back-to-back 100-byte segments from the client, 0.1 ms apart
// (`swap`: the second and third arrive the other way round; `resend`: the last is sent again
// 5 ms later), acknowledged at the end.
std::vector<PacketRecord> connection(int n, bool swap = false, bool resend = false) {
    std::vector<PacketRecord> recs{segment(true, 1000, 0, kSyn, 0, 0), segment(false, 5000, 1001, kSyn | kAck, 0, 10),
                                   segment(true, 1001, 5001, kAck, 0, 10.1)};
    for (int k = 0; k < n; ++k) recs.push_back(segment(true, 1001 + 100 * k, 5001, kAck, 100, 11 + 0.1 * k));
    if (swap) {
        std::swap(recs[4].t_ns, recs[5].t_ns);
        std::swap(recs[4], recs[5]);
    }
    if (resend) recs.push_back(segment(true, 1001 + 100 * (n - 1), 5001, kAck, 100, 16 + 0.1 * n));
    recs.push_back(segment(false, 5001, 1001 + 100 * n, kAck, 0, 30));
    return recs;
}

// The hand-made connection, as the lossy flows name it.
const std::vector<uint64_t> kLossy = [] {
    Endpoint client, server;
    client.addr = {10, 0, 0, 5}, client.port = 50000, server.addr = {10, 0, 0, 9}, server.port = 443;
    return std::vector<uint64_t>{flow_key(6, client, server)};
}();

std::array<size_t, fidelity::kSegVerdictCount> verdicts(const std::vector<PacketRecord>& recs) {
    std::array<size_t, fidelity::kSegVerdictCount> n{};
    for (uint8_t v : fidelity::analyze_tcp(recs).verdict)
        if (v < n.size()) ++n[v];
    return n;
}

}  // namespace

TEST(TcpReorder, AReorderedSegmentIsCountedForItsEndAmongItsResends) {
    const auto recs = connection(6, true);
    ASSERT_EQ(verdicts(recs)[fidelity::kSegOutOfOrder], 1u);
    ASSERT_EQ(verdicts(recs)[fidelity::kSegGap], 1u);
    EncodedChunk enc = encode_chunk(recs, 1);
    EXPECT_EQ(enc.side.reordered, (std::array<uint32_t, 2>{1, 0}));
    EXPECT_EQ(enc.side.loss_ends[0].retrans, 1u);
    EXPECT_EQ(encode_chunk(connection(6), 1).side.reordered, (std::array<uint32_t, 2>{0, 0}));
}

TEST(TcpReorder, TheFlowsDrawTheGapsAndResendsTheReordersDoNotMake) {
    ChunkSide side;
    side.tcp_loss = {100, 5, 8, 0};
    side.lossy = {50, 5, 8, 0};
    side.loss_ends[0] = {60, 5, 2, 0};
    side.loss_ends[1] = {40, 0, 6, 0};
    side.reordered = {2, 4};
    const ChunkSide s = without_reorders(side);
    EXPECT_EQ(s.tcp_loss.gaps, 0u);
    EXPECT_EQ(s.tcp_loss.retrans, 2u);
    EXPECT_EQ(s.lossy.retrans, 2u);
    EXPECT_EQ(s.loss_ends[0].gaps, 3u);
    EXPECT_EQ(s.loss_ends[0].retrans, 0u);
    EXPECT_EQ(s.loss_ends[1].gaps, 0u);
    EXPECT_EQ(s.loss_ends[1].retrans, 2u);
    EXPECT_EQ(s.tcp_loss.segments, 100u);
}

TEST(TcpReorder, SwappedSegmentsShowAGapAndAnOutOfOrderSegment) {
    std::vector<PacketRecord> recs = connection(6, false, true);
    ASSERT_EQ(verdicts(recs)[fidelity::kSegRetrans], 1u);
    std::vector<int64_t> times;
    for (const auto& r : recs) times.push_back(r.t_ns);
    reorder_segments({2, 0}, 7, kLossy, recs);
    const auto n = verdicts(recs);
    EXPECT_EQ(n[fidelity::kSegOutOfOrder], 2u);
    EXPECT_EQ(n[fidelity::kSegGap], 2u);
    EXPECT_EQ(n[fidelity::kSegRetrans], 1u);
    for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].t_ns, times[i]) << "each takes the other's place in time";
    // No server segment to swap: the server's count is left undone.
    std::vector<PacketRecord> again = connection(6, false, true);
    reorder_segments({0, 3}, 7, kLossy, again);
    EXPECT_EQ(verdicts(again)[fidelity::kSegOutOfOrder], 0u);
}

TEST(TcpReorder, AConnectionOutsideTheLossyFlowsIsNotReordered) {
    std::vector<PacketRecord> recs = connection(6, false, true);
    const std::vector<PacketRecord> before = recs;
    reorder_segments({2, 0}, 7, {}, recs);
    for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].seq, before[i].seq);
}

TEST(TcpReorder, SegmentsFurtherApartThanTheRttStayInOrder) {
    std::vector<PacketRecord> recs = connection(6, false, true);
    for (size_t i = 3; i + 1 < recs.size(); ++i) recs[i].t_ns += static_cast<int64_t>(i) * 20'000'000;  // 20 ms apart
    recs.back().t_ns += 200'000'000;
    reorder_segments({3, 0}, 7, kLossy, recs);
    EXPECT_EQ(verdicts(recs)[fidelity::kSegOutOfOrder], 0u);
}

TEST(TcpReorder, Format57ReordersTeamsSegmentsWhereFormat56ResentThem) {
    Capture cap = load_dev_capture("nDPI__teams.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const uint32_t reordered = enc.side.reordered[0] + enc.side.reordered[1];
    ASSERT_GE(reordered, 15u) << "teams' path reorders";
    auto back = read_back_as(enc.side, 57), v56 = read_back_as(enc.side, 56);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v56.ok()) << v56.status().message();
    EXPECT_EQ(back->reordered, enc.side.reordered);
    EXPECT_EQ(v56->reordered, (std::array<uint32_t, 2>{0, 0}));
    const auto n56 = verdicts(regenerate_as(enc, 56)), n57 = verdicts(regenerate_as(enc, 57));
    EXPECT_EQ(n56[fidelity::kSegOutOfOrder], 0u);
    EXPECT_GE(n57[fidelity::kSegOutOfOrder] * 2, reordered) << n57[fidelity::kSegOutOfOrder] << " of " << reordered;
    EXPECT_LT(n57[fidelity::kSegRetrans], n56[fidelity::kSegRetrans]) << "the reorders are no longer drawn as resends";
}

TEST(TcpReorder, MoreReorderedSegmentsThanResendsAreRefused) {
    ChunkSide side = encode_chunk(connection(6, true), 1).side;
    side.format = 57;
    ASSERT_EQ(side.loss_ends[0].retrans, 1u);
    ASSERT_TRUE(parse_side(serialize_side(side), "chunk 4", 57).ok());
    side.reordered = {2, 0};
    auto back = parse_side(serialize_side(side), "chunk 4", 57);
    ASSERT_FALSE(back.ok());
    EXPECT_NE(back.status().message().find("chunk 4"), std::string::npos);
}
