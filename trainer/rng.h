// Deterministic, platform-independent randomness for generation: splitmix64 plus integer
// helpers, so the same blob gives byte-identical output on every run.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

namespace dgc::trainer {

inline uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// A probability as an integer weight for a draw: std::llround(p * 2^24), without the libm
// call (it was a tenth of regeneration's time). x = p * 2^24 carries p's 24 significant
// bits, so for 2^-5 <= x < 2^52 x + 0.5 is exact and truncating it rounds half away from
// zero as llround does; below 2^-5 both give 0. NaN, infinities and negatives keep
// llround's answer.
inline uint64_t draw_weight(float p) {
    const double x = static_cast<double>(p) * (1 << 24);
    if (x >= 0 && x < 0x1p52) return static_cast<uint64_t>(static_cast<int64_t>(x + 0.5));
    return static_cast<uint64_t>(std::llround(x));
}

// One draw as a double uniform in [0, 1): its top 53 bits over 2^53.
inline double unit_interval(uint64_t random) { return static_cast<double>(random >> 11) / 9007199254740992.0; }

class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() { return mix64(s_++ * 0x2545f4914f6cdd1dULL); }
    // Uniform in [0, n), n > 0.
    uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
    // Uniform in [lo, hi] inclusive.
    int64_t between(int64_t lo, int64_t hi) {
        return hi <= lo ? lo : lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
    }
    // Index drawn with probability weights[i] / sum (integer weights; all-zero picks 0).
    size_t pick(std::span<const uint32_t> weights) {
        uint64_t total = 0;
        for (uint32_t w : weights) total += w;
        if (total == 0) return 0;
        uint64_t x = below(total);
        for (size_t i = 0; i < weights.size(); ++i) {
            if (x < weights[i]) return i;
            x -= weights[i];
        }
        return weights.size() - 1;
    }

private:
    uint64_t s_;
};

}  // namespace dgc::trainer
