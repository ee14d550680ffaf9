// Format 21: the chunk's IP packets per flow start bucket, and the model's flows trading
// buckets to hold them (a device's busy hours stay where they were).
#include <gtest/gtest.h>

#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "codec/flows.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_timing.h"

using namespace dgc;
using namespace dgc::trainer;

TEST(StartPackets, LargestFlowsTradeIntoTheBucketsShortOfPackets) {
    // Bucket 0 drew a 40-packet TCP flow where the chunk had 10 packets; bucket 2 holds 3
    // in small flows where it had 40; bucket 3 drew a 9-packet UDP flow for 5.
    const std::vector<uint8_t> bucket{0, 0, 1, 2, 2, 3, 1};
    const std::vector<char> tcp{1, 0, 1, 1, 0, 0, 0};
    const std::vector<uint32_t> packets{40, 3, 5, 2, 1, 9, 1};
    const std::vector<uint32_t> want{10, 6, 40, 5};
    const std::vector<uint8_t> out = packet_matched_buckets(bucket, tcp, packets, want);
    // The 40-packet flow goes to bucket 2 for its 2-packet TCP flow (bucket 0 now 5 short);
    // the 9-packet UDP flow to bucket 0 for its 3-packet one. Bucket 3 stays 2 short: it
    // has no TCP flow, and its UDP flow is bigger than any other bucket's would be.
    EXPECT_EQ(out, (std::vector<uint8_t>{2, 3, 1, 0, 2, 0, 1}));
    std::vector<int> flows(4, 0), tcps(4, 0);
    for (size_t i = 0; i < out.size(); ++i) ++flows[out[i]], tcps[out[i]] += tcp[i];
    EXPECT_EQ(flows, (std::vector<int>{2, 2, 2, 1}));  // every bucket keeps its flows
    EXPECT_EQ(tcps, (std::vector<int>{1, 1, 1, 0}));   // and its TCP flows
    // Targets already met: nothing moves.
    EXPECT_EQ(packet_matched_buckets(bucket, tcp, packets, std::vector<uint32_t>{43, 6, 3, 9}), bucket);
}

namespace {

// Per start bucket of the side's grid, the IP packets of the records' flows.
std::vector<uint32_t> packets_by_start(std::span<const PacketRecord> recs, const ChunkSide& side) {
    std::vector<uint32_t> n(kTimeBuckets, 0);
    for (const Flow& f : assemble_flows(recs))
        if (recs[f.packets[0]].present & kHasIp)
            n[time_bucket(recs[f.packets[0]].t_ns, side.ip_t0, side.ip_span)] += static_cast<uint32_t>(f.packets.size());
    return n;
}

uint64_t distance(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    uint64_t d = 0;
    for (size_t i = 0; i < a.size(); ++i) d += static_cast<uint64_t>(std::abs(static_cast<int64_t>(a[i]) - b[i]));
    return d;
}

}  // namespace

TEST(StartPackets, FormatTwentyOneKeepsTheChunksBusyBuckets) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_EQ(packets_by_start(cap.records, enc.side), enc.side.start_packets);
    EXPECT_EQ(std::accumulate(enc.side.start_packets.begin(), enc.side.start_packets.end(), uint64_t{0}), enc.side.ip_packets);
    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->start_packets, enc.side.start_packets);

    // The flow model's sizes right, but drawn for other buckets: the flows of each kind
    // (TCP, other) pass their start buckets on, 37 places, so every bucket keeps its flows.
    for (const bool want_tcp : {true, false}) {
        std::vector<size_t> of;
        for (size_t i = 0; i < enc.flows.size(); ++i)
            if ((tcp_first_flag(enc.side, enc.flows[i]) >= 0) == want_tcp) of.push_back(i);
        std::vector<uint8_t> b;
        for (size_t i : of) b.push_back(enc.flows[i].bucket);
        for (size_t k = 0; k < of.size(); ++k) enc.flows[of[k]].bucket = b[(k + 37) % b.size()];
    }
    const uint64_t v20 = distance(packets_by_start(regenerate_as(enc, 20), enc.side), enc.side.start_packets);
    const uint64_t v21 = distance(packets_by_start(regenerate_as(enc, 21), enc.side), enc.side.start_packets);
    // Format 20 leaves 3,198 of the 15,507 packets' starts in other buckets, format 21 1,242
    // (the chain of keep-alives still moves a flow past its bucket).
    EXPECT_LT(v21 * 2, v20) << "format 20: " << v20 << ", format 21: " << v21 << " of " << enc.side.ip_packets;

    // More packets in a bucket than the chunk has, or fewer than its flows: corrupt.
    enc.side.start_packets[0] += 1, enc.side.start_packets[1] -= 1;
    ASSERT_TRUE(parse_side(serialize_side(enc.side), "test").ok());  // the sum stands
    enc.side.start_packets[99] += 1;
    const auto bad = parse_side(serialize_side(enc.side), "test");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("start buckets' packets"), std::string::npos) << bad.status().message();
}
