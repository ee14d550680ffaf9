// CRC-32 as docs/format.md §2 defines it (zlib/IEEE: reflected polynomial 0xEDB88320,
// initial value and final XOR 0xFFFFFFFF), for the codec's own formats (raw frame index v2).
#pragma once

#include <cstdint>
#include <string_view>

namespace dgc {

// Continues a CRC over more bytes: crc32_update(crc32_update(0, a), b) == crc32(a + b).
uint32_t crc32_update(uint32_t crc, std::string_view data);
inline uint32_t crc32(std::string_view data) { return crc32_update(0, data); }

}  // namespace dgc
