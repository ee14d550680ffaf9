#include "codec/timestamp.h"

#include <limits>

namespace dgc {
namespace {
using i128 = __int128;
using u128 = unsigned __int128;

u128 pow10_u128(unsigned n) {
    u128 v = 1;
    for (unsigned i = 0; i < n; ++i) v *= 10;
    return v;
}

int64_t saturate(i128 v) {
    if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
    if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(v);
}
}  // namespace

std::optional<TsResolution> decode_tsresol(uint8_t byte) {
    TsResolution r;
    r.binary = (byte & 0x80) != 0;
    r.exponent = byte & 0x7f;
    if (r.binary ? r.exponent > 63 : r.exponent > 19) return std::nullopt;
    return r;
}

int64_t pcapng_ts_to_ns(uint64_t ticks, TsResolution res, int64_t offset_sec) {
    u128 ns;
    if (res.binary) {
        // ticks·10⁹ < 2^94: exact in 128 bits; add half a tick before the shift to round.
        const u128 scaled = static_cast<u128>(ticks) * 1'000'000'000u;
        ns = res.exponent == 0 ? scaled : (scaled + (static_cast<u128>(1) << (res.exponent - 1))) >> res.exponent;
    } else if (res.exponent <= 9) {
        ns = static_cast<u128>(ticks) * pow10_u128(9 - res.exponent);
    } else {
        const u128 div = pow10_u128(res.exponent - 9u);
        ns = (static_cast<u128>(ticks) + div / 2) / div;
    }
    return saturate(static_cast<i128>(ns) + static_cast<i128>(offset_sec) * 1'000'000'000);
}

uint64_t ticks_per_second(TsResolution res) {
    if (res.binary) return uint64_t{1} << res.exponent;
    return static_cast<uint64_t>(pow10_u128(res.exponent));
}

}  // namespace dgc
