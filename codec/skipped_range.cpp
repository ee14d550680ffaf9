#include "codec/skipped_range.h"

#include <cinttypes>
#include <cstdio>

namespace dgc {

uint64_t skipped_bytes(const std::vector<SkippedRange>& ranges) {
    uint64_t n = 0;
    for (const auto& r : ranges) n += r.end - r.begin;
    return n;
}

std::string describe_skipped(const std::vector<SkippedRange>& ranges) {
    if (ranges.empty()) return "none";
    constexpr size_t kListed = 8;  // an xattr value and a status line stay one readable line
    std::string s = std::to_string(ranges.size()) + (ranges.size() == 1 ? " range, " : " ranges, ") +
                    std::to_string(skipped_bytes(ranges)) + " bytes at ";
    for (size_t i = 0; i < ranges.size() && i < kListed; ++i) {
        char hex[24];
        std::snprintf(hex, sizeof hex, "0x%" PRIx64, ranges[i].begin);
        s += (i ? ", " : "") + std::string(hex);
    }
    if (ranges.size() > kListed) s += ", …";
    return s;
}

}  // namespace dgc
