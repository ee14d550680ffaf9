// Format 26 (trainer/edge_connections.h): a TCP connection a chunk's edge cuts stays one
// connection, on one 4-tuple, with sequence numbers that meet across the edge.
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>
#include <vector>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/edge_connections.h"
#include "trainer/synth_records.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord segment(int64_t t, uint8_t last_octet_src, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                     uint32_t ack, uint32_t payload) {
    PacketRecord r;
    r.t_ns = t;
    r.ip_version = 4;
    r.proto = 6;
    r.present = kHasIp | kHasPorts | kHasTcp;
    r.src = {10, 0, 0, last_octet_src};
    r.dst = {10, 0, 0, static_cast<uint8_t>(last_octet_src == 1 ? 2 : 1)};
    r.sport = sport, r.dport = dport;
    r.tcp_flags = flags, r.seq = seq, r.ack = ack;
    r.ip_len = 40 + payload;
    return r;
}

constexpr uint8_t kS = 0x02, kA = 0x10, kF = 0x01, kP = 0x08;

// The TCP 4-tuples of some records, as sorted address-port pairs.
std::set<std::string> tcp_tuples(std::span<const PacketRecord> recs) {
    std::set<std::string> out;
    for (const auto& r : recs)
        if (r.is_ip() && r.proto == 6 && r.has_ports()) out.insert(endpoint_pair_key(r));
    return out;
}

}  // namespace

TEST(EdgeConnections, RunsSplitAtANewHandshakeAndKnowTheirNextNumbers) {
    // Client 10.0.0.1:50000 to the server's 443: a handshake, 100 bytes each way, FIN; then
    // the same 4-tuple opens again; and a connection seen from its middle (server speaks first).
    const std::vector<PacketRecord> recs = {
        segment(1, 1, 50000, 443, kS, 1000, 0, 0),
        segment(2, 2, 443, 50000, kS | kA, 7000, 1001, 0),
        segment(3, 1, 50000, 443, kA, 1001, 7001, 0),
        segment(4, 1, 50000, 443, kA | kP, 1001, 7001, 100),
        segment(5, 2, 443, 50000, kA | kP, 7001, 1101, 100),
        segment(6, 1, 50000, 443, kF | kA, 1101, 7101, 0),
        segment(7, 1, 50000, 443, kS, 9000, 0, 0),
        segment(8, 2, 8883, 61000, kA | kP, 500, 300, 31),
    };
    const std::vector<TcpRun> runs = tcp_runs(recs);
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].at, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
    EXPECT_TRUE(runs[0].opens);
    EXPECT_TRUE(runs[0].closes);
    EXPECT_EQ(runs[0].server_port, 443);
    EXPECT_EQ(runs[0].client_port, 50000);
    EXPECT_EQ(seqs_at_start(runs[0], recs), (std::array<uint32_t, 2>{1000, 7000}));
    EXPECT_EQ(seqs_at_end(runs[0], recs), (std::array<uint32_t, 2>{1102, 7101}));  // the FIN takes one
    EXPECT_EQ(runs[1].at, (std::vector<size_t>{6}));
    EXPECT_FALSE(runs[1].closes);
    EXPECT_FALSE(runs[2].opens);
    EXPECT_EQ(runs[2].server_port, 8883);  // the lower port, though the client end received
    EXPECT_EQ(runs[2].client, (std::array<uint8_t, 16>{10, 0, 0, 1}));
    EXPECT_EQ(seqs_at_start(runs[2], recs), (std::array<uint32_t, 2>{300, 500}));
    EXPECT_EQ(seqs_at_end(runs[2], recs), (std::array<uint32_t, 2>{300, 531}));
}

TEST(EdgeConnections, BothSidesOfAnEdgeStoreTheSameConnection) {
    // ultraloq's hub keeps one MQTT connection open at a time: a cut through its records
    // cuts that connection, and both halves name it by the same ports and numbers.
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    const std::span<const PacketRecord> all(cap.records);
    const EncodedChunk a = encode_chunk(all.first(10000), 1), b = encode_chunk(all.subspan(10000), 1);
    ASSERT_FALSE(a.side.edge_out.empty());
    ASSERT_FALSE(b.side.edge_in.empty());
    const EdgeConnection& out = a.side.edge_out.front();
    const EdgeConnection& in = b.side.edge_in.front();
    EXPECT_EQ(out.server_port, 8883);
    EXPECT_EQ(in.client_port, out.client_port);
    EXPECT_EQ(in.server_port, out.server_port);
    EXPECT_EQ(in.client_seq, out.client_seq);
    EXPECT_EQ(in.server_seq, out.server_seq);
    EXPECT_EQ(b.side.host_ids[in.client_slot], a.side.host_ids[out.client_slot]);
    EXPECT_EQ(b.side.host_ids[in.server_slot], a.side.host_ids[out.server_slot]);
    EXPECT_LE(a.side.edge_in.size(), kEdgeConnections);

    // Stored and read back; a slot past the ranked hosts is refused.
    auto back = parse_side(serialize_side(a.side), "chunk", a.side.format);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->edge_in, a.side.edge_in);
    EXPECT_EQ(back->edge_out, a.side.edge_out);
    ChunkSide bad = a.side;
    bad.edge_out.front().server_slot = static_cast<uint8_t>(bad.hosts.size());
    const auto refused = parse_side(serialize_side(bad), "chunk", bad.format);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("edge"), std::string::npos) << refused.status().message();
    // Format 25's side ends before the block.
    ChunkSide old = a.side;
    old.format = 25;
    auto v25 = parse_side(serialize_side(old), "chunk", 25);
    ASSERT_TRUE(v25.ok());
    EXPECT_TRUE(v25->edge_out.empty());
}

TEST(EdgeConnections, FormatTwentySixRegeneratesTheCutConnectionOnOneTuple) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    const std::span<const PacketRecord> all(cap.records);
    const EncodedChunk a = encode_chunk(all.first(10000), 1);
    EncodedChunk b = encode_chunk(all.subspan(10000), 1);
    const size_t real = tcp_tuples(all).size();
    // The second chunk's model draws its clients' ports from the dynamic range, not the
    // ranked ports (a chunk's own tokens would give the real ports back on both sides).
    ASSERT_GT(plant_mistakes(b, 4, 6, [](FlowTokens& f, size_t) { f.a[kAttrCliPort] = kPortRanks + 13; }), 100u);
    auto joined = [&](uint8_t format) {
        std::vector<PacketRecord> recs = regenerate_as(a, format);
        const std::vector<PacketRecord> second = regenerate_as(b, format);
        recs.insert(recs.end(), second.begin(), second.end());
        return recs;
    };
    const std::vector<PacketRecord> v25 = joined(25), v26 = joined(26);
    // Format 25 puts the cut connection's second part on a 4-tuple of its own.
    EXPECT_EQ(tcp_tuples(v26).size() + 1, tcp_tuples(v25).size());
    EXPECT_GT(tcp_tuples(v25).size(), real);

    // The first chunk's last open connection goes on in the second on its 4-tuple, from the
    // numbers it ended with: no segment the analysis finds missing at the edge.
    const std::vector<PacketRecord> first = regenerate_as(a, 26), second = regenerate_as(b, 26);
    const std::vector<TcpRun> ra = tcp_runs(first), rb = tcp_runs(second);
    const EdgeConnection& out = a.side.edge_out.front();
    const TcpRun* before = nullptr;
    for (const TcpRun& run : ra)
        if (!run.closes && run.client_port == out.client_port && run.server_port == out.server_port) before = &run;
    const TcpRun* after = nullptr;
    for (const TcpRun& run : rb)
        if (!after && !run.opens && run.client_port == out.client_port && run.server_port == out.server_port) after = &run;
    ASSERT_NE(before, nullptr);
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(before->client, after->client);
    EXPECT_EQ(before->server, after->server);
    const auto end = seqs_at_end(*before, first), start = seqs_at_start(*after, second);
    EXPECT_EQ(end[0], start[0]);
    EXPECT_EQ(end[1], start[1]);
    const fidelity::TcpAnalysis joint = fidelity::analyze_tcp(v26);
    for (size_t k = 0; k < std::min<size_t>(after->at.size(), 3); ++k) {
        const uint8_t v = joint.verdict[first.size() + after->at[k]];
        EXPECT_NE(v, fidelity::kSegGap) << k;
        EXPECT_NE(v, fidelity::kSegAckUnseen) << k;
    }
}

TEST(EdgeConnections, AConnectionSpanningTheChunkMeetsBothEdges) {
    // 300 records inside one of the hub's connections: it is open at both edges.
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk mid = encode_chunk(std::span<const PacketRecord>(cap.records).subspan(5000, 300), 1);
    ASSERT_FALSE(mid.side.edge_in.empty());
    ASSERT_FALSE(mid.side.edge_out.empty());
    const EdgeConnection in = mid.side.edge_in.front(), out = mid.side.edge_out.front();
    ASSERT_EQ(in.client_port, out.client_port);
    // The model's lengths are off: its segments carry other bytes than the real ones.
    size_t longer = 0;
    for (size_t k = 0; k < mid.packets.size(); k += 3)
        if (mid.packets[k].len >= 3 && mid.packets[k].len + 1 < kLenClasses) ++mid.packets[k].len, ++longer;
    ASSERT_GT(longer, 20u);
    const std::vector<PacketRecord> recs = regenerate_as(mid, 26);
    const std::vector<TcpRun> runs = tcp_runs(recs);
    const TcpRun* spans = nullptr;
    for (const TcpRun& run : runs)
        if (run.client_port == in.client_port && run.server_port == in.server_port) spans = &run;
    ASSERT_NE(spans, nullptr);
    EXPECT_EQ(seqs_at_start(*spans, recs), (std::array<uint32_t, 2>{in.client_seq, in.server_seq}));
    EXPECT_EQ(seqs_at_end(*spans, recs), (std::array<uint32_t, 2>{out.client_seq, out.server_seq}));
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    for (size_t i : spans->at) EXPECT_NE(a.verdict[i], fidelity::kSegOutOfOrder) << i;
}

TEST(EdgeConnections, FormatThirtyTwoReachesTheEdge) {
    constexpr int64_t s = 1'000'000'000, split = 60 * s, cap = 200 * s;
    // Three pieces (silences of 80 s and 70 s between them); the last ends 300 s before the edge.
    const std::vector<int64_t> t{0, 10 * s, 90 * s, 100 * s, 170 * s, 200 * s};
    const std::vector<int64_t> moved = reach_edge(t, 500 * s, split, cap);
    // The last piece ends at the edge; each before it follows as little as keeps the silence
    // after it within 200 s (the middle one 170 s, the first 50 s).
    EXPECT_EQ(moved, (std::vector<int64_t>{50 * s, 60 * s, 260 * s, 270 * s, 470 * s, 500 * s}));
    // A run that ends within `split` of the edge stays.
    EXPECT_EQ(reach_edge(t, 250 * s, split, cap), t);
    // No bound on its silences: only the last piece moves.
    EXPECT_EQ(reach_edge(t, 500 * s, split, std::numeric_limits<int64_t>::max()),
              (std::vector<int64_t>{0, 10 * s, 90 * s, 100 * s, 470 * s, 500 * s}));
}
