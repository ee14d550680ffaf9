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
// `tail_share` is the share of the chunk's port fields whose value is outside the ranked
// ports: full ranks give that share of their bytes up to the port pool, because a port value
// the pool stores exactly is worth more than weights that can only guess it. The gap/length
// adapter stays whenever it fits: without it the joint metrics of small chunks fall apart.
inline int lora_rank_for(uint64_t packets, double tail_share = 0) {
    const double bytes = 0.4 * static_cast<double>(packets) - 700.0;
    const double ranks = bytes * (1.0 - std::clamp(tail_share, 0.0, 1.0)) / 1500.0;
    if (ranks >= 1.0) return std::min(static_cast<int>(ranks), 4);
    return bytes >= 400.0 ? kTimeSizeOnlyRank1 : 0;
}

// What a chunk's blob may grow to with its port pool (exact tail port values), per packet:
// under the 0.5 B/packet target with room for the container's own framing.
inline constexpr double kPoolFillBytesPerPacket = 0.49;
inline uint64_t pool_fill_bytes(uint64_t packets) {
    return static_cast<uint64_t>(kPoolFillBytesPerPacket * static_cast<double>(packets));
}

inline constexpr size_t kParentSampleFlows = 256;
// A parent whose loss is this far off (nats per packet) teaches nothing: train from scratch.
inline constexpr double kParentMaxLoss = 60.0;

}  // namespace dgc::trainer
