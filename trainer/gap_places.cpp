#include "trainer/gap_places.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "codec/fidelity/binning.h"
#include "trainer/flow_timing.h"
#include "trainer/rng.h"

namespace dgc::trainer {
namespace {

constexpr int kMeanLevels = 256, kSpreadLevels = 255;
// The standard deviation of a place drawn uniformly over the whole class.
const double kUniformSd = 1.0 / std::sqrt(12.0);

// The class index into GapPlaces of a dtbin key, or -1 when it is not placed.
int placed_index(int dt_class) {
    const int i = dt_class - kPlacedGapFirstClass;
    return i >= 0 && i < kPlacedGapClasses ? i : -1;
}

// The logs of the class [lo, hi]'s edges, its upper edge exclusive.
std::pair<double, double> log_edges(int64_t lo, int64_t hi) {
    return {std::log(static_cast<double>(lo)), std::log(static_cast<double>(hi) + 1)};
}

}  // namespace

void PlaceTally::add(int64_t v, int64_t lo, int64_t hi) {
    const auto [l, h] = log_edges(lo, hi);
    const double u = std::clamp((std::log(static_cast<double>(v)) - l) / (h - l), 0.0, 1.0);
    sum_ += u, sq_ += u * u, ++n_;
}

GapPlace PlaceTally::place() const {
    if (!n_) return {};
    const double mean = sum_ / n_, sd = std::sqrt(std::max(0.0, sq_ / n_ - mean * mean));
    return {static_cast<uint8_t>(std::clamp(static_cast<int>(mean * kMeanLevels), 0, kMeanLevels - 1)),
            static_cast<uint8_t>(std::clamp(static_cast<int>(std::lround(sd / kUniformSd * kSpreadLevels)), 1, kSpreadLevels))};
}

int64_t draw_at_place(const GapPlace& place, uint64_t random, int64_t lo, int64_t hi) {
    const double mean = (place.mean + 0.5) / kMeanLevels, width = static_cast<double>(place.spread) / kSpreadLevels;
    const double v = unit_interval(random);  // as sample_dt reads its draw
    const double u = std::clamp(mean + width * (v - 0.5), 0.0, 1.0);
    const auto [l, h] = log_edges(lo, hi);
    return std::clamp<int64_t>(static_cast<int64_t>(std::exp(l + u * (h - l))), lo, hi);
}

GapPlaces measure_gap_places(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows) {
    std::array<PlaceTally, kPlacedGapClasses> tally;
    for (const Flow& f : flows)
        for (size_t j = 1; j < f.packets.size(); ++j) {
            const int64_t gap = chunk[f.packets[j]].t_ns - chunk[f.packets[j - 1]].t_ns;
            const int c = static_cast<int>(fidelity::dtbin_key(gap));
            const int i = placed_index(c);
            if (i < 0) continue;
            const auto [lo, hi] = dt_class_bounds(c);
            tally[i].add(gap, lo, hi);
        }
    GapPlaces out{};
    for (int i = 0; i < kPlacedGapClasses; ++i) out[i] = tally[i].place();
    return out;
}

bool gap_places_valid(std::span<const GapPlace> places) {
    return std::all_of(places.begin(), places.end(), [](const GapPlace& p) { return p.spread != 0 || p.mean == 0; });
}

int64_t sample_placed_dt(int dt_class, uint64_t random, const GapPlaces& places) {
    const int i = placed_index(dt_class);
    if (i < 0 || places[i].spread == 0) return sample_dt(dt_class, random);
    const auto [lo, hi] = dt_class_bounds(dt_class);
    return draw_at_place(places[i], random, lo, hi);
}

}  // namespace dgc::trainer
