#pragma once

#include <chrono>
#include <cstdint>

namespace dgc::fs {
// Wall-clock time in integer ns: the unit of every time the catalog stores.
inline int64_t wall_clock_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
// Monotonic time in integer ns: for intervals (rates), which a wall-clock step must not bend.
inline int64_t steady_clock_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace dgc::fs
