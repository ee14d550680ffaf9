// Format 47 (trainer/tcp_fin_resends.h): a FIN the peer never acknowledges is sent again at a
// doubling wait. blink-cam-02's servers resent 30 of their 40 FINs 104 times (up to nine
// times each, the last 94 s after the one before); format 46 regenerated one such resend.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/tcp_fin_resends.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

constexpr uint16_t kServerPort = 443;

PacketRecord segment(uint16_t device_port, bool from_device, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload) {
    PacketRecord r = from_device ? lan_record(6, 1, device_port, 2, kServerPort, 40 + payload)
                                 : lan_record(6, 2, kServerPort, 1, device_port, 40 + payload);
    r.present |= kHasTcp;
    r.tcp_flags = flags, r.seq = seq, r.ack = ack;
    return r;
}

// A camera's connection from `port` at `t0` s: handshake, a 100-byte request, the server's
// 300-byte answer and the camera's ACK of it, then the server's 31-byte alert and its FIN.
void opened_and_closing(std::vector<PacketRecord>& recs, uint16_t port, double t0) {
    push_at(recs, t0 + 0.00, segment(port, true, kSyn, 1000, 0, 0));
    push_at(recs, t0 + 0.05, segment(port, false, kSyn | kAck, 5000, 1001, 0));
    push_at(recs, t0 + 0.10, segment(port, true, kAck, 1001, 5001, 0));
    push_at(recs, t0 + 0.11, segment(port, true, kAck | kPsh, 1001, 5001, 100));
    push_at(recs, t0 + 0.16, segment(port, false, kAck | kPsh, 5001, 1101, 300));
    push_at(recs, t0 + 0.20, segment(port, true, kAck, 1101, 5301, 0));
    push_at(recs, t0 + 9.00, segment(port, false, kAck | kPsh, 5301, 1101, 31));
    push_at(recs, t0 + 9.01, segment(port, false, kAck | kFin, 5332, 1101, 0));
}

size_t retransmissions(std::span<const PacketRecord> recs) {
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    return std::count(a.verdict.begin(), a.verdict.end(), fidelity::kSegRetrans);
}

uint32_t total_resends(const FinResends& f, int end) {
    uint32_t n = 0;
    for (uint32_t k = 1; k <= kMaxFinResends; ++k) n += k * f.by_count[end][k - 1];
    return n;
}

}  // namespace

TEST(TcpFinResends, CountsEachEndsFinsAndHowOftenEachWasResent) {
    std::vector<PacketRecord> recs;
    // The camera has gone: the server resends alert and FIN three times, then the camera's
    // RST comes.
    opened_and_closing(recs, 50000, 0);
    push_at(recs, 9.51, segment(50000, false, kAck | kPsh | kFin, 5301, 1101, 31));
    push_at(recs, 10.51, segment(50000, false, kAck | kPsh | kFin, 5301, 1101, 31));
    push_at(recs, 12.51, segment(50000, false, kAck | kPsh | kFin, 5301, 1101, 31));
    push_at(recs, 14.00, segment(50000, true, kRst | kAck, 1101, 5333, 0));
    // A connection both ends close: the server's FIN is acknowledged, the camera's too.
    opened_and_closing(recs, 50001, 20);
    push_at(recs, 29.05, segment(50001, true, kAck | kFin, 1101, 5333, 0));
    push_at(recs, 29.10, segment(50001, false, kAck, 5333, 1102, 0));
    // A later segment repeating an acknowledged FIN is no resend.
    push_at(recs, 29.20, segment(50001, false, kAck | kFin, 5332, 1102, 0));

    const FinResends f = count_fin_resends(recs);
    EXPECT_EQ(f.fins[0], 1u);
    EXPECT_EQ(f.fins[1], 2u);
    EXPECT_EQ(f.resent(0), 0u);
    EXPECT_EQ(f.resent(1), 1u);
    EXPECT_EQ(f.by_count[1][2], 1u);  // three resends
    EXPECT_EQ(f.first_gap_ms, 500u);
    EXPECT_EQ(retransmissions(recs), 4u);  // the yardstick sees the three, and the late repeat
}

TEST(TcpFinResends, DealsTheChunksCountsEvenlyAmongThoseThatFit) {
    std::array<uint32_t, kMaxFinResends> by_count{}, given{};
    by_count[0] = 2, by_count[8] = 1;  // two FINs resent once, one nine times
    std::vector<uint32_t> dealt;
    for (int i = 0; i < 6; ++i) {
        const uint32_t k = next_resend_count(by_count, given, 16);
        ASSERT_GE(k, 1u);
        ++given[k - 1];
        dealt.push_back(k);
    }
    EXPECT_EQ(dealt, (std::vector<uint32_t>{1, 9, 1, 1, 9, 1}));
    EXPECT_EQ(next_resend_count(by_count, {}, 4), 1u);  // nine resends do not fit
    EXPECT_EQ(next_resend_count(by_count, {}, 0), 0u);
    EXPECT_EQ(fin_resend_time(100, 10, 0), 110);
    EXPECT_EQ(fin_resend_time(100, 10, 3), 250);  // 1 + 2 + 4 + 8 waits
}

TEST(TcpFinResends, ResendsAnUnansweredFinInPlaceOfTheSegmentsThatAnsweredIt) {
    std::vector<PacketRecord> recs;
    opened_and_closing(recs, 50000, 0);
    push_at(recs, 9.05, segment(50000, true, kAck | kFin, 1101, 5333, 0));
    push_at(recs, 9.10, segment(50000, false, kAck, 5333, 1102, 0));
    const int64_t fin_t = 9'010'000'000;
    // Resends of the alert and the FIN: the server's resends where the camera's FIN and the
    // server's ACK of it were, twice, or three times with the camera's ACK of the answer too.
    for (uint32_t times : {2u, 3u}) {
        FinResends chunk;
        chunk.fins[1] = 1, chunk.by_count[1][times - 1] = 1, chunk.first_gap_ms = 500;
        std::vector<PacketRecord> out = recs;
        resend_fins(chunk, out, int64_t{60'000'000'000});
        ASSERT_EQ(out.size(), recs.size());
        EXPECT_TRUE(std::is_sorted(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; }));
        std::vector<const PacketRecord*> resends;
        for (const auto& r : out) {
            if (r.t_ns <= fin_t) continue;
            EXPECT_EQ(r.sport, kServerPort);
            resends.push_back(&r);
        }
        ASSERT_EQ(resends.size(), times);
        for (uint32_t i = 0; i < times; ++i) {
            EXPECT_EQ(resends[i]->t_ns, fin_resend_time(fin_t, 500'000'000, i));
            if (times == 2) {  // from the alert's first byte, with it
                EXPECT_EQ(resends[i]->tcp_flags, kFin | kAck | kPsh);
                EXPECT_EQ(resends[i]->seq, 5301u);
                EXPECT_EQ(fidelity::tcp_payload_bytes(*resends[i]), 31u);
            } else {  // the answer and the alert would not fit in one of the server's segments
                EXPECT_EQ(resends[i]->tcp_flags, kFin | kAck);
                EXPECT_EQ(resends[i]->seq, 5332u);
                EXPECT_EQ(fidelity::tcp_payload_bytes(*resends[i]), 0u);
            }
        }
        const FinResends back = count_fin_resends(out);
        EXPECT_EQ(back.by_count[1][times - 1], 1u);
        EXPECT_EQ(back.first_gap_ms, 500u);
        EXPECT_EQ(retransmissions(out), times);
    }
}

TEST(TcpFinResends, ThePeersRstAnswersTheLastResend) {
    std::vector<PacketRecord> recs;
    opened_and_closing(recs, 50000, 0);
    push_at(recs, 10.2, segment(50000, true, kRst | kAck, 1101, 5333, 0));
    push_at(recs, 11.0, segment(50001, true, kSyn, 7000, 0, 0));  // the camera's next connection
    FinResends chunk;
    chunk.fins[1] = 1, chunk.by_count[1][0] = 1, chunk.first_gap_ms = 500;
    std::vector<PacketRecord> out = recs;
    resend_fins(chunk, out, int64_t{60'000'000'000});
    // The resend takes the camera's ACK of the answer; the RST answers it 1.19 s later.
    ASSERT_EQ(out.size(), recs.size());
    EXPECT_EQ(count_fin_resends(out).by_count[1][0], 1u);
    EXPECT_EQ(retransmissions(out), 1u);
    const auto rst = std::find_if(out.begin(), out.end(), [](const auto& r) { return (r.tcp_flags & kRst) != 0; });
    ASSERT_NE(rst, out.end());
    EXPECT_EQ(rst->t_ns, fin_resend_time(9'010'000'000, 500'000'000, 0) + 1'190'000'000);
    EXPECT_EQ((rst - 1)->tcp_flags, kFin | kAck);  // the answer and the alert would not fit in one segment
    EXPECT_TRUE(std::is_sorted(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; }));
}

TEST(TcpFinResends, NoResendAfterTheChunksLastRecordOrWhereOnlyTheOtherEndResent) {
    std::vector<PacketRecord> recs;
    opened_and_closing(recs, 50000, 0);
    push_at(recs, 10.2, segment(50000, true, kRst | kAck, 1101, 5333, 0));
    FinResends chunk;
    chunk.fins[1] = 1, chunk.by_count[1][2] = 1, chunk.first_gap_ms = 500;
    // The RST is the chunk's last record: it stays, and one resend (0.5 s after the FIN) fits
    // before it, of the three the chunk had.
    std::vector<PacketRecord> out = recs;
    resend_fins(chunk, out, recs.back().t_ns);
    EXPECT_EQ(count_fin_resends(out).by_count[1][0], 1u);
    EXPECT_EQ(out.back().t_ns, recs.back().t_ns);
    EXPECT_EQ(out.back().tcp_flags, kRst | kAck);
    EXPECT_EQ(retransmissions(out), 1u);

    out = recs;
    resend_fins(chunk, out, 9'400'000'000);  // the chunk ends before the first would come
    EXPECT_EQ(out, recs);
    FinResends clients = chunk;
    clients.by_count[1][2] = 0, clients.by_count[0][2] = 1;  // only the chunk's clients resent
    out = recs;
    resend_fins(clients, out, int64_t{60'000'000'000});
    EXPECT_EQ(out, recs);
}

TEST(TcpFinResends, SideKeepsThemFromFormatFortySeven) {
    Capture cap = load_dev_capture("IoT-Dataset__blink-cam-02.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const FinResends& f = enc.side.fin_resends;
    EXPECT_GE(f.resent(1), 20u);  // the servers' FINs to cameras that had gone
    EXPECT_GE(total_resends(f, 1), 80u);
    EXPECT_GT(f.by_count[1][7] + f.by_count[1][8], 0u);  // some eight or nine times
    EXPECT_LE(f.resent(1), f.fins[1]);
    EXPECT_GT(f.first_gap_ms, 100u);
    EXPECT_LT(f.first_gap_ms, 2000u);
    auto back = read_back_as(enc.side, 47), v46 = read_back_as(enc.side, 46);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v46.ok()) << v46.status().message();
    EXPECT_EQ(back->fin_resends.fins, f.fins);
    EXPECT_EQ(back->fin_resends.by_count, f.by_count);
    EXPECT_EQ(back->fin_resends.first_gap_ms, f.first_gap_ms);
    EXPECT_EQ(v46->fin_resends.resent(1), 0u);
}

TEST(TcpFinResends, FormatFortySevenRegeneratesTheServersResends) {
    Capture cap = load_dev_capture("IoT-Dataset__blink-cam-02.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const uint32_t real = total_resends(enc.side.fin_resends, 1);
    const std::vector<PacketRecord> v46 = regenerate_as(enc, 46, 1), v47 = regenerate_as(enc, 47, 1);
    ASSERT_EQ(v46.size(), v47.size());
    EXPECT_LT(total_resends(count_fin_resends(v46), 1), real / 10);
    const FinResends got = count_fin_resends(v47);
    EXPECT_GT(total_resends(got, 1), real / 2);
    EXPECT_LE(total_resends(got, 1), real);
    EXPECT_EQ(total_resends(got, 0), 0u);
}
