#include "codec/icmp_quote.h"

#include <cstring>

#include "codec/byte_order.h"

namespace dgc {

bool icmp_type_is_error(uint8_t proto, uint8_t type) {
    if (proto == 1) {
        switch (type) {
            case 3: case 4: case 5: case 11: case 12: return true;
            default: return false;
        }
    }
    return proto == 58 && type < 128;  // ICMPv6 errors are types 0-127
}

bool icmp_is_error(const PacketRecord& r) { return icmp_type_is_error(r.proto, r.icmp_type); }

bool icmp_port_unreachable(const PacketRecord& r) {
    return (r.proto == 1 && r.icmp_type == 3 && r.icmp_code == 3) || (r.proto == 58 && r.icmp_type == 1 && r.icmp_code == 4);
}

IcmpQuote quote_of(const PacketRecord& r) {
    IcmpQuote q;
    q.src = r.src, q.dst = r.dst;
    q.proto = r.proto, q.ttl = r.ttl, q.tos = r.tos, q.df = r.df;
    q.ip_len = static_cast<uint16_t>(r.ip_len);
    q.ip_id = r.ip_version == 4 ? static_cast<uint16_t>(r.ip_id) : 0;
    uint8_t* t = q.l4.data();
    switch (r.proto) {
        case 6:
            store_be16(t, r.sport), store_be16(t + 2, r.dport), store_be32(t + 4, r.seq);
            break;
        case 17:
            store_be16(t, r.sport), store_be16(t + 2, r.dport), store_be16(t + 4, r.udp_len);
            break;
        case 1:
        case 58:
            t[0] = r.icmp_type, t[1] = r.icmp_code, store_be32(t + 4, r.icmp_rest);
            break;
        default:
            break;
    }
    return q;
}

bool parse_icmp_quote(uint8_t ip_version, const uint8_t* p, uint32_t n, IcmpQuote& q) {
    if (n < icmp_quote_len(ip_version) || (p[0] >> 4) != ip_version) return false;
    q = {};
    uint32_t hdr = 40;
    if (ip_version == 4) {
        hdr = (p[0] & 0x0f) * 4u;
        if (hdr < 20 || n < hdr + 8) return false;
        q.tos = p[1];
        q.ip_len = load_be16(p + 2);
        q.ip_id = load_be16(p + 4);
        q.df = (p[6] & 0x40) != 0;
        q.ttl = p[8];
        q.proto = p[9];
        std::memcpy(q.src.data(), p + 12, 4);
        std::memcpy(q.dst.data(), p + 16, 4);
    } else {
        q.tos = static_cast<uint8_t>(load_be32(p) >> 20);
        q.ip_len = static_cast<uint16_t>(load_be16(p + 4) + 40);
        q.proto = p[6];
        q.ttl = p[7];
        std::memcpy(q.src.data(), p + 8, 16);
        std::memcpy(q.dst.data(), p + 24, 16);
    }
    std::memcpy(q.l4.data(), p + hdr, 8);
    return true;
}

}  // namespace dgc
