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

// Adapter rank: each rank cost about 1.5 kB stored at 8 bits (zstd over ~1,340 values,
// measured); the chunk may spend about 0.4 B/packet on weights after ~0.7 kB of head
// biases. Deltas are now stored at 5 bits and the port pool takes what that saves; taking
// ranks away for the pool as well measured worse (isp-fragtest 17-mean 0.060 against 0.027
// with the ranks kept).
// Below one full rank, a rank-1 adapter on the packet model's gap, length and direction
// heads alone (kTimeSizeOnly + 1 in torch_nets.h; 424 values) when that fits.
// The weights get what the chunk's side information (`side_bytes`, zstd-compressed)
// leaves of 0.49 B/packet: format 6's semantics cost a small chunk about 0.1 B/packet,
// and the chunk must stay within 0.5 B/packet.
inline constexpr int kTimeSizeOnlyRank1 = 17;
inline int lora_rank_for(uint64_t packets, uint64_t side_bytes) {
    const double bytes = 0.49 * static_cast<double>(packets) - static_cast<double>(side_bytes) - 700.0;
    if (bytes >= 400.0 && bytes < 1500.0) return kTimeSizeOnlyRank1;
    return std::clamp(static_cast<int>(bytes / 1500.0), 0, 4);
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
