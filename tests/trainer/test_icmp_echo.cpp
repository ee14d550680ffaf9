// Format 50 (trainer/icmp_echo.h): an echo reply answers a request of its own, at its size.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>
#include <vector>

#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/icmp_echo.h"

using namespace dgc;
using namespace dgc::trainer;

TEST(IcmpEcho, EachReplyAnswersTheOldestUnansweredRequestAtItsSize) {
    std::vector<uint8_t> dirs = {0, 0, 1, 1, 0, 1};
    std::vector<uint32_t> lens = {84, 98, 60, 70, 120, 84};
    const std::vector<int32_t> answers = pair_echo_replies(dirs, lens);
    EXPECT_EQ(dirs, (std::vector<uint8_t>{0, 0, 1, 1, 0, 1}));
    EXPECT_EQ(answers, (std::vector<int32_t>{kEchoRequest, kEchoRequest, 0, 1, kEchoRequest, 4}));
    EXPECT_EQ(lens, (std::vector<uint32_t>{84, 98, 84, 98, 120, 120}));
}

TEST(IcmpEcho, AReplyWithNothingToAnswerIsARequestAndALaterRequestAnswersInItsStead) {
    // The model drew a reply first and a second reply to one request; the flow keeps three
    // requests and three replies, each reply after its request.
    std::vector<uint8_t> dirs = {1, 0, 1, 1, 0, 0};
    std::vector<uint32_t> lens = {60, 84, 84, 70, 98, 98};
    const std::vector<int32_t> answers = pair_echo_replies(dirs, lens);
    EXPECT_EQ(dirs, (std::vector<uint8_t>{0, 1, 0, 1, 0, 1}));
    EXPECT_EQ(answers, (std::vector<int32_t>{kEchoRequest, 0, kEchoRequest, 2, kEchoRequest, 4}));
    EXPECT_EQ(lens, (std::vector<uint32_t>{60, 60, 84, 84, 98, 98}));
    // Requests nobody answered stay so.
    std::vector<uint8_t> lone = {0, 0, 0};
    std::vector<uint32_t> lone_lens = {84, 84, 84};
    EXPECT_EQ(pair_echo_replies(lone, lone_lens), (std::vector<int32_t>(3, kEchoRequest)));
    EXPECT_EQ(lone, (std::vector<uint8_t>{0, 0, 0}));
}

namespace {

struct EchoTally {
    size_t replies = 0, unmatched = 0;  // unmatched: no earlier unanswered request of its id, sequence and size
};

EchoTally tally_echoes(const std::vector<PacketRecord>& recs) {
    EchoTally t;
    // (requester, id << 16 | sequence) -> lengths of its unanswered requests
    std::map<std::pair<std::array<uint8_t, 16>, uint32_t>, std::vector<uint32_t>> open;
    for (const PacketRecord& r : recs) {
        if (!r.is_ip() || !(r.present & kHasIcmp)) continue;
        const bool request = r.icmp_type == (r.proto == 1 ? 8 : 128), reply = r.icmp_type == (r.proto == 1 ? 0 : 129);
        if (request) open[{r.src, r.icmp_rest}].push_back(r.ip_len);
        if (!reply) continue;
        ++t.replies;
        auto& lens = open[{r.dst, r.icmp_rest}];
        const auto it = std::find(lens.begin(), lens.end(), r.ip_len);
        if (it == lens.end()) ++t.unmatched;
        else lens.erase(it);
    }
    return t;
}

}  // namespace

TEST(IcmpEcho, FormatFiftyAnswersSchlagesPingsAtTheirSize) {
    // The lock's week answers each of its 5 pings with a reply of the request's size.
    Capture cap = load_dev_capture("IoT-Dataset__schlage-lock-01.pcap");
    const EchoTally real = tally_echoes(cap.records);
    ASSERT_EQ(real.replies, 5u);
    ASSERT_EQ(real.unmatched, 0u);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const EchoTally v49 = tally_echoes(regenerate_as(enc, 49)), v50 = tally_echoes(regenerate_as(enc, 50));
    EXPECT_GT(v49.unmatched, 0u) << "format 49 sends replies that answer no request of their size";
    EXPECT_EQ(v50.replies, real.replies);
    EXPECT_EQ(v50.unmatched, 0u);
}
