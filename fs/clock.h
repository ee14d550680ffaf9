#pragma once

#include <chrono>
#include <cstdint>

namespace dgc::fs {
// Wall-clock time in integer ns: the unit of every time the catalog stores.
inline int64_t wall_clock_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace dgc::fs
