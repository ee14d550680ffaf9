// Internet checksum (RFC 1071): one's-complement sum of big-endian 16-bit words.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dgc {

// Adds n bytes at p to a running sum; an odd last byte counts as its high half.
// Sums of separate pieces combine only when every piece but the last has even length.
uint64_t checksum_add(uint64_t sum, const uint8_t* p, size_t n);
// Folds the carries and complements: the value to store in the checksum field.
uint16_t checksum_finish(uint64_t sum);

// TCP/UDP/ICMPv6 pseudo-header sum for IPv4 (4-byte addresses) or IPv6 (16-byte).
uint64_t pseudo_header_sum(int ip_version, const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t length);

}  // namespace dgc
