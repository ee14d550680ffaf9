// Hand-made PacketRecords for the fidelity unit tests: just the fields the spec reads.
#pragma once

#include <cstdint>

#include "codec/record.h"

namespace dgc::test {

inline constexpr int64_t kSec = 1'000'000'000;
inline constexpr int64_t kMs = 1'000'000;

// IPv4 a.b.c.d given as one uint32 (0x0a000001 = 10.0.0.1).
inline PacketRecord ip4(int64_t t_ns, uint32_t src, uint32_t dst, uint8_t proto, uint32_t len) {
    PacketRecord r;
    r.t_ns = t_ns;
    r.present = kHasIp;
    r.ethertype = 0x0800;
    r.ip_version = 4;
    for (int i = 0; i < 4; ++i) {
        r.src[i] = static_cast<uint8_t>(src >> (24 - 8 * i));
        r.dst[i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
    }
    r.proto = proto;
    r.ip_len = len;
    r.ttl = 64;
    return r;
}

inline PacketRecord tcp4(int64_t t_ns, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t len,
                         uint8_t flags = 0x10) {
    PacketRecord r = ip4(t_ns, src, dst, 6, len);
    r.present |= kHasPorts | kHasTcp;
    r.sport = sport;
    r.dport = dport;
    r.tcp_flags = flags;
    return r;
}

inline PacketRecord udp4(int64_t t_ns, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t len) {
    PacketRecord r = ip4(t_ns, src, dst, 17, len);
    r.present |= kHasPorts | kHasUdp;
    r.sport = sport;
    r.dport = dport;
    return r;
}

inline PacketRecord non_ip(int64_t t_ns) {
    PacketRecord r;
    r.t_ns = t_ns;
    r.ethertype = 0x0806;
    return r;
}

}  // namespace dgc::test
