// Format 40 (trainer/tcp_keepalives.h): a quiet connection's keep-alive probes at the chunk's
// share for each end, and a connection that keeps its windows. schlage's lock probes its MQTT
// server every 300 s; format 39 sent those slots as bare ACKs at the next sequence number
// with a fresh window each time: tshark saw duplicate ACKs and window updates, not probes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>
#include <vector>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/tcp_keepalives.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

constexpr uint16_t kDevicePort = 50000, kServerPort = 8883;

PacketRecord segment(bool from_device, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload) {
    PacketRecord r = from_device ? lan_record(6, 1, kDevicePort, 2, kServerPort, 40 + payload)
                                 : lan_record(6, 2, kServerPort, 1, kDevicePort, 40 + payload);
    r.present |= kHasTcp;
    r.tcp_flags = flags, r.seq = seq, r.ack = ack;
    return r;
}

// A device's connection to its server: handshake, a request and its answer, then `pairs`
// quiet bare ACKs from the device 300 s apart, each `back` below its next sequence number
// (1: a probe), and the server's ACK 70 ms later.
std::vector<PacketRecord> quiet_connection(uint32_t back, int pairs) {
    std::vector<PacketRecord> recs;
    push_at(recs, 0.00, segment(true, kSyn, 1000, 0, 0));
    push_at(recs, 0.07, segment(false, kSyn | kAck, 5000, 1001, 0));
    push_at(recs, 0.14, segment(true, kAck, 1001, 5001, 0));
    push_at(recs, 0.15, segment(true, kAck | kPsh, 1001, 5001, 69));
    push_at(recs, 0.22, segment(false, kAck | kPsh, 5001, 1070, 69));
    push_at(recs, 0.30, segment(true, kAck, 1070, 5070, 0));
    for (int k = 1; k <= pairs; ++k) {
        push_at(recs, 300.0 * k, segment(true, kAck, 1070 - back, 5070, 0));
        push_at(recs, 300.0 * k + 0.07, segment(false, kAck, 5070, 1070, 0));
    }
    return recs;
}

// What the yardstick (and tshark) calls keep-alives.
size_t keepalive_verdicts(std::span<const PacketRecord> recs) {
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    return std::count(a.verdict.begin(), a.verdict.end(), fidelity::kSegKeepAlive);
}

// tshark's window updates: a bare ACK with its direction's last sequence and ACK numbers and
// another window.
size_t window_updates(std::span<const PacketRecord> recs) {
    std::map<std::tuple<std::array<uint8_t, 16>, uint16_t, std::array<uint8_t, 16>, uint16_t>, const PacketRecord*> last;
    size_t n = 0;
    for (const PacketRecord& r : recs) {
        if (!r.is_ip() || r.proto != 6 || !(r.present & kHasTcp)) continue;
        const PacketRecord*& prev = last[{r.src, r.sport, r.dst, r.dport}];
        n += prev && fidelity::tcp_payload_bytes(r) == 0 && !(r.tcp_flags & (kSyn | kFin | kRst)) && r.seq == prev->seq &&
             r.ack == prev->ack && r.window != prev->window;
        prev = &r;
    }
    return n;
}

}  // namespace

TEST(TcpKeepAlives, CountsEachEndsQuietSegmentsBareOnesAndProbes) {
    std::vector<PacketRecord> recs = quiet_connection(1, 4);
    push_at(recs, 1500.0, segment(false, kAck | kPsh, 5070, 1070, 20));  // the server speaks again with data
    push_at(recs, 1500.1, segment(true, kAck, 1070, 5090, 0));           // acknowledges it: not quiet
    push_at(recs, 1800.0, segment(false, kAck, 5090, 1070, 0));          // the server's quiet bare ACK
    push_at(recs, 2100.0, segment(true, kAck, 1069, 5090, 1));           // a one-byte probe, as Windows sends
    const TcpKeepAlives k = count_keepalives(recs);
    EXPECT_EQ(k.quiet, (std::array<uint32_t, 2>{5, 2}));
    EXPECT_EQ(k.bare, (std::array<uint32_t, 2>{5, 1}));
    EXPECT_EQ(k.probes, (std::array<uint32_t, 2>{5, 0}));
    EXPECT_EQ(k.one_byte, 1u);
    EXPECT_EQ(keepalive_verdicts(recs), 5u);

    // The same slots at the next sequence number: bare, no probes.
    const TcpKeepAlives bare = count_keepalives(quiet_connection(0, 4));
    EXPECT_EQ(bare.bare[0], 4u);
    EXPECT_EQ(bare.probes[0], 0u);
}

TEST(TcpKeepAlives, SendsProbesAtEachEndsShareOfItsBareQuietSegments) {
    std::vector<PacketRecord> recs = quiet_connection(0, 8);
    ASSERT_EQ(keepalive_verdicts(recs), 0u);
    TcpKeepAlives chunk;
    chunk.quiet = {4, 0}, chunk.bare = {4, 0}, chunk.probes = {2, 0};
    send_keepalives(chunk, recs);
    TcpKeepAlives k = count_keepalives(recs);
    EXPECT_EQ(k.bare[0], 8u);
    EXPECT_EQ(k.probes[0], 4u);
    EXPECT_EQ(k.one_byte, 0u);
    EXPECT_EQ(keepalive_verdicts(recs), 4u);

    // Every one, half of them with a byte.
    recs = quiet_connection(0, 8);
    chunk.quiet = {2, 0}, chunk.bare = {2, 0}, chunk.probes = {2, 0}, chunk.one_byte = 1;
    send_keepalives(chunk, recs);
    k = count_keepalives(recs);
    EXPECT_EQ(k.probes[0], 8u);
    EXPECT_EQ(k.one_byte, 4u);
    EXPECT_EQ(keepalive_verdicts(recs), 8u);
}

TEST(TcpKeepAlives, AnEndWithoutProbesInTheChunkSendsNone) {
    // The server's bare ACKs after a silence are quiet too; the chunk's servers never probed.
    std::vector<PacketRecord> recs = quiet_connection(0, 4);
    for (int k = 1; k <= 4; ++k) push_at(recs, 300.0 * k + 100.0, segment(false, kAck, 5070, 1070, 0));
    ASSERT_EQ(count_keepalives(recs).bare[1], 4u);
    TcpKeepAlives chunk;
    chunk.quiet = {4, 6}, chunk.bare = {4, 6}, chunk.probes = {4, 0};
    send_keepalives(chunk, recs);
    const TcpKeepAlives k = count_keepalives(recs);
    EXPECT_EQ(k.probes[0], 4u);
    EXPECT_EQ(k.bare[1], 4u);
    EXPECT_EQ(k.probes[1], 0u);
    EXPECT_EQ(keepalive_verdicts(recs), 4u);
}

TEST(TcpKeepAlives, AQuietSegmentSpeaksWithDataWhereTheChunksDidAndTheConnectionMovesOn) {
    // sifely's connections always speak again with data; the model put bare ACKs there.
    std::vector<PacketRecord> recs = quiet_connection(0, 4);
    TcpKeepAlives chunk;
    chunk.quiet = {10, 0}, chunk.bare = {5, 0};  // half of the quiet non-probes bare
    send_keepalives(chunk, recs);
    TcpKeepAlives k = count_keepalives(recs);
    EXPECT_EQ(k.quiet[0], 4u);
    EXPECT_EQ(k.bare[0], 2u);
    EXPECT_EQ(k.probes[0], 0u);
    // As much data as the device sent last, and the server acknowledges it: no gap, no
    // retransmission, no ACK of unseen data anywhere in the connection.
    size_t with_data = 0;
    for (const PacketRecord& r : recs)
        with_data += r.t_ns >= 300'000'000'000 && r.sport == kDevicePort && fidelity::tcp_payload_bytes(r) == 69;
    EXPECT_EQ(with_data, 2u);
    const fidelity::TcpAnalysis a = fidelity::analyze_tcp(recs);
    EXPECT_EQ(static_cast<size_t>(std::count(a.verdict.begin(), a.verdict.end(), fidelity::kSegOk)), recs.size());

    // None bare: every one speaks with data.
    recs = quiet_connection(0, 4);
    chunk.bare = {0, 0};
    send_keepalives(chunk, recs);
    k = count_keepalives(recs);
    EXPECT_EQ(k.bare[0], 0u);
    const fidelity::TcpAnalysis all = fidelity::analyze_tcp(recs);
    EXPECT_EQ(static_cast<size_t>(std::count(all.verdict.begin(), all.verdict.end(), fidelity::kSegOk)), recs.size());
}

TEST(TcpKeepAlives, SideKeepsThemFromFormatForty) {
    Capture cap = load_dev_capture("IoT-Dataset__schlage-lock-01.pcap", 4000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const TcpKeepAlives& k = enc.side.keepalives;
    EXPECT_GT(k.probes[0], 100u);  // the lock's probes, every 300 s
    EXPECT_GE(k.bare[0], k.probes[0]);
    EXPECT_GE(k.quiet[0], k.bare[0]);
    EXPECT_EQ(k.probes[1], 0u);    // its servers only answer
    auto back = read_back_as(enc.side, 40), v39 = read_back_as(enc.side, 39);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(v39.ok()) << v39.status().message();
    EXPECT_EQ(back->keepalives.quiet, k.quiet);
    EXPECT_EQ(back->keepalives.bare, k.bare);
    EXPECT_EQ(back->keepalives.probes, k.probes);
    EXPECT_EQ(back->keepalives.one_byte, k.one_byte);
    EXPECT_EQ(v39->keepalives.probes[0], 0u);

    ChunkSide bad = enc.side;
    bad.keepalives.probes[0] = bad.keepalives.bare[0] + 1;
    EXPECT_FALSE(read_back_as(bad, 40).ok());
    bad = enc.side;
    bad.keepalives.bare[0] = bad.keepalives.quiet[0] + 1;
    EXPECT_FALSE(read_back_as(bad, 40).ok());
    bad = enc.side;
    bad.keepalives.one_byte = k.probes[0] + k.probes[1] + 1;
    EXPECT_FALSE(read_back_as(bad, 40).ok());
    bad = enc.side;
    bad.keepalives.quiet[1] = bad.tcp_loss.segments + 1;
    EXPECT_FALSE(read_back_as(bad, 40).ok());
}

TEST(TcpKeepAlives, FormatFortyRegeneratesTheLocksProbesAndSteadyWindows) {
    Capture cap = load_dev_capture("IoT-Dataset__schlage-lock-01.pcap", 4000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const std::vector<PacketRecord> v39 = regenerate_as(enc, 39, 1), v40 = regenerate_as(enc, 40, 1);
    const size_t real = keepalive_verdicts(cap.records);
    ASSERT_GT(real, 100u);
    EXPECT_LT(keepalive_verdicts(v39), real / 10);
    EXPECT_GT(keepalive_verdicts(v40), real * 3 / 4);
    EXPECT_LE(keepalive_verdicts(v40), real * 5 / 4);
    // Each 300 s piece of the connection drew its windows anew before format 40.
    EXPECT_LE(window_updates(cap.records), 5u);
    EXPECT_GT(window_updates(v39), real / 2);
    EXPECT_LE(window_updates(v40), 5u);
}
