// The spec's binning helpers (../shared/spec/fidelity.md, "Binning helpers"), integers only
// so that every implementation puts every sample in the same bin.
#pragma once

#include <array>
#include <cstdint>

namespace dgc::fidelity {

// 0 for 0, else 1 + floor(log2 x).
inline uint64_t log2bin(uint64_t x) { return x == 0 ? 0 : 64 - static_cast<uint64_t>(__builtin_clzll(x)); }

inline constexpr int kDtMinK = -70;
inline constexpr int kDtMaxK = 30;
inline constexpr int kDtEdges = kDtMaxK - kDtMinK + 1;  // 101

// E[k] = llround(10^(9 + k/10)) ns for k = -70..30, index k + 70.
const std::array<int64_t, kDtEdges>& dt_edges();

// dtbin as a histogram key: 0 for "zero", else k + 71 (1..101) where k is the largest
// k with E[k] <= d (k = -70 below E[-70]). d must be >= 0.
uint64_t dtbin_key(int64_t d);
// The k a non-zero key stands for (key - 71); for labels.
inline int dtbin_k(uint64_t key) { return static_cast<int>(key) - 71; }

// floor(t / 1e9), toward minus infinity.
inline int64_t window_of(int64_t t_ns) {
    int64_t q = t_ns / 1'000'000'000;
    if (t_ns % 1'000'000'000 < 0) --q;
    return q;
}

// floor(100 (start - t0) / (t1 - t0)) clamped to 0..99; 0 when t1 == t0. 128-bit
// intermediate: 100 x a span of years does not fit in 64 bits.
inline uint64_t flow_start_bin(int64_t start, int64_t t0, int64_t t1) {
    if (t1 == t0) return 0;
    const __int128 num = static_cast<__int128>(100) * (static_cast<__int128>(start) - t0);
    const __int128 den = static_cast<__int128>(t1) - t0;
    __int128 q = num / den;
    if ((num % den != 0) && ((num < 0) != (den < 0))) --q;
    if (q < 0) return 0;
    if (q > 99) return 99;
    return static_cast<uint64_t>(q);
}

inline uint64_t len_bin(uint32_t ip_len) { return ip_len / 16; }

// Two bins packed into one key for the joint histograms.
inline uint64_t pair_key(uint64_t hi, uint64_t lo) { return (hi << 32) | (lo & 0xffffffffULL); }

}  // namespace dgc::fidelity
