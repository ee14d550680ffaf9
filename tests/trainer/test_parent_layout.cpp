// A chunk laid out in its parent's vocabulary order (encode_chunk's `like`): the parent's
// weights name vocabulary places, and an hour whose hosts ranked in another order gave the
// parent's flows of one host (its stack, its address class) to another.
#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <vector>

#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"

using namespace dgc;
using namespace dgc::trainer;

TEST(AlignedOrder, SharedValuesTakeTheReferencePlacesTheRestFillInRankOrder) {
    const std::vector<int> ranked{7, 5, 9, 2};
    // 5 and 2 are the reference's places 0 and 3; 9's place 6 is past the end; 7 and 9
    // fill places 1 and 2 in rank order.
    EXPECT_EQ(aligned_order(ranked, std::vector<int>{5, 1, 8, 2, 0, 0, 9}), (std::vector<size_t>{1, 0, 2, 3}));
    EXPECT_EQ(aligned_order(ranked, std::vector<int>{}), (std::vector<size_t>{0, 1, 2, 3}));
    // Equal values (two hosts with one 16-bit id) each take one place.
    EXPECT_EQ(aligned_order(std::vector<int>{4, 4, 3}, std::vector<int>{3, 4, 4}), (std::vector<size_t>{2, 0, 1}));
}

TEST(AlignedOrder, AChunkLaidOutLikeItsParentNamesTheSameHostsPortsAndFlags) {
    Capture cap = load_dev_capture("nDPI__gnutella.pcap");
    const size_t half = cap.records.size() / 2;
    const std::span<const PacketRecord> first(cap.records.data(), half), second(cap.records.data() + half, cap.records.size() - half);
    const EncodedChunk parent = encode_chunk(first, 1);
    const EncodedChunk plain = encode_chunk(second, 1), like = encode_chunk(second, 1, &parent.side);
    ASSERT_EQ(plain.flows.size(), like.flows.size());
    // Every flow and packet names the same host, port, protocol and flag byte either way.
    auto host = [](const EncodedChunk& e, int slot) { return slot < kHostSlots ? int{e.side.host_ids[slot]} : -1; };
    auto port = [](const EncodedChunk& e, int t) { return t < kPortRanks ? int{e.side.ports[t]} : -t; };
    for (size_t i = 0; i < plain.flows.size(); ++i) {
        const auto &a = plain.flows[i].a, &b = like.flows[i].a;
        ASSERT_EQ(host(plain, a[kAttrCliHost]), host(like, b[kAttrCliHost]));
        ASSERT_EQ(host(plain, a[kAttrSrvHost]), host(like, b[kAttrSrvHost]));
        ASSERT_EQ(port(plain, a[kAttrCliPort]), port(like, b[kAttrCliPort]));
        ASSERT_EQ(port(plain, a[kAttrSrvPort]), port(like, b[kAttrSrvPort]));
        ASSERT_EQ(proto_of(plain.side, plain.flows[i]).proto, proto_of(like.side, like.flows[i]).proto);
    }
    for (size_t k = 0; k < plain.packets.size(); ++k)
        if (!plain.side.flags.empty()) {
            ASSERT_EQ(plain.side.flags[plain.packets[k].flag], like.side.flags[like.packets[k].flag]);
        }
    // A host of both halves sits where the parent has it; the plain encoding, ranked by this
    // half's counts, moves some.
    size_t shared = 0, in_place = 0, in_place_plain = 0;
    for (size_t s = 0; s < parent.side.host_ids.size() && s < like.side.host_ids.size(); ++s) {
        const uint16_t id = parent.side.host_ids[s];
        if (std::find(like.side.host_ids.begin(), like.side.host_ids.end(), id) == like.side.host_ids.end()) continue;
        ++shared, in_place += like.side.host_ids[s] == id, in_place_plain += plain.side.host_ids[s] == id;
    }
    EXPECT_GT(shared, 10u);
    EXPECT_EQ(in_place, shared);
    EXPECT_LT(in_place_plain, shared);
    // The per-host semantics moved with the hosts.
    for (size_t s = 0; s < like.side.host_ids.size(); ++s) {
        const size_t p = std::find(plain.side.host_ids.begin(), plain.side.host_ids.end(), like.side.host_ids[s]) - plain.side.host_ids.begin();
        ASSERT_LT(p, plain.side.host_ids.size());
        EXPECT_EQ(like.side.host_sem[s].subnet, plain.side.host_sem[p].subnet);
        EXPECT_EQ(like.side.hosts[s].ttl, plain.side.hosts[p].ttl);
    }
}
