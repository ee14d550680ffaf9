// Format 41 (flow_choices.h's end_loss_rates, tcp_ends.h): capture loss keeps its direction.
// netflix's capture missed server segments: the servers' directions show the gaps, the
// clients' the ACKs of what it missed. Format 40 lost segments of both ends alike.
// Format 43 (unseen_run_goes_on): the capture lost bursts, and a client acknowledged several
// missed segments in a row; format 42's runs ended when the server spoke.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string>
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

// The clients' ACKs of unseen data, and their runs (consecutive such ACKs of one direction,
// as the encoder counts them).
struct UnseenRuns {
    size_t acks = 0, runs = 0;
    double mean() const { return runs ? static_cast<double>(acks) / runs : 0.0; }
};

UnseenRuns client_unseen_runs(std::span<const PacketRecord> recs) {
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    const std::vector<int8_t> ends = tcp_segment_ends(recs);
    std::map<std::string, uint8_t> last;  // per direction
    UnseenRuns out;
    for (size_t i = 0; i < recs.size(); ++i) {
        if (a.verdict[i] == fidelity::kSegNotTcp) continue;
        const PacketRecord& r = recs[i];
        uint8_t& l = last[std::string(r.src.begin(), r.src.end()) + std::to_string(r.sport) + "|" +
                          std::string(r.dst.begin(), r.dst.end()) + std::to_string(r.dport)];
        if (ends[i] == 0 && a.verdict[i] == fidelity::kSegAckUnseen) ++out.acks, out.runs += l != fidelity::kSegAckUnseen;
        l = a.verdict[i];
    }
    return out;
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

TEST(TcpLossEnds, ARunOfUnseenAcksGoesOnAsTheChunksDid) {
    ChunkSide side;
    side.format = 43;
    side.loss_ends = {TcpLoss{900, 0, 0, 52}, TcpLoss{800, 148, 0, 0}};
    side.unseen_acks = {168, 0};
    EXPECT_DOUBLE_EQ(unseen_run_goes_on(side, 0, 1.0), 1.0 - 52.0 / 168.0);
    EXPECT_DOUBLE_EQ(unseen_run_goes_on(side, 0, 2.0), 1.0 - 104.0 / 168.0);  // a client that ACKs twice a turn
    EXPECT_DOUBLE_EQ(unseen_run_goes_on(side, 0, 4.0), 0.0);
    EXPECT_DOUBLE_EQ(unseen_run_goes_on(side, 1, 1.0), 0.0);  // no run at all
    side.unseen_acks[0] = 52;
    EXPECT_DOUBLE_EQ(unseen_run_goes_on(side, 0, 1.0), 0.0);  // every run one ACK long
    side.unseen_acks[0] = 168, side.format = 42;
    EXPECT_DOUBLE_EQ(unseen_run_goes_on(side, 0, 1.0), 0.0);
    const std::vector<uint8_t> dirs{0, 1, 1, 0, 0, 0, 1};
    EXPECT_DOUBLE_EQ(mean_streak(dirs, 0), 2.0);
    EXPECT_DOUBLE_EQ(mean_streak(dirs, 1), 1.5);
    EXPECT_DOUBLE_EQ(mean_streak(std::vector<uint8_t>{0, 0}, 1), 1.0);
}

TEST(TcpLossEnds, SideKeepsEachEndsUnseenAcksFromFormatFortyThree) {
    Capture cap = load_dev_capture("nDPI__netflix.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_EQ(enc.side.unseen_acks[0], client_unseen_runs(cap.records).acks);
    EXPECT_GT(enc.side.unseen_acks[0], 2 * enc.side.loss_ends[0].unseen);  // runs of three on average
    auto back = read_back_as(enc.side, 43), v42 = read_back_as(enc.side, 42);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v42.ok()) << v42.status().message();
    EXPECT_EQ(back->unseen_acks, enc.side.unseen_acks);
    EXPECT_EQ(v42->unseen_acks[0], 0u);
    ChunkSide bad = enc.side;
    bad.unseen_acks[0] = bad.loss_ends[0].unseen - 1;
    EXPECT_FALSE(read_back_as(bad, 43).ok());
}

TEST(TcpLossEnds, FormatFortyThreeAcknowledgesMissedSegmentsInRunsAsLongAsTheCapturesHad) {
    Capture cap = load_dev_capture("nDPI__netflix.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const UnseenRuns real = client_unseen_runs(cap.records);
    const auto v42 = regenerate_as(enc, 42, 1), v43 = regenerate_as(enc, 43, 1);
    ASSERT_GT(real.mean(), 2.5);
    EXPECT_LT(client_unseen_runs(v42).mean(), 2.0);
    EXPECT_GT(client_unseen_runs(v43).mean(), 2.5);
    EXPECT_GT(client_unseen_runs(v43).acks, 3 * client_unseen_runs(v42).acks / 2);
    // Each run's later ACKs leave a gap at the server, in place of one of its own: as many
    // gaps as the capture had.
    const size_t gaps = end_loss(cap.records).gaps[1];
    EXPECT_LT(end_loss(v43).gaps[1], gaps * 115 / 100);
    EXPECT_GT(end_loss(v43).gaps[1], gaps * 85 / 100);
}
