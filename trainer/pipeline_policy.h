// The knobs of train_chunk, as plain arithmetic (unit-tested): the default time budget,
// the adapter rank a chunk can afford within its byte budget, the parent-choice sample.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dgc::trainer {

// Default training time per chunk: 0.12 s per 1000 packets leaves room for encoding and
// parent choice inside the 0.2 s/1000-packet target; never below 0.3 s.
inline double default_budget_seconds(uint64_t packets) {
    return std::max(0.3, 0.12 * static_cast<double>(packets) / 1000.0);
}

// Adapter rank: each rank costs about 1.5 kB stored (int8 + zstd over ~1,340 values,
// measured); the chunk may spend about 0.4 B/packet on weights after ~0.7 kB of head
// biases (the rest of 0.5 B/packet is side information).
// Below one full rank, a rank-1 adapter on the packet model's gap and length heads alone
// (kTimeSizeOnly + 1 in torch_nets.h; 358 values, about 0.4 kB stored) when that fits.
inline constexpr int kTimeSizeOnlyRank1 = 17;
inline int lora_rank_for(uint64_t packets) {
    const double bytes = 0.4 * static_cast<double>(packets) - 700.0;
    if (bytes >= 400.0 && bytes < 1500.0) return kTimeSizeOnlyRank1;
    return std::clamp(static_cast<int>(bytes / 1500.0), 0, 4);
}

inline constexpr size_t kParentSampleFlows = 256;
// A parent whose loss is this far off (nats per packet) teaches nothing: train from scratch.
inline constexpr double kParentMaxLoss = 60.0;

}  // namespace dgc::trainer
