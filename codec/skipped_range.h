// Byte ranges of a capture that no record could be read from (damage the reader
// resynchronised past, or a tail it could not), and how they are shown to people.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dgc {

// [begin, end) in the original file's bytes.
struct SkippedRange {
    uint64_t begin = 0;
    uint64_t end = 0;
    bool operator==(const SkippedRange&) const = default;
};

uint64_t skipped_bytes(const std::vector<SkippedRange>& ranges);

// "1 range, 4096 bytes at 0x5d4a0" / "2 ranges, 4100 bytes at 0x5d4a0, 0x8c000";
// "none" for no ranges. At most 8 offsets are listed, then "…".
std::string describe_skipped(const std::vector<SkippedRange>& ranges);

}  // namespace dgc
