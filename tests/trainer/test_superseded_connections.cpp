// Format 27 (trainer/superseded_connections.h): a device that keeps one connection to a
// service ends it when it opens the next, and a chain's connection opens with a handshake.
#include <gtest/gtest.h>

#include <set>
#include <tuple>
#include <vector>

#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/edge_connections.h"
#include "trainer/open_connections.h"
#include "trainer/superseded_connections.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

// A segment between 10.0.0.1 (the client) and 10.0.0.2; `from_client` picks its sender.
PacketRecord segment(double t_s, bool from_client, uint16_t client_port, uint16_t server_port, uint8_t flags, uint32_t seq,
                     uint32_t ack, uint32_t payload) {
    PacketRecord r;
    r.t_ns = static_cast<int64_t>(t_s * 1e9);
    r.ip_version = 4;
    r.proto = 6;
    r.present = kHasIp | kHasPorts | kHasTcp;
    r.src = {10, 0, 0, static_cast<uint8_t>(from_client ? 1 : 2)};
    r.dst = {10, 0, 0, static_cast<uint8_t>(from_client ? 2 : 1)};
    r.sport = from_client ? client_port : server_port, r.dport = from_client ? server_port : client_port;
    r.tcp_flags = flags, r.seq = seq, r.ack = ack;
    r.ip_len = 40 + payload;
    r.wirelen = r.caplen = 14 + r.ip_len;
    r.ttl = from_client ? 64 : 240;
    return r;
}

constexpr uint8_t kS = kSyn, kA = kAck, kF = kFin, kR = kRst, kP = kPsh;

// Runs that never close while a later run of their client to the same server port opens with
// a SYN after their last segment: connections a device left open as it opened the next.
size_t left_open_at_reopen(std::span<const PacketRecord> recs) {
    const std::vector<TcpRun> runs = tcp_runs(recs);
    size_t n = 0;
    for (const TcpRun& a : runs) {
        if (a.closes) continue;
        for (const TcpRun& b : runs)
            if (&b != &a && b.client == a.client && b.server_port == a.server_port && (recs[b.at.front()].tcp_flags & (kS | kA)) == kS &&
                recs[b.at.front()].t_ns > recs[a.at.back()].t_ns) {
                ++n;
                break;
            }
    }
    return n;
}

}  // namespace

TEST(SupersededConnections, CountsOpeningsThatEndTheClientsEarlierConnection) {
    const std::vector<PacketRecord> recs = {
        // The first connection: the server's FIN, the client's next SYN, then its RST 5 s later.
        segment(1, true, 50000, 8883, kS, 1000, 0, 0),
        segment(1.1, false, 50000, 8883, kS | kA, 7000, 1001, 0),
        segment(1.2, true, 50000, 8883, kA, 1001, 7001, 0),
        segment(100, false, 50000, 8883, kF | kA | kP, 7001, 1001, 31),
        segment(105, true, 50001, 8883, kS, 3000, 0, 0),
        segment(105.1, false, 50001, 8883, kS | kA, 9000, 3001, 0),
        segment(110, true, 50000, 8883, kR | kA, 1001, 7033, 0),
        // A third opens beside the second, which goes on for minutes: parallel, not a close.
        segment(200, true, 50002, 8883, kS, 5000, 0, 0),
        segment(300, true, 50001, 8883, kA | kP, 3001, 9001, 20),
        segment(400, false, 50001, 8883, kF | kA, 9001, 3021, 0),
    };
    const SupersedeCounts c = count_superseding_opens(recs, tcp_runs(recs));
    EXPECT_EQ(c.closes, 1u);
    EXPECT_EQ(c.by_client, 1u);
    EXPECT_EQ(c.resets, 1u);
    // Closed with a FIN instead: counted, not as a reset (format 60).
    std::vector<PacketRecord> fin = recs;
    fin[6].tcp_flags = kF | kA;
    const SupersedeCounts f = count_superseding_opens(fin, tcp_runs(fin));
    EXPECT_EQ(f.closes, 1u);
    EXPECT_EQ(f.resets, 0u);
    // The server ends it: counted, not by the client.
    std::vector<PacketRecord> by_server = recs;
    by_server[6] = segment(110, false, 50000, 8883, kR | kA, 7033, 1001, 0);
    EXPECT_EQ(count_superseding_opens(by_server, tcp_runs(by_server)).by_client, 0u);
    // A close over 60 s after the next SYN is not the SYN's doing.
    std::vector<PacketRecord> late = recs;
    late[6].t_ns = static_cast<int64_t>(166e9);
    EXPECT_EQ(count_superseding_opens(late, tcp_runs(late)).closes, 0u);
}

TEST(SupersededConnections, TheLastSegmentBecomesTheClosersResetAtTheNumbersReached) {
    const std::vector<PacketRecord> recs = {
        segment(1, true, 50000, 443, kS, 1000, 0, 0),
        segment(2, false, 50000, 443, kS | kA, 7000, 1001, 0),
        segment(3, true, 50000, 443, kA, 1001, 7001, 0),
        segment(4, true, 50000, 443, kA | kP, 1001, 7001, 100),
        segment(5, false, 50000, 443, kA | kP, 7001, 1101, 50),
        segment(6, false, 50000, 443, kA | kP, 7051, 1101, 31),
    };
    const SupersededConnection by_client{4, {10, 0, 0, 1}, {10, 0, 0, 2}, 50000, 443, static_cast<int64_t>(6e9), true};
    std::vector<PacketRecord> a = recs;
    close_superseded(std::vector{by_client}, a);
    const PacketRecord& r = a.back();
    EXPECT_EQ(r.t_ns, recs.back().t_ns);
    EXPECT_EQ(r.src, (std::array<uint8_t, 16>{10, 0, 0, 1}));
    EXPECT_EQ(r.sport, 50000);
    EXPECT_EQ(r.ttl, 64);  // the client's own
    EXPECT_EQ(r.tcp_flags, kR | kA);
    EXPECT_EQ(r.seq, 1101u);  // past the client's 100 bytes
    EXPECT_EQ(r.ack, 7051u);  // the server's last 31 bytes are not sent
    EXPECT_EQ(r.ip_len, 40u);
    EXPECT_EQ(r.wirelen, 54u);
    EXPECT_TRUE(std::equal(a.begin(), a.end() - 1, recs.begin()));

    SupersededConnection by_server = by_client;
    by_server.by_client = false;
    std::vector<PacketRecord> b = recs;
    close_superseded(std::vector{by_server}, b);
    EXPECT_EQ(b.back().sport, 443);
    EXPECT_EQ(b.back().seq, 7051u);
    EXPECT_EQ(b.back().ack, 1101u);

    // A connection that already closed, or one not at that time, stays as it is.
    std::vector<PacketRecord> c = recs;
    SupersededConnection other = by_client;
    other.last_t = static_cast<int64_t>(5e9);
    close_superseded(std::vector{other}, c);
    EXPECT_EQ(c, recs);
}

TEST(SupersededConnections, FormatTwentySevenEndsTheHubsConnectionAsItOpensTheNext) {
    // ultraloq's hub keeps one MQTT connection to port 8883 and resets it as it opens the next.
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_GE(enc.side.superseding_opens, 5u);
    EXPECT_EQ(enc.side.superseded_by_client, enc.side.superseding_opens);
    EXPECT_EQ(left_open_at_reopen(cap.records), 0u);
    // A model that opens connections on other pieces than the real ones (its own tokens give
    // the real chains back).
    EncodedChunk drawn = enc;
    ASSERT_GT(rotate_attr(drawn, 6, kAttrFirstFlag, 7), 100u);
    const std::vector<PacketRecord> v26 = regenerate_as(drawn, 26), v27 = regenerate_as(drawn, 27);
    EXPECT_GT(left_open_at_reopen(v26), 10u);
    EXPECT_EQ(left_open_at_reopen(v27), 0u);
    auto syns = [](std::span<const PacketRecord> recs) {
        size_t n = 0;
        for (const PacketRecord& r : recs) n += r.proto == 6 && (r.tcp_flags & (kS | kA)) == kS;
        return n;
    };
    EXPECT_EQ(v27.size(), v26.size());
    EXPECT_LE(syns(v27), syns(v26) + 1);
}

namespace {

// Silences of over tcptrace's 4 minutes inside one of `recs`' TCP runs (tcptrace reads each
// as a new connection).
size_t long_silences(std::span<const PacketRecord> recs) {
    size_t n = 0;
    for (const TcpRun& run : tcp_runs(recs))
        for (size_t k = 1; k < run.at.size(); ++k) n += recs[run.at[k]].t_ns - recs[run.at[k - 1]].t_ns > 240'000'000'000;
    return n;
}

}  // namespace

TEST(SupersededConnections, FormatThirtyTwoLeavesNoConnectionSilentForLong) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EXPECT_EQ(long_silences(cap.records), 0u);
    // A model that opens connections on other pieces than the real ones.
    EncodedChunk drawn = encode_chunk(cap.records, 1);
    ASSERT_GT(rotate_attr(drawn, 6, kAttrFirstFlag, 7), 100u);
    EXPECT_GE(long_silences(regenerate_as(drawn, 31)), 5u);  // 9
    EXPECT_EQ(long_silences(regenerate_as(drawn, 32)), 0u);
}

TEST(SupersededConnections, FormatThirtyFourOpensNoConnectionTheModelDidNotDraw) {
    // Format 32 let a reopened chain's SYN go on only after a silence the chunk had, so the
    // piece that reopened the chain and the SYN each opened a connection.
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk drawn = encode_chunk(cap.records, 1);
    ASSERT_GT(rotate_attr(drawn, 6, kAttrFirstFlag, 7), 100u);
    auto syns = [](std::span<const PacketRecord> recs) {
        size_t n = 0;
        for (const PacketRecord& r : recs) n += r.proto == 6 && (r.tcp_flags & (kS | kA)) == kS;
        return n;
    };
    // Format 26 opens what the model drew (22, as the real chunk), before any reopening rule.
    const std::vector<PacketRecord> v26 = regenerate_as(drawn, 26), v33 = regenerate_as(drawn, 33), v34 = regenerate_as(drawn, 34);
    EXPECT_GE(syns(v33), syns(v26) + 5);  // 34
    EXPECT_LE(syns(v34), syns(v26) + 1);  // 23
    EXPECT_LT(tcp_runs(v34).size(), tcp_runs(v33).size() - 5);  // 30 against 43 (real 23)
    EXPECT_EQ(long_silences(v34), 0u);
    EXPECT_EQ(v34.size(), v33.size());
}

namespace {

// Connections (4-tuples, either direction) with a RST: what argus calls reset.
size_t reset_connections(std::span<const PacketRecord> recs) {
    std::set<std::tuple<std::array<uint8_t, 16>, uint16_t, std::array<uint8_t, 16>, uint16_t>> reset;
    for (const PacketRecord& r : recs)
        if (r.proto == 6 && (r.tcp_flags & kR))
            reset.insert(std::min(std::tuple{r.src, r.sport, r.dst, r.dport}, std::tuple{r.dst, r.dport, r.src, r.sport}));
    return reset.size();
}

}  // namespace

TEST(SupersededConnections, FormatSixtyResetsOnlyAsManyAsTheChunkDid) {
    // isp-fragtest's browser opens a connection to a server port while it closes an earlier
    // one, 22 times, and closes 20 of them with a FIN. Format 59 reset every connection it
    // superseded on top of the chunk's own endings: argus counted 35 connections reset for 29.
    Capture cap = load_dev_capture("libtrace__isp-fragtest.pcap");
    EncodedChunk drawn = encode_chunk(cap.records, 1);
    EXPECT_EQ(drawn.side.superseding_opens, 22u);
    EXPECT_EQ(drawn.side.superseded_resets, 2u);
    expect_read_back_from(drawn.side, 60, [](const ChunkSide& s) { return s.superseded_resets; });
    ChunkSide corrupt = drawn.side;
    corrupt.superseded_resets = corrupt.superseding_opens + 1;
    EXPECT_FALSE(parse_side(serialize_side(corrupt), "chunk", 60).ok());

    // A model that draws the server ports on other flows than the real ones: connections are
    // left open where the real ones closed, and a SYN supersedes them.
    ASSERT_GT(rotate_attr(drawn, 6, kAttrSrvPort, 7), 500u);
    const size_t real = reset_connections(cap.records), v59 = reset_connections(regenerate_as(drawn, 59)),
                 v60 = reset_connections(regenerate_as(drawn, 60));
    EXPECT_EQ(real, 29u);
    EXPECT_LT(v60, v59);  // 29 against 31
    EXPECT_NEAR(static_cast<double>(v60), static_cast<double>(real), 1) << "format 59: " << v59;
}

TEST(SupersededConnections, FormatSixtyListsNoMoreResetsThanCounted) {
    // A client with three silent connections to port 80 opens a fourth: all three are
    // superseded; format 60 lists one for a reset, as the chunk's count says, format 59 all three.
    auto superseded = [](uint8_t format) {
        ChunkSide side;
        side.format = format;
        side.superseding_opens = 1, side.superseded_resets = 1;
        ChainReopens reopens(side);
        OpenConnections conns;
        Endpoint client, server;
        client.addr = {10, 0, 0, 1}, server.addr = {10, 0, 0, 2}, server.port = 80;
        for (uint16_t port : {50000, 50001, 50002}) {
            client.port = port;
            conns.record(conn_key(client, server), ConnState{1'000'000'000, port, false, server}, client, format);
        }
        const size_t gone = reopens.supersede(conns, client, 80, 4, 100'000'000'000).size();
        EXPECT_EQ(gone, 3u);
        return reopens.superseded().size();
    };
    EXPECT_EQ(superseded(59), 3u);
    EXPECT_EQ(superseded(60), 1u);
}
