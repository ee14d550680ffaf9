#include "codec/checksum.h"

#include "codec/byte_order.h"

namespace dgc {

uint64_t checksum_add(uint64_t sum, const uint8_t* p, size_t n) {
    size_t i = 0;
    for (; i + 1 < n; i += 2) sum += load_be16(p + i);
    if (i < n) sum += static_cast<uint64_t>(p[i]) << 8;
    return sum;
}

uint16_t checksum_finish(uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xffff);
}

uint64_t pseudo_header_sum(int ip_version, const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t length) {
    const size_t alen = ip_version == 6 ? 16 : 4;
    uint64_t sum = checksum_add(0, src, alen);
    sum = checksum_add(sum, dst, alen);
    sum += proto;
    sum += length >> 16;
    sum += length & 0xffff;
    return sum;
}

}  // namespace dgc
