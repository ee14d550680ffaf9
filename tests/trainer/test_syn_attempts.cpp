// Format 51 (trainer/syn_attempts.h): a client that gives up on an attempt opens again with a
// new ISN, after as many SYNs as the chunk's longest attempt. Format 53: its resends wait the
// chunk's SYN resend timer.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <numeric>
#include <tuple>
#include <vector>

#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/syn_attempts.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord syn(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint32_t isn, uint8_t flags = kSyn, int64_t t_ns = 0) {
    PacketRecord r = lan_record(6, src, sport, dst, dport, 60);
    r.present |= kHasTcp;
    r.tcp_flags = flags, r.seq = isn, r.t_ns = t_ns;
    return r;
}

constexpr int64_t kMs = 1'000'000;

// Per client 4-tuple and ISN, the waits between its SYNs (ns).
std::vector<int64_t> resend_waits(const std::vector<PacketRecord>& recs) {
    std::map<std::tuple<std::array<uint8_t, 16>, std::array<uint8_t, 16>, uint16_t, uint16_t, uint32_t>, int64_t> last;
    std::vector<int64_t> out;
    for (const PacketRecord& r : recs) {
        if (!(r.present & kHasTcp) || (r.tcp_flags & (kSyn | kAck)) != kSyn) continue;
        auto [it, fresh] = last.try_emplace({r.src, r.dst, r.sport, r.dport, r.seq}, r.t_ns);
        if (!fresh) out.push_back(r.t_ns - it->second), it->second = r.t_ns;
    }
    return out;
}

// Per client 4-tuple, the SYNs of each run with one ISN, in order.
std::vector<uint32_t> attempts(const std::vector<PacketRecord>& recs) {
    std::map<std::tuple<std::array<uint8_t, 16>, std::array<uint8_t, 16>, uint16_t, uint16_t>, std::pair<uint32_t, size_t>> at;
    std::vector<uint32_t> out;
    for (const PacketRecord& r : recs) {
        if (!(r.present & kHasTcp) || (r.tcp_flags & (kSyn | kAck)) != kSyn) continue;
        auto [it, fresh] = at.try_emplace({r.src, r.dst, r.sport, r.dport}, r.seq, out.size());
        if (fresh || it->second.first != r.seq) it->second = {r.seq, out.size()}, out.push_back(0);
        ++out[it->second.second];
    }
    return out;
}

}  // namespace

TEST(SynAttempts, TheLongestAttemptIsTheMostSynsOneClientSentWithOneIsnOnOneTuple) {
    std::vector<PacketRecord> recs;
    for (int k = 0; k < 4; ++k) recs.push_back(syn(2, 7158, 1, 9999, 1000));
    for (int k = 0; k < 2; ++k) recs.push_back(syn(2, 7158, 1, 9999, 61000));
    for (int k = 0; k < 3; ++k) recs.push_back(syn(2, 7159, 3, 9999, 1000));  // another server: its own tuple
    for (int k = 0; k < 6; ++k) recs.push_back(syn(1, 9999, 2, 7158, 5, kSyn | kAck));  // SYN-ACKs do not count
    EXPECT_EQ(longest_syn_attempt(recs), 4u);
    EXPECT_EQ(longest_syn_attempt({}), 0u);
    for (int k = 0; k < 300; ++k) recs.push_back(syn(2, 7160, 1, 9999, 7));
    EXPECT_EQ(longest_syn_attempt(recs), kMaxSynAttempt);
}

TEST(SynAttempts, AClientOpensAgainOnceItsSynsReachTheLongestAttempt) {
    SynAttempts four(4);
    four.opened();
    std::vector<bool> fresh;
    for (int k = 0; k < 9; ++k) fresh.push_back(four.resent());
    EXPECT_EQ(fresh, (std::vector<bool>{false, false, false, true, false, false, false, true, false}));
    // A chunk that resent no SYN says nothing of how its stacks give up.
    for (uint32_t longest : {0u, 1u}) {
        SynAttempts none(longest);
        none.opened();
        for (int k = 0; k < 20; ++k) EXPECT_FALSE(none.resent());
    }
}

TEST(SynAttempts, FormatFiftyOneSplitsSifelysRetriesIntoItsStacksAttempts) {
    // The hub's connect(): a SYN and three resends one second apart, then a new ISN.
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(enc.side.longest_syn_attempt, 4u);
    expect_read_back_from(enc.side, 51, [](const ChunkSide& s) { return s.longest_syn_attempt; });
    const std::vector<uint32_t> a50 = attempts(regenerate_as(enc, 50)), a51 = attempts(regenerate_as(enc, 51));
    const auto longest = [](const std::vector<uint32_t>& a) { return a.empty() ? 0u : *std::max_element(a.begin(), a.end()); };
    const auto syns = [](const std::vector<uint32_t>& a) { return std::accumulate(a.begin(), a.end(), 0u); };
    EXPECT_GT(longest(a50), 4u) << "format 50 sends a flow's SYNs with one ISN";
    EXPECT_EQ(longest(a51), 4u);
    EXPECT_EQ(syns(a51), syns(a50));
    EXPECT_GT(a51.size(), a50.size());
}

TEST(SynTimer, TheTimerIsTheMedianFirstWaitAndWhetherTheSecondDoublesIt) {
    std::vector<PacketRecord> recs;
    // Three clients, each a SYN and two resends: first waits 900, 1000 and 3000 ms, each doubled.
    const int64_t firsts[] = {900, 1000, 3000};
    for (uint8_t c = 0; c < 3; ++c) {
        const int64_t t0 = c * 100'000 * kMs, w = firsts[c] * kMs;
        for (int64_t t : {t0, t0 + w, t0 + 3 * w}) recs.push_back(syn(static_cast<uint8_t>(10 + c), 40000, 1, 443, 77, kSyn, t));
    }
    std::sort(recs.begin(), recs.end(), [](const PacketRecord& a, const PacketRecord& b) { return a.t_ns < b.t_ns; });
    EXPECT_EQ(syn_resend_timer(recs), (SynTimer{1000, 2}));
    // Flat waits.
    recs.clear();
    for (int k = 0; k < 4; ++k) recs.push_back(syn(2, 7158, 1, 9999, 5, kSyn, k * 1000 * kMs));
    EXPECT_EQ(syn_resend_timer(recs), (SynTimer{1000, 1}));
    // A flood that repeats one SYN a few ms apart teaches no timer; nor do SYNs without resends.
    recs.clear();
    for (int k = 0; k < 50; ++k) recs.push_back(syn(2, 7158, 1, 80, 5, kSyn, k * 3 * kMs));
    EXPECT_EQ(syn_resend_timer(recs), SynTimer{});
    recs.clear();
    for (uint16_t k = 0; k < 5; ++k) recs.push_back(syn(2, static_cast<uint16_t>(7000 + k), 1, 80, 5, kSyn, k * 2000 * kMs));
    EXPECT_EQ(syn_resend_timer(recs), SynTimer{});
}

TEST(SynTimer, RanksCountAnAttemptsResendsAsTheGeneratorNumbersAttempts) {
    const TcpSegmentPlan open{0, kSyn, true, false}, again{0, kSyn, true, true};
    const std::vector<TcpSegmentPlan> unanswered{open, again, again, again, again};
    EXPECT_EQ(syn_resend_ranks(unanswered, 0), (std::vector<uint32_t>{0, 1, 2, 3, 4}));
    // Past a longest attempt of 3 the fourth SYN opens anew (a new ISN): no resend of the last.
    EXPECT_EQ(syn_resend_ranks(unanswered, 3), (std::vector<uint32_t>{0, 1, 2, 0, 1}));
    // A refused client retries after the RST: that is no timer's resend.
    const std::vector<TcpSegmentPlan> refused{open, {1, kRst | kAck, true, false}, again, {1, kRst | kAck, true, false}};
    EXPECT_EQ(syn_resend_ranks(refused, 0), (std::vector<uint32_t>(4, 0)));
}

TEST(SynTimer, ResendsWaitTheTimerAndTheRestOfTheFlowMovesAlong) {
    // SYN, two resends drawn 5 ms apart, then SYN-ACK and ACK 20 ms and 1 ms after.
    std::vector<int64_t> times{0, 5 * kMs, 10 * kMs, 30 * kMs, 31 * kMs};
    const std::vector<uint32_t> rank{0, 1, 2, 0, 0};
    time_syn_resends({1000, 2}, rank, times, 100'000 * kMs);
    EXPECT_EQ(times, (std::vector<int64_t>{0, 1000 * kMs, 3000 * kMs, 3020 * kMs, 3021 * kMs}));
    std::vector<int64_t> flat{0, 5 * kMs, 10 * kMs, 30 * kMs, 31 * kMs};
    time_syn_resends({1000, 1}, rank, flat, 100'000 * kMs);
    EXPECT_EQ(flat, (std::vector<int64_t>{0, 1000 * kMs, 2000 * kMs, 2020 * kMs, 2021 * kMs}));
    // No timer: the drawn times stand.
    std::vector<int64_t> drawn{0, 5 * kMs, 10 * kMs, 30 * kMs, 31 * kMs}, before = drawn;
    time_syn_resends({}, rank, drawn, 100'000 * kMs);
    EXPECT_EQ(drawn, before);
}

TEST(SynTimer, AnAttemptThatWouldOutlastTheChunkIsCompressedToEndWithIt) {
    std::vector<int64_t> times{500 * kMs, 505 * kMs, 510 * kMs, 515 * kMs};
    time_syn_resends({1000, 2}, std::vector<uint32_t>{0, 1, 2, 3}, times, 4000 * kMs);  // 1 + 2 + 4 s do not fit
    EXPECT_EQ(times.front(), 500 * kMs);
    EXPECT_EQ(times.back(), 4000 * kMs);
    EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
    EXPECT_EQ(times[2] - times[1], 2 * (times[1] - times[0]));  // still doubling
}

TEST(SynTimer, FormatFiftyThreeSendsSifelysResendsOneSecondApart) {
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const SynTimer timer = enc.side.syn_timer;
    ASSERT_GE(timer.first_ms, 950u);
    ASSERT_LE(timer.first_ms, 1050u);
    ASSERT_EQ(timer.backoff, 1u);
    auto back = read_back_as(enc.side, 53), v52 = read_back_as(enc.side, 52);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v52.ok()) << v52.status().message();
    EXPECT_EQ(back->syn_timer, enc.side.syn_timer);
    EXPECT_EQ(v52->syn_timer, SynTimer{});
    const std::vector<PacketRecord> r52 = regenerate_as(enc, 52), r53 = regenerate_as(enc, 53);
    const std::vector<int64_t> w52 = resend_waits(r52), w53 = resend_waits(r53);
    ASSERT_FALSE(w53.empty());
    EXPECT_EQ(w52.size(), w53.size()) << "the timer moves resends; it sends no more or fewer";
    const auto on_timer = [&](int64_t tolerance) {
        return [&, tolerance](int64_t w) { return std::abs(w - timer.first_ms * kMs) <= tolerance; };
    };
    EXPECT_GT(std::count_if(w53.begin(), w53.end(), on_timer(0)) * 10, static_cast<long>(w53.size()) * 9);
    EXPECT_LT(std::count_if(w52.begin(), w52.end(), on_timer(100 * kMs)) * 2, static_cast<long>(w52.size())) << "format 52 draws them";
}

TEST(SynTimer, ACorruptBackoffIsRefused) {
    ChunkSide side;
    side.format = 53;
    side.syn_timer = {1000, 0};
    auto back = parse_side(serialize_side(side), "chunk 7", 53);
    ASSERT_FALSE(back.ok());
    EXPECT_NE(back.status().message().find("chunk 7"), std::string::npos);
}
