// Per-epoch series of a capture for longitudinal analysis (issue 12 item 5, the design's
// first use case): packets, bytes, distinct sources and distinct source-destination pairs
// per fixed epoch, and how well a regenerated capture's series follow the real one's
// (Pearson correlation). Pure arithmetic: `dgcctl series` and the tests call it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::fidelity {

struct EpochSeries {
    std::vector<double> packets, bytes, sources, pairs;
};

// Epoch of time t on the grid starting at t0 with `epoch_ns` epochs, or -1 before t0.
int64_t epoch_of(int64_t t, int64_t t0, int64_t epoch_ns);

// `epochs` epochs of `epoch_ns` from t0. Packets and bytes (on the wire) count every record;
// sources (IP source addresses) and pairs (directed source-destination address pairs)
// count IP records. Records outside the grid are left out.
EpochSeries epoch_series(std::span<const PacketRecord> records, int64_t t0, int64_t epoch_ns, size_t epochs);

// Pearson's r; none when either series is constant (or shorter than 2).
std::optional<double> pearson(std::span<const double> a, std::span<const double> b);

}  // namespace dgc::fidelity
