// Capture timestamps to integer ns, exactly as ../shared/spec/fidelity.md defines them.
#pragma once

#include <cstdint>
#include <optional>

namespace dgc {

// Classic pcap: sec·10⁹ + frac·1000 (µs files) or sec·10⁹ + frac (ns files).
inline int64_t pcap_ts_to_ns(uint32_t sec, uint32_t frac, bool nanosecond) {
    return static_cast<int64_t>(sec) * 1'000'000'000 + static_cast<int64_t>(frac) * (nanosecond ? 1 : 1000);
}

// pcapng if_tsresol: bit 7 clear = 10^-n s per tick, set = 2^-n s per tick.
struct TsResolution {
    bool binary = false;
    uint8_t exponent = 6;  // the pcapng default: microseconds
};

// The if_tsresol byte, or nullopt when it names a tick no 64-bit counter can use
// (10^-n with n > 19, 2^-n with n > 63).
std::optional<TsResolution> decode_tsresol(uint8_t byte);

// Ticks since the epoch (plus the interface's if_tsoffset seconds) to ns, rounded to the
// nearest ns (halves away from zero); saturates at the int64 range for garbage input.
int64_t pcapng_ts_to_ns(uint64_t ticks, TsResolution res, int64_t offset_sec);

// Ticks per second of a resolution (2^63 at most), for reporting.
uint64_t ticks_per_second(TsResolution res);

}  // namespace dgc
