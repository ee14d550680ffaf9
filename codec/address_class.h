// What an address means, not which host it is: class and scope (private, shared, public,
// loopback, link-local, multicast, broadcast; IPv6 ULA, global, link-local, multicast), the
// subnet it sits in, and synthetic addresses and MACs that keep both without revealing the
// real one. Pure arithmetic: the generator, the semantics checks and tests call it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace dgc {

enum class AddrClass : uint8_t {
    kPublic4 = 0,
    kPrivate10,       // 10/8
    kPrivate172,      // 172.16/12
    kPrivate192,      // 192.168/16
    kShared4,         // 100.64/10 (carrier-grade NAT)
    kLoopback4,       // 127/8
    kLinkLocal4,      // 169.254/16
    kMulticast4,      // 224/4
    kBroadcast4,      // 255.255.255.255
    kUnspecified4,    // 0.0.0.0
    kGlobal6,
    kUla6,            // fc00::/7
    kLinkLocal6,      // fe80::/10
    kMulticast6,      // ff00::/8
    kLoopback6,       // ::1
    kUnspecified6,    // ::
    kNat64_6,         // 64:ff9b::/96, RFC 6052's well-known NAT64 prefix (chunk side format 56 on)
    kCount
};

std::string_view addr_class_name(AddrClass c);
AddrClass classify_address(uint8_t ip_version, const uint8_t* addr);
// The IP version of a class's addresses (IPv6 classes follow the IPv4 ones).
inline uint8_t class_version(AddrClass c) { return c >= AddrClass::kGlobal6 ? 6 : 4; }

// Addresses that name a group or a role rather than a host (multicast, broadcast, loopback,
// unspecified): the generator keeps these exact; they reveal no host.
bool addr_class_is_exact(AddrClass c);

// Host part of an IPv4 unicast address under the /24 heuristic the generator and the
// checks share: 255 is the subnet's directed broadcast, 0 its network address.
enum class HostKind : uint8_t { kHost = 0, kSubnetBroadcast = 1, kSubnetNetwork = 2 };
HostKind host_kind_of(uint8_t ip_version, const uint8_t* addr);

// 16-bit keyed hash of the address's /24 (IPv4) or /64 (IPv6): hosts of one real subnet
// share it, and it does not give the subnet back.
uint16_t subnet_id_of(uint8_t ip_version, const uint8_t* addr);

// A synthetic address of class `c` in the synthetic subnet `subnet` (same id, same /24 or
// /64), with `host` choosing the host part; kind keeps a subnet's broadcast/network address.
// Exact classes are not synthesized here (the caller stores them).
std::array<uint8_t, 16> synth_address_of(AddrClass c, uint16_t subnet, uint64_t host, HostKind kind);

// Link addresses: a locally administered unicast MAC for a synthetic MAC id, and the MAC a
// frame to a multicast or broadcast IP destination carries (false when `dst` is unicast).
std::array<uint8_t, 6> synth_mac(uint16_t mac_id);
bool group_mac(uint8_t ip_version, const uint8_t* dst, std::array<uint8_t, 6>& mac);

// 16-bit keyed hash of a real MAC (the same MAC keeps the same synthetic one across chunks).
uint16_t mac_id_of(const std::array<uint8_t, 6>& mac);

}  // namespace dgc
