// Unaligned loads/stores in a named byte order. Capture files come in both orders and
// frames are network order; memcpy keeps these free of alignment and aliasing UB.
#pragma once

#include <cstdint>
#include <cstring>

namespace dgc {

inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}
inline uint16_t load_le16(const uint8_t* p) { return static_cast<uint16_t>(p[1] << 8 | p[0]); }
inline uint32_t load_le32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline uint16_t load16(const uint8_t* p, bool big_endian) { return big_endian ? load_be16(p) : load_le16(p); }
inline uint32_t load32(const uint8_t* p, bool big_endian) { return big_endian ? load_be32(p) : load_le32(p); }
inline uint64_t load64(const uint8_t* p, bool big_endian) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return big_endian ? __builtin_bswap64(v) : v;
}

inline void store_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
    v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
}
inline void store_le16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void store_le32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "byte_order.h assumes a little-endian host");

}  // namespace dgc
