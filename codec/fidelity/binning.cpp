#include "codec/fidelity/binning.h"

#include <algorithm>
#include <cmath>

namespace dgc::fidelity {

const std::array<int64_t, kDtEdges>& dt_edges() {
    static const std::array<int64_t, kDtEdges> edges = [] {
        std::array<int64_t, kDtEdges> e{};
        for (int k = kDtMinK; k <= kDtMaxK; ++k)
            e[k - kDtMinK] = std::llround(std::pow(10.0, (90 + k) / 10.0));
        return e;
    }();
    return edges;
}

uint64_t dtbin_key(int64_t d) {
    if (d == 0) return 0;
    const auto& e = dt_edges();
    // First edge greater than d; the one before it is the largest E[k] <= d.
    const auto it = std::upper_bound(e.begin(), e.end(), d);
    const int idx = it == e.begin() ? 0 : static_cast<int>(it - e.begin()) - 1;
    return static_cast<uint64_t>(idx) + 1;
}

}  // namespace dgc::fidelity
