// Format 65 (trainer/gap_places.h): a gap of a second or more is drawn where the chunk's gaps
// of its class sat.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "codec/fidelity/binning.h"
#include "codec/flows.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_timing.h"
#include "trainer/gap_places.h"

namespace dgc::trainer {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Gaps within the flows to or from TCP port `port` that fall in dtbin class `dt_class`.
std::vector<int64_t> gaps_in_class(std::span<const PacketRecord> recs, uint16_t port, int dt_class) {
    std::vector<int64_t> out;
    for (const Flow& f : assemble_flows(recs)) {
        if (f.key.proto != 6 || (f.key.port_a != port && f.key.port_b != port)) continue;
        for (size_t j = 1; j < f.packets.size(); ++j) {
            const int64_t gap = recs[f.packets[j]].t_ns - recs[f.packets[j - 1]].t_ns;
            if (static_cast<int>(fidelity::dtbin_key(gap)) == dt_class) out.push_back(gap);
        }
    }
    return out;
}

// Silences of `lo_s` to `hi_s` seconds between consecutive packets of a TCP 4-tuple on `port`.
size_t silences_between(std::span<const PacketRecord> recs, uint16_t port, double lo_s, double hi_s) {
    std::map<FlowKey, int64_t> last;  // 4-tuple -> its last packet
    size_t n = 0;
    for (const PacketRecord& r : recs) {
        if (r.proto != 6 || !r.has_ports() || (r.sport != port && r.dport != port)) continue;
        auto [it, fresh] = last.try_emplace(flow_key_of(r), r.t_ns);
        if (!fresh) {
            const double gap = static_cast<double>(r.t_ns - it->second) / 1e9;
            n += gap > lo_s && gap < hi_s;
            it->second = r.t_ns;
        }
    }
    return n;
}

double median_seconds(std::vector<int64_t> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return static_cast<double>(v[v.size() / 2]) / 1e9;
}

double share_between(const std::vector<int64_t>& v, double lo_s, double hi_s) {
    const auto n = std::count_if(v.begin(), v.end(), [&](int64_t g) { return g > lo_s * 1e9 && g < hi_s * 1e9; });
    return v.empty() ? 0 : static_cast<double>(n) / static_cast<double>(v.size());
}

TEST(GapPlaces, MeasuredPerClassAndDrawnThere) {
    // One flow: an exchange every 59.5 s (class [50.1 s, 63.1 s)), gaps of 2.0 s between
    // its two halves (class [2.0 s, 2.5 s), near its lower edge).
    std::vector<PacketRecord> recs;
    for (int k = 0; k < 20; ++k) {
        push_at(recs, k * 61.5, lan_record(6, 1, 40000, 2, 1883, 52));
        push_at(recs, k * 61.5 + 2.0, lan_record(6, 2, 1883, 1, 40000, 52));
    }
    const GapPlaces places = measure_gap_places(recs, assemble_flows(recs));
    const int keepalive = static_cast<int>(fidelity::dtbin_key(int64_t{59'500'000'000}));
    const int half = static_cast<int>(fidelity::dtbin_key(2 * kSecond));
    std::map<int, GapPlace> set;
    for (int i = 0; i < kPlacedGapClasses; ++i)
        if (places[i].spread) set[kPlacedGapFirstClass + i] = places[i];
    ASSERT_EQ(set.size(), 2u);
    // 59.5 s sits at 0.745 of its class (190 of 256), 2.0 s at 0.010 (2); every gap alike:
    // the narrowest spread.
    EXPECT_EQ(set.at(keepalive), (GapPlace{190, 1}));
    EXPECT_EQ(set.at(half), (GapPlace{2, 1}));
    EXPECT_TRUE(gap_places_valid(places));

    for (uint64_t r : {uint64_t{0}, uint64_t{1} << 63, ~uint64_t{0}, uint64_t{0x123456789abcdef}}) {
        const int64_t g = sample_placed_dt(keepalive, r, places);
        EXPECT_GT(g, int64_t{59'400'000'000}) << r;
        EXPECT_LT(g, int64_t{59'600'000'000}) << r;
        // A class the chunk has no gap in, or below a second, draws as format 64 did.
        EXPECT_EQ(sample_placed_dt(keepalive - 1, r, places), sample_dt(keepalive - 1, r));
        EXPECT_EQ(sample_placed_dt(kPlacedGapFirstClass - 1, r, places), sample_dt(kPlacedGapFirstClass - 1, r));
        EXPECT_EQ(sample_placed_dt(kPlacedGapFirstClass - 1, r, GapPlaces{}), sample_dt(kPlacedGapFirstClass - 1, r));
    }

    GapPlaces bad = places;
    bad[keepalive - kPlacedGapFirstClass].spread = 0;  // a place without its spread
    EXPECT_FALSE(gap_places_valid(bad));
}

// lockly's hub sends an MQTT keep-alive every 59.6 s; drawn log-uniformly inside their class
// the regenerated gaps came every 56 s, and each piece of the connection ran ahead of the
// start bucket of the next.
TEST(GapPlaces, FormatSixtyFiveKeepsLocklysKeepAlivePace) {
    Capture cap = load_dev_capture("IoT-Dataset__lockly-hub-01.pcap", 20000);
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    const int keepalive = static_cast<int>(fidelity::dtbin_key(int64_t{59'500'000'000}));
    const std::vector<int64_t> real = gaps_in_class(cap.records, 1883, keepalive);
    ASSERT_GT(real.size(), 1000u);
    ASSERT_NEAR(median_seconds(real), 59.6, 0.1);
    ASSERT_GT(share_between(real, 59.0, 60.1), 0.95);
    const std::vector<int64_t> v64 = gaps_in_class(regenerate_as(enc, 64), 1883, keepalive);
    const std::vector<int64_t> v65 = gaps_in_class(regenerate_as(enc, 65), 1883, keepalive);
    EXPECT_LT(median_seconds(v64), 57.0) << "format 64 drew them log-uniformly in their class";
    EXPECT_LT(share_between(v64, 59.0, 60.1), 0.4);
    EXPECT_NEAR(median_seconds(v65), 59.6, 0.3);
    // A piece that starts behind its drawn time is still cut to the low end of its class
    // (format 24's rule, which format 65 keeps).
    EXPECT_GT(share_between(v65, 59.0, 60.1), 0.7);

    expect_read_back_from(enc.side, 65, [](const ChunkSide& s) { return s.gap_places; });
    ChunkSide bad = enc.side;
    bad.gap_places[keepalive - kPlacedGapFirstClass].spread = 0;
    EXPECT_FALSE(read_back_as(bad, 65).ok()) << "a place without its spread";
}

// sifely's hub speaks on TCP port 9999 every 10 to 240 s: its connection's silences past the
// 60 s split fall in two octave classes, 65.5 to 131 s and 131 to 262 s, and format 65 drew
// them uniformly there, the longer up to 322 s between two of the hub's messages.
TEST(GapPlaces, FormatSixtySixKeepsSifelysSilencesUnderFourMinutes) {
    Capture cap = load_dev_capture("IoT-Dataset__sifely-hub-01.pcap");
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    const int longer = cont_gap_class(150 * kSecond);
    ASSERT_NE(enc.side.cont_places[longer].spread, 0);
    ASSERT_EQ(enc.side.cont_places[0], GapPlace{});
    auto over = [](std::span<const PacketRecord> recs) { return silences_between(recs, 9999, 250, 330); };
    const size_t real = over(cap.records), v65 = over(regenerate_as(enc, 65)), v66 = over(regenerate_as(enc, 66));
    EXPECT_LT(real, 10u);  // 0 on the whole week, regenerated from its own tokens: 453 and 2
    EXPECT_GT(v65, 100u);
    EXPECT_LT(v66, 20u);

    expect_read_back_from(enc.side, 66, [](const ChunkSide& s) { return s.cont_places; });
    ChunkSide bad = enc.side;
    bad.cont_places[0] = {10, 3};
    EXPECT_FALSE(read_back_as(bad, 66).ok()) << "a place for the silences under 16 ms";
    bad.cont_places[0] = {};
    bad.cont_places[longer].spread = 0;
    EXPECT_FALSE(read_back_as(bad, 66).ok()) << "a place without its spread";
}

}  // namespace
}  // namespace dgc::trainer
