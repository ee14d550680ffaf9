// Format 46: a flow of many packets whose gaps add up to far more than its drawn duration
// class keeps their sum (flow_timing.h's trusted_duration_class). The flow model draws a
// long keep-alive piece a short class now and then; fitted to it, hours of a device's
// connection came out as a burst of minutes and left hours without it.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "codec/fidelity/binning.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_timing.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

int class_of(int64_t ns) { return static_cast<int>(fidelity::dtbin_key(ns)); }

// gaps[0] is the first packet's (0), then `n - 1` gaps of `gap` ns.
std::vector<int64_t> even_gaps(size_t n, int64_t gap) {
    std::vector<int64_t> g(n, gap);
    g[0] = 0;
    return g;
}

// TCP pieces (one 4-tuple, split where it is silent for over 60 s) of at least `packets`
// packets that last at least `seconds`.
size_t long_tcp_pieces(const std::vector<PacketRecord>& recs, size_t packets, int64_t seconds) {
    struct Piece {
        int64_t first = 0, last = 0;
        size_t n = 0;
    };
    std::map<std::string, Piece> open;
    size_t out = 0;
    auto close = [&](const Piece& p) { out += p.n >= packets && p.last - p.first >= seconds * kSecond; };
    for (const auto& r : recs) {
        if (r.proto != 6 || !r.has_ports()) continue;
        Piece& p = open[endpoint_pair_key(r)];
        if (p.n > 0 && r.t_ns - p.last > 60 * kSecond) close(p), p = Piece{};
        if (p.n == 0) p.first = r.t_ns;
        p.last = r.t_ns, ++p.n;
    }
    for (const auto& [k, p] : open) close(p);
    return out;
}

}  // namespace

TEST(FlowDurations, TheSumOfManyGapsOutweighsAClassFarBelowIt) {
    const int drawn = class_of(300 * kSecond);
    const int64_t top = dt_class_bounds(drawn).second;
    // 100 gaps of 20 s: 1,980 s, over four times the class's top.
    EXPECT_EQ(trusted_duration_class(drawn, even_gaps(100, 20 * kSecond)), class_of(1980 * kSecond));
    // Under four times its top, the drawn class stands.
    const int64_t within = (kTrustedGapRatio * top) / 99;
    EXPECT_EQ(trusted_duration_class(drawn, even_gaps(100, within)), drawn);
    // Too few gaps to say: the drawn class stands, however far off.
    EXPECT_EQ(trusted_duration_class(drawn, even_gaps(kTrustedGapPackets - 1, 60 * kSecond)), drawn);
    EXPECT_EQ(trusted_duration_class(class_of(kSecond / 1000), even_gaps(kTrustedGapPackets, 20 * kSecond)),
              class_of((kTrustedGapPackets - 1) * 20 * kSecond));
    // The open-ended top class (1,000 s and over) holds any sum.
    const int top_class = class_of(5000 * kSecond);
    EXPECT_EQ(trusted_duration_class(top_class, even_gaps(1000, 60 * kSecond)), top_class);
}

TEST(FlowDurations, ALongKeepAlivePieceDrawnShortStaysLong) {
    // lockly's hub keeps one MQTT connection, a message every 20 s: its pieces of 150 packets
    // or more each last over 1,000 s. The flow model's mistake, planted: a class of 900 s.
    Capture cap = load_dev_capture("IoT-Dataset__lockly-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const size_t own = long_tcp_pieces(regenerate_as(enc, 46), 150, 1000);  // the real classes
    size_t planted = 0;
    plant_mistakes(enc, 4, 6, [&](FlowTokens& f, size_t) {
        if (f.packets >= 150) f.a[kAttrDur] = static_cast<uint8_t>(class_of(900 * kSecond)), ++planted;
    });
    ASSERT_GT(planted, 3u);
    const size_t real = long_tcp_pieces(cap.records, 150, 1000);
    const size_t v45 = long_tcp_pieces(regenerate_as(enc, 45), 150, 1000);
    const size_t v46 = long_tcp_pieces(regenerate_as(enc, 46), 150, 1000);
    EXPECT_GE(real, planted);
    EXPECT_EQ(own, real);         // with the classes the real pieces had
    EXPECT_LT(v45, planted / 4);  // squeezed into their 900 s
    // Three in four come back; the rest (150-200 packets) add up to under four times the
    // planted class's top, where the drawn class stands.
    EXPECT_GE(4 * v46, 3 * planted);
}
