// Format 41 (flow_choices.h's end_loss_rates, tcp_ends.h): capture loss keeps its direction.
// netflix's capture missed server segments: the servers' directions show the gaps, the
// clients' the ACKs of what it missed. Format 40 lost segments of both ends alike.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_choices.h"
#include "trainer/tcp_ends.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord tcp(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint8_t flags) {
    PacketRecord r = lan_record(6, src, sport, dst, dport, 40);
    r.present |= kHasTcp;
    r.tcp_flags = flags;
    return r;
}

// Per end (client, server): segments the yardstick calls a gap, and ACKs of unseen data.
struct EndLoss {
    std::array<size_t, 2> gaps{}, unseen{};
};

EndLoss end_loss(std::span<const PacketRecord> recs) {
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    const std::vector<int8_t> ends = tcp_segment_ends(recs);
    EndLoss l;
    for (size_t i = 0; i < recs.size(); ++i) {
        if (ends[i] < 0) continue;
        l.gaps[ends[i]] += a.verdict[i] == fidelity::kSegGap;
        l.unseen[ends[i]] += a.verdict[i] == fidelity::kSegAckUnseen;
    }
    return l;
}

}  // namespace

TEST(TcpLossEnds, AClientIsWhoOpensElseTheHigherPort) {
    std::vector<PacketRecord> recs;
    push_at(recs, 0.0, tcp(1, 80, 2, 40000, kSyn));         // a client on port 80 opens to 40000
    push_at(recs, 0.1, tcp(2, 40000, 1, 80, kSyn | kAck));
    push_at(recs, 0.2, tcp(3, 443, 4, 51000, kAck));        // joined mid-way: the server's segment first
    push_at(recs, 0.3, tcp(4, 51000, 3, 443, kAck));
    push_at(recs, 0.4, lan_record(17, 1, 5353, 2, 5353, 40));
    EXPECT_EQ(tcp_segment_ends(recs), (std::vector<int8_t>{0, 1, 1, 0, -1}));
}

TEST(TcpLossEnds, RatesFollowEachEndsShareOfTheChunksLoss) {
    ChunkSide side;
    side.format = 41;
    side.tcp_loss = {100, 10, 0, 4};
    side.loss_ends = {TcpLoss{50, 0, 0, 4}, TcpLoss{50, 10, 0, 0}};
    const LossRates r{0.1, 0.02, 0.04};
    const LossRates client = end_loss_rates(side, r, 0), server = end_loss_rates(side, r, 1);
    EXPECT_DOUBLE_EQ(client.gap, 0.0);
    EXPECT_DOUBLE_EQ(server.gap, 0.2);
    EXPECT_DOUBLE_EQ(client.unseen, 0.08);
    EXPECT_DOUBLE_EQ(server.unseen, 0.0);
    EXPECT_DOUBLE_EQ(client.retrans, 0.02);  // no retransmission in the chunk: as it was
    side.format = 40;
    EXPECT_DOUBLE_EQ(end_loss_rates(side, r, 1).gap, 0.1);
}

TEST(TcpLossEnds, SideKeepsThemFromFormatFortyOneAndTheyAddUp) {
    Capture cap = load_dev_capture("nDPI__netflix.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const auto& e = enc.side.loss_ends;
    EXPECT_EQ(e[0].segments + e[1].segments, enc.side.tcp_loss.segments);
    EXPECT_GT(e[1].gaps, 4 * e[0].gaps);      // the capture missed the servers' segments
    EXPECT_GT(e[0].unseen, 4 * e[1].unseen);  // and the clients acknowledged them
    auto back = read_back_as(enc.side, 41), v40 = read_back_as(enc.side, 40);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v40.ok()) << v40.status().message();
    EXPECT_EQ(back->loss_ends[1].gaps, e[1].gaps);
    EXPECT_EQ(back->loss_ends[0].unseen, e[0].unseen);
    EXPECT_EQ(v40->loss_ends[1].segments, 0u);
    ChunkSide bad = enc.side;
    ++bad.loss_ends[0].gaps, --bad.loss_ends[1].segments;
    EXPECT_FALSE(read_back_as(bad, 41).ok());
}

TEST(TcpLossEnds, FormatFortyOneLosesTheServersSegmentsWhereTheCaptureDid) {
    Capture cap = load_dev_capture("nDPI__netflix.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const EndLoss real = end_loss(cap.records), v40 = end_loss(regenerate_as(enc, 40, 1)), v41 = end_loss(regenerate_as(enc, 41, 1));
    ASSERT_GT(real.gaps[1], 20u);
    EXPECT_LT(real.gaps[0] * 10, real.gaps[1]);
    EXPECT_LT(real.unseen[1] * 10, real.unseen[0]);
    EXPECT_GT(v40.gaps[0] * 3, v40.gaps[1]);  // both ends alike
    EXPECT_LT(v41.gaps[0] * 10, v41.gaps[1]);
    EXPECT_LT(v41.unseen[1] * 10, v41.unseen[0]);
}
