#include "trainer/gap_places.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "codec/fidelity/binning.h"
#include "trainer/flow_timing.h"

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

// The logs of dtbin class `dt_class`'s lower and upper edges (the edges sample_dt draws between).
std::pair<double, double> log_edges(int dt_class) {
    const auto& e = fidelity::dt_edges();
    return {std::log(static_cast<double>(e[dt_class - 1])), std::log(static_cast<double>(e[dt_class]))};
}

// Log-scale place of `gap` inside dtbin class `dt_class`.
double place_in_class(int64_t gap, int dt_class) {
    const auto [lo, hi] = log_edges(dt_class);
    return std::clamp((std::log(static_cast<double>(gap)) - lo) / (hi - lo), 0.0, 1.0);
}

}  // namespace

GapPlaces measure_gap_places(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows) {
    std::array<double, kPlacedGapClasses> sum{}, sq{};
    std::array<uint32_t, kPlacedGapClasses> n{};
    for (const Flow& f : flows)
        for (size_t j = 1; j < f.packets.size(); ++j) {
            const int64_t gap = chunk[f.packets[j]].t_ns - chunk[f.packets[j - 1]].t_ns;
            const int c = static_cast<int>(fidelity::dtbin_key(gap));
            const int i = placed_index(c);
            if (i < 0) continue;
            const double u = place_in_class(gap, c);
            sum[i] += u, sq[i] += u * u, ++n[i];
        }
    GapPlaces out{};
    for (int i = 0; i < kPlacedGapClasses; ++i) {
        if (!n[i]) continue;
        const double mean = sum[i] / n[i], sd = std::sqrt(std::max(0.0, sq[i] / n[i] - mean * mean));
        out[i].mean = static_cast<uint8_t>(std::clamp(static_cast<int>(mean * kMeanLevels), 0, kMeanLevels - 1));
        out[i].spread = static_cast<uint8_t>(std::clamp(static_cast<int>(std::lround(sd / kUniformSd * kSpreadLevels)), 1, kSpreadLevels));
    }
    return out;
}

bool gap_places_valid(const GapPlaces& places) {
    return std::all_of(places.begin(), places.end(), [](const GapPlace& p) { return p.spread != 0 || p.mean == 0; });
}

int64_t sample_placed_dt(int dt_class, uint64_t random, const GapPlaces& places) {
    const int i = placed_index(dt_class);
    if (i < 0 || places[i].spread == 0) return sample_dt(dt_class, random);
    const double mean = (places[i].mean + 0.5) / kMeanLevels, width = static_cast<double>(places[i].spread) / kSpreadLevels;
    const double v = static_cast<double>(random >> 11) / 9007199254740992.0;  // [0,1), as sample_dt reads it
    const double u = std::clamp(mean + width * (v - 0.5), 0.0, 1.0);
    const auto [lo, hi] = log_edges(dt_class);
    const auto g = static_cast<int64_t>(std::exp(lo + u * (hi - lo)));
    const auto& e = fidelity::dt_edges();
    return std::clamp<int64_t>(g, e[dt_class - 1], e[dt_class] - 1);
}

}  // namespace dgc::trainer
