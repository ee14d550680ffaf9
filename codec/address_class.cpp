#include "codec/address_class.h"

#include <algorithm>

namespace dgc {

namespace {

constexpr uint64_t kSubnetKey = 0x5B1E7C0DE9A4F213ULL;
constexpr uint64_t kMacKey = 0x3AC0FFEE1D2B4E57ULL;

uint64_t mix(uint64_t x) {
    x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27, x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t hash_bytes(uint64_t key, const uint8_t* p, int n) {
    uint64_t h = mix(key ^ static_cast<uint64_t>(n));
    for (int i = 0; i < n; ++i) h = mix(h ^ (static_cast<uint64_t>(p[i]) << ((i % 8) * 8)));
    return h;
}

// First octets a synthetic public /24 may start with: unicast, not private, shared,
// loopback, link-local, benchmarking or documentation space.
constexpr bool public_first_octet(int a) {
    return a >= 1 && a <= 223 && a != 10 && a != 100 && a != 127 && a != 169 && a != 172 && a != 192 && a != 198 &&
           a != 203;
}

// An IPv4 address in RFC 6052's well-known prefix, 64:ff9b::/96, as a NAT64 gateway's
// clients on an IPv6-only network reach IPv4 hosts (nDPI's reddit trace: 903 of its 1,942
// packets).
bool nat64(const uint8_t* a) {
    static constexpr uint8_t kPrefix[12] = {0x00, 0x64, 0xff, 0x9b};
    return std::equal(a, a + 12, kPrefix);
}

}  // namespace

std::string_view addr_class_name(AddrClass c) {
    static constexpr std::string_view kNames[] = {
        "public",   "private-10", "private-172", "private-192", "shared",     "loopback",  "link-local", "multicast",
        "broadcast", "unspecified", "v6-global", "v6-ula",     "v6-link-local", "v6-multicast", "v6-loopback",
        "v6-unspecified", "v6-nat64"};
    const auto i = static_cast<size_t>(c);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

AddrClass classify_address(uint8_t v, const uint8_t* a) {
    if (v == 4) {
        if (a[0] == 10) return AddrClass::kPrivate10;
        if (a[0] == 172 && (a[1] & 0xf0) == 16) return AddrClass::kPrivate172;
        if (a[0] == 192 && a[1] == 168) return AddrClass::kPrivate192;
        if (a[0] == 100 && (a[1] & 0xc0) == 64) return AddrClass::kShared4;
        if (a[0] == 127) return AddrClass::kLoopback4;
        if (a[0] == 169 && a[1] == 254) return AddrClass::kLinkLocal4;
        if ((a[0] & 0xf0) == 224) return AddrClass::kMulticast4;
        if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255) return AddrClass::kBroadcast4;
        if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0) return AddrClass::kUnspecified4;
        return AddrClass::kPublic4;
    }
    if (a[0] == 0xff) return AddrClass::kMulticast6;
    if ((a[0] & 0xfe) == 0xfc) return AddrClass::kUla6;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return AddrClass::kLinkLocal6;
    if (nat64(a)) return AddrClass::kNat64_6;
    const bool zero15 = std::all_of(a, a + 15, [](uint8_t b) { return b == 0; });
    if (zero15 && a[15] == 1) return AddrClass::kLoopback6;
    if (zero15 && a[15] == 0) return AddrClass::kUnspecified6;
    return AddrClass::kGlobal6;
}

bool addr_class_is_exact(AddrClass c) {
    switch (c) {
        case AddrClass::kLoopback4: case AddrClass::kMulticast4: case AddrClass::kBroadcast4:
        case AddrClass::kUnspecified4: case AddrClass::kMulticast6: case AddrClass::kLoopback6:
        case AddrClass::kUnspecified6:
            return true;
        default:
            return false;
    }
}

HostKind host_kind_of(uint8_t v, const uint8_t* a) {
    if (v != 4 || addr_class_is_exact(classify_address(v, a))) return HostKind::kHost;
    if (a[3] == 255) return HostKind::kSubnetBroadcast;
    if (a[3] == 0) return HostKind::kSubnetNetwork;
    return HostKind::kHost;
}

uint16_t subnet_id_of(uint8_t v, const uint8_t* a) {
    if (v == 6 && nat64(a)) return subnet_id_of(4, a + 12);  // the /24 of the IPv4 host it reaches
    return static_cast<uint16_t>(hash_bytes(kSubnetKey ^ v, a, v == 4 ? 3 : 8) >> 48);
}

std::array<uint8_t, 16> synth_address_of(AddrClass c, uint16_t subnet, uint64_t host, HostKind kind) {
    std::array<uint8_t, 16> a{};
    const uint8_t s_hi = static_cast<uint8_t>(subnet >> 8), s_lo = static_cast<uint8_t>(subnet);
    const uint64_t h = mix(host ^ 0x4057ULL);
    auto host_byte = [&] {
        return kind == HostKind::kSubnetBroadcast ? uint8_t{255}
               : kind == HostKind::kSubnetNetwork ? uint8_t{0}
                                                  : static_cast<uint8_t>(1 + h % 254);
    };
    auto v6_iid = [&] {
        for (int i = 8; i < 16; ++i) a[i] = static_cast<uint8_t>(h >> (8 * (i - 8)));
        if (std::all_of(a.begin() + 8, a.end(), [](uint8_t b) { return b == 0; })) a[15] = 1;
    };
    switch (c) {
        case AddrClass::kPrivate10: a = {10, s_hi, s_lo, host_byte()}; break;
        case AddrClass::kPrivate172: a = {172, static_cast<uint8_t>(16 + (s_hi & 15)), s_lo, host_byte()}; break;
        case AddrClass::kPrivate192: a = {192, 168, s_lo, host_byte()}; break;
        case AddrClass::kShared4: a = {100, static_cast<uint8_t>(64 + (s_hi & 63)), s_lo, host_byte()}; break;
        case AddrClass::kLinkLocal4: a = {169, 254, static_cast<uint8_t>(1 + subnet % 254), host_byte()}; break;
        case AddrClass::kPublic4: {
            // 16 bits name a /24: the first octet walks the public ones, the rest spread.
            int first = 1 + static_cast<int>(mix(subnet) % 223);
            while (!public_first_octet(first)) first = first % 223 + 1;
            a = {static_cast<uint8_t>(first), s_hi, s_lo, host_byte()};
            break;
        }
        case AddrClass::kUla6:
            a[0] = 0xfd, a[1] = 0x5e, a[2] = 0xc0, a[3] = 0xde, a[6] = s_hi, a[7] = s_lo;
            v6_iid();
            break;
        case AddrClass::kLinkLocal6:
            a[0] = 0xfe, a[1] = 0x80;
            v6_iid();
            break;
        case AddrClass::kNat64_6: {
            // The prefix and a public IPv4 host of the subnet's synthetic /24.
            const auto v4 = synth_address_of(AddrClass::kPublic4, subnet, host, kind);
            a[1] = 0x64, a[2] = 0xff, a[3] = 0x9b;
            std::copy(v4.begin(), v4.begin() + 4, a.begin() + 12);
            break;
        }
        case AddrClass::kGlobal6:
            // Global unicast (2000::/3, outside the documentation prefixes) with the subnet in
            // bits 32-47: one real /64 stays one synthetic /64.
            a[0] = 0x2a, a[1] = 0x0e, a[2] = 0x5e, a[3] = 0xed, a[4] = s_hi, a[5] = s_lo;
            v6_iid();
            break;
        default: {
            // Exact classes are the caller's; a well-formed stand-in of the same class.
            a = {192, 0, 2, host_byte()};  // TEST-NET-1
            break;
        }
    }
    return a;
}

std::array<uint8_t, 6> synth_mac(uint16_t mac_id) {
    const uint64_t h = mix(kMacKey ^ mac_id);
    return {0x02, static_cast<uint8_t>(h), static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h >> 16),
            static_cast<uint8_t>(h >> 24), static_cast<uint8_t>(h >> 32)};
}

bool group_mac(uint8_t v, const uint8_t* d, std::array<uint8_t, 6>& mac) {
    const AddrClass c = classify_address(v, d);
    if (c == AddrClass::kBroadcast4 || host_kind_of(v, d) == HostKind::kSubnetBroadcast) {
        mac.fill(0xff);
        return true;
    }
    if (c == AddrClass::kMulticast4) {
        mac = {0x01, 0x00, 0x5e, static_cast<uint8_t>(d[1] & 0x7f), d[2], d[3]};
        return true;
    }
    if (c == AddrClass::kMulticast6) {
        mac = {0x33, 0x33, d[12], d[13], d[14], d[15]};
        return true;
    }
    return false;
}

uint16_t mac_id_of(const std::array<uint8_t, 6>& mac) {
    return static_cast<uint16_t>(hash_bytes(kMacKey, mac.data(), 6) >> 48);
}

}  // namespace dgc
