// The per-epoch series of `dgcctl series` (issue 12 item 5) and their Pearson correlation.
#include <gtest/gtest.h>

#include <cmath>

#include "codec/fidelity/time_series.h"

using namespace dgc;
using namespace dgc::fidelity;

namespace {
PacketRecord ip(int64_t t, uint8_t src, uint8_t dst, uint32_t wirelen = 100) {
    PacketRecord r;
    r.t_ns = t;
    r.present = kHasIp;
    r.ip_version = 4;
    r.src[0] = 10, r.src[3] = src;
    r.dst[0] = 10, r.dst[3] = dst;
    r.wirelen = wirelen;
    return r;
}
constexpr int64_t kSec = 1'000'000'000;
}  // namespace

TEST(TimeSeries, EpochsStartAtT0) {
    EXPECT_EQ(epoch_of(100, 100, 10), 0);
    EXPECT_EQ(epoch_of(109, 100, 10), 0);
    EXPECT_EQ(epoch_of(110, 100, 10), 1);
    EXPECT_EQ(epoch_of(99, 100, 10), -1);
}

TEST(TimeSeries, CountsPacketsBytesSourcesAndPairs) {
    std::vector<PacketRecord> recs{ip(0, 1, 2), ip(1 * kSec, 1, 3, 60), ip(2 * kSec, 2, 1), ip(2 * kSec, 1, 2),
                                   ip(61 * kSec, 4, 5), ip(200 * kSec, 4, 5)};
    PacketRecord arp;  // non-IP: a packet and its bytes, no host
    arp.t_ns = 70 * kSec;
    arp.wirelen = 42;
    recs.push_back(arp);
    const EpochSeries s = epoch_series(recs, 0, 60 * kSec, 3);
    EXPECT_EQ(s.packets, (std::vector<double>{4, 2, 0}));  // the record at 200 s is past the grid
    EXPECT_EQ(s.bytes, (std::vector<double>{360, 142, 0}));
    EXPECT_EQ(s.sources, (std::vector<double>{2, 1, 0}));
    EXPECT_EQ(s.pairs, (std::vector<double>{3, 1, 0}));  // 1→2, 1→3, 2→1: directed
}

TEST(TimeSeries, PearsonOfKnownSeries) {
    const std::vector<double> a{1, 2, 3, 4}, up{2, 4, 6, 8}, down{8, 6, 4, 2}, flat{5, 5, 5, 5};
    EXPECT_NEAR(*pearson(a, up), 1.0, 1e-12);
    EXPECT_NEAR(*pearson(a, down), -1.0, 1e-12);
    EXPECT_FALSE(pearson(a, flat).has_value());
    EXPECT_FALSE(pearson(std::vector<double>{1}, std::vector<double>{2}).has_value());
    // 1,2,3 against 1,3,2: r = 0.5.
    EXPECT_NEAR(*pearson(std::vector<double>{1, 2, 3}, std::vector<double>{1, 3, 2}), 0.5, 1e-12);
}

TEST(TimeSeries, ATraceAgainstItselfAndAgainstItsOwnShuffle) {
    // A day of hourly load with a daily shape; the same packets spread evenly over the day
    // keep every total and lose the shape.
    std::vector<PacketRecord> real, flat;
    int64_t n = 0;
    for (int h = 0; h < 24; ++h)
        for (int k = 0; k < 10 + 10 * (h >= 8 && h < 18); ++k) real.push_back(ip(h * 3600 * kSec + k * kSec, static_cast<uint8_t>(k % 7), 9)), ++n;
    for (int64_t i = 0; i < n; ++i) flat.push_back(ip(i * (24 * 3600 * kSec / n), static_cast<uint8_t>(i % 7), 9));
    const EpochSeries x = epoch_series(real, 0, 3600 * kSec, 24), y = epoch_series(flat, 0, 3600 * kSec, 24);
    EXPECT_NEAR(*pearson(x.packets, x.packets), 1.0, 1e-12);
    EXPECT_LT(std::abs(pearson(x.packets, y.packets).value_or(0)), 0.5);
}
