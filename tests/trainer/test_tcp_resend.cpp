// Format 44 (tcp_resend.h, synth_records.cpp): a resend comes before the peer's ACK of its
// data, as ultraloq's MQTT server's do, but for the chunk's share that came after it.
// Format 43 resent whatever an end sent last wherever the draw fell, mostly after the ACK:
// tshark called 841 of ultraloq's 884 regenerated retransmissions spurious (real: 48 of 990).
#include <gtest/gtest.h>

#include <vector>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_choices.h"
#include "trainer/tcp_ends.h"
#include "trainer/tcp_resend.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord segment(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint32_t seq, uint32_t ack, uint32_t payload) {
    PacketRecord r = lan_record(6, src, sport, dst, dport, 40 + payload);
    r.present |= kHasTcp;
    r.tcp_flags = kAck | (payload ? kPsh : 0);
    r.seq = seq, r.ack = ack;
    return r;
}

// Per end (client, server): retransmissions (and out-of-order segments), and those of data
// the peer had acknowledged.
struct Resends {
    std::array<size_t, 2> all{}, acked{};
};

Resends resends(std::span<const PacketRecord> recs) {
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    const std::vector<int8_t> ends = tcp_segment_ends(recs);
    const std::vector<uint8_t> acked = acked_resends(recs, a.verdict);
    Resends out;
    for (size_t i = 0; i < recs.size(); ++i) {
        if (ends[i] < 0) continue;
        out.all[ends[i]] += a.verdict[i] == fidelity::kSegRetrans || a.verdict[i] == fidelity::kSegOutOfOrder;
        out.acked[ends[i]] += acked[i];
    }
    return out;
}

}  // namespace

TEST(TcpResend, AResendOfDataThePeerAcknowledgedIsSpurious) {
    std::vector<PacketRecord> recs;
    push_at(recs, 0.0, segment(1, 50000, 2, 8883, 100, 500, 31));  // the client asks
    push_at(recs, 0.1, segment(2, 8883, 1, 50000, 500, 131, 31));  // the server answers
    push_at(recs, 0.5, segment(2, 8883, 1, 50000, 500, 131, 31));  // and resends before the ACK
    push_at(recs, 0.7, segment(1, 50000, 2, 8883, 131, 531, 0));   // the client's ACK
    push_at(recs, 1.2, segment(2, 8883, 1, 50000, 500, 131, 31));  // a resend after it
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    ASSERT_EQ(a.verdict[2], fidelity::kSegRetrans);
    ASSERT_EQ(a.verdict[4], fidelity::kSegRetrans);
    EXPECT_EQ(acked_resends(recs, a.verdict), (std::vector<uint8_t>{0, 0, 0, 0, 1}));
}

TEST(TcpResend, AnEndKeepsTheShareOfResendsAfterTheAck) {
    ChunkSide side;
    side.format = 44;
    side.loss_ends = {TcpLoss{500, 0, 0, 0}, TcpLoss{500, 0, 40, 0}};
    side.spurious_retrans = {0, 10};
    EXPECT_DOUBLE_EQ(resend_after_ack_share(side, 1), 0.25);
    EXPECT_DOUBLE_EQ(resend_after_ack_share(side, 0), 1.0);  // no resend to place
    side.format = 43;
    EXPECT_DOUBLE_EQ(resend_after_ack_share(side, 1), 1.0);  // every one where it was drawn
}

TEST(TcpResend, SideKeepsEachEndsSpuriousResendsFromFormatFortyFour) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const Resends real = resends(cap.records);
    ASSERT_GT(real.all[1], 200u);  // the MQTT server resends
    EXPECT_EQ(enc.side.spurious_retrans[1], real.acked[1]);
    EXPECT_EQ(enc.side.spurious_retrans[0], real.acked[0]);
    EXPECT_LT(enc.side.spurious_retrans[1] * 10, enc.side.loss_ends[1].retrans);
    auto back = read_back_as(enc.side, 44), v43 = read_back_as(enc.side, 43);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v43.ok()) << v43.status().message();
    EXPECT_EQ(back->spurious_retrans, enc.side.spurious_retrans);
    EXPECT_EQ(v43->spurious_retrans[1], 0u);
    ChunkSide bad = enc.side;
    bad.spurious_retrans[1] = bad.loss_ends[1].retrans + 1;
    EXPECT_FALSE(read_back_as(bad, 44).ok());
}

TEST(TcpResend, FormatFortyFourResendsBeforeThePeersAck) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const Resends real = resends(cap.records), v43 = resends(regenerate_as(enc, 43, 1)), v44 = resends(regenerate_as(enc, 44, 1));
    ASSERT_GT(v43.all[1], 100u);
    EXPECT_GT(v43.acked[1] * 2, v43.all[1]);   // most after the client's ACK
    EXPECT_LT(v44.acked[1] * 10, v44.all[1]);  // as few as the capture's
    EXPECT_GT(v44.all[1] * 2, real.all[1]);    // and at least half as many resends
}

TEST(TcpResend, AResendStandsInForTheNextBareAckOrALaterOneWithinSixtySeconds) {
    // Segments: 0 data from the client, 1 the server's bare ACK, 2 data, 3 bare ACK, 4 data.
    std::vector<TcpSegmentPlan> plan(5);
    for (size_t i = 0; i < plan.size(); ++i) plan[i].dir = static_cast<uint8_t>(i % 2);
    const std::vector<uint32_t> payloads = {31, 0, 31, 0, 31};
    const std::vector<uint8_t> none(5, 0);
    const int64_t s = 1'000'000'000;
    const std::vector<int64_t> close = {0, 1 * s, 2 * s, 3 * s, 4 * s};
    EXPECT_EQ(segment_to_give_up(plan, payloads, 0, none), 3);                     // format 44: after the next
    EXPECT_EQ(segment_to_give_up(plan, payloads, 0, none, close, true), 1);        // format 45: the next one
    const std::vector<uint8_t> first_gone = {0, 1, 0, 0, 0};
    EXPECT_EQ(segment_to_give_up(plan, payloads, 0, first_gone, close, true), 3);  // not twice
    // Without segment 3, segments 2 and 4 would be 61 s apart: a flow split the real one never had.
    const std::vector<int64_t> quiet = {0, 1 * s, 2 * s, 31 * s, 63 * s};
    EXPECT_EQ(segment_to_give_up(plan, payloads, 0, first_gone, quiet, true), -1);
    EXPECT_EQ(segment_to_give_up(plan, payloads, 0, first_gone, quiet), 3);  // format 44 did split it
    const std::vector<int64_t> just = {0, 1 * s, 2 * s, 31 * s, 62 * s};
    EXPECT_EQ(segment_to_give_up(plan, payloads, 0, first_gone, just, true), 3);
    // Segment 2 given up as well: the silence runs from segment 0.
    const std::vector<uint8_t> two_gone = {0, 1, 1, 0, 0};
    EXPECT_EQ(segment_to_give_up(plan, payloads, 0, two_gone, just, true), -1);
    EXPECT_EQ(segment_to_give_up(plan, payloads, 4, none, close, true), -1);  // the flow's last stays
}

TEST(TcpResend, FormatFortyFiveMakesMoreOfTheResendsBeforeTheAck) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const auto v44 = regenerate_as(enc, 44, 1), v45 = regenerate_as(enc, 45, 1);
    ASSERT_EQ(v45.size(), v44.size());  // the chunk keeps its packet count
    const Resends r44 = resends(v44), r45 = resends(v45), real = resends(cap.records);
    EXPECT_GT(r45.all[1], r44.all[1] + r44.all[1] / 10);  // ultraloq's server: 10 % more at least
    EXPECT_LE(r45.all[1], real.all[1]);
    EXPECT_LT(r45.acked[1] * 10, r45.all[1]);  // still before the client's ACK
}
