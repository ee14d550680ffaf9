// Format 51 (trainer/syn_attempts.h): a client that gives up on an attempt opens again with a
// new ISN, after as many SYNs as the chunk's longest attempt.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

PacketRecord syn(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint32_t isn, uint8_t flags = kSyn) {
    PacketRecord r = lan_record(6, src, sport, dst, dport, 60);
    r.present |= kHasTcp;
    r.tcp_flags = flags, r.seq = isn;
    return r;
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
    auto back = read_back_as(enc.side, 51), v50 = read_back_as(enc.side, 50);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v50.ok()) << v50.status().message();
    EXPECT_EQ(back->longest_syn_attempt, 4u);
    EXPECT_EQ(v50->longest_syn_attempt, 0u);
    const std::vector<uint32_t> a50 = attempts(regenerate_as(enc, 50)), a51 = attempts(regenerate_as(enc, 51));
    const auto longest = [](const std::vector<uint32_t>& a) { return a.empty() ? 0u : *std::max_element(a.begin(), a.end()); };
    const auto syns = [](const std::vector<uint32_t>& a) { return std::accumulate(a.begin(), a.end(), 0u); };
    EXPECT_GT(longest(a50), 4u) << "format 50 sends a flow's SYNs with one ISN";
    EXPECT_EQ(longest(a51), 4u);
    EXPECT_EQ(syns(a51), syns(a50));
    EXPECT_GT(a51.size(), a50.size());
}
