// Which address a synthetic endpoint gets when the flow model's host does not fit the flow:
// the classes that name a role (group, unspecified), a stand-in for an unranked host of an
// exact class, and the ranked host that takes a flow's place. Pure functions of the side.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "codec/address_class.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// 255.255.255.255.
inline constexpr std::array<uint8_t, 16> kLimitedBroadcast = {255, 255, 255, 255};

// A well-known address of an exact class, for an unranked host of that class (the stored
// exact values are for ranked hosts only). An IPv4 group address was one of 224.0.0.0/24,
// the local network control block, whose datagrams stacks send with TTL 1; a trace's many
// groups are mostly wider ones (isp-fragtest's are spread over 228/8 to 239/8, sent with TTL 61
// and 125), and tshark flags every such datagram sent to the block. From format 37
// (`side_format`) it is one of 239.255.0.0/16 (RFC 2365's local scope), where any TTL is sent.
std::array<uint8_t, 16> exact_stand_in(AddrClass c, uint64_t idx, uint8_t side_format);

// 224.0.0.0/24, the local network control block (IPv4 only), whose datagrams every stack
// sends with TTL 1 (IGMP, mDNS and LLMNR to it in the dev traces); format 38 sends them so.
bool local_control_block(uint8_t v, const std::array<uint8_t, 16>& a);

// 0.0.0.0 or ::.
bool unspecified(uint8_t v, const std::array<uint8_t, 16>& a);

// A group address: multicast, broadcast or a subnet's broadcast. It only ever receives.
bool is_group(uint8_t v, const std::array<uint8_t, 16>& a);

// The busiest ranked unicast host of IP version `v` ranked after slot `after`, or -1.
int unicast_slot(const ChunkSide& side, uint8_t v, int after = -1);
// The busiest ranked unicast host of IP version `v` whose synthetic address (`slot_addr`) is
// not `a`, or -1.
int unicast_slot_but(const ChunkSide& side, uint8_t v, const std::vector<std::array<uint8_t, 16>>& slot_addr,
                     const std::array<uint8_t, 16>& a);

// A slot index standing for no host.
inline constexpr uint8_t kNoSlot = 0xFF;
// The ranked host (slot >= 0 of `by_slot`, counts per slot; -1 counts unranked ones) that
// holds nine in ten of `total`, when `total` is at least `min_total`; else kNoSlot.
uint8_t nine_in_ten_slot(const std::map<int, uint32_t>& by_slot, uint32_t total, uint32_t min_total);

// Format 15: the first ranked host of IP version `v` with the unspecified address (0.0.0.0,
// ::), or with a group address, or -1.
int unspecified_slot(const ChunkSide& side, uint8_t v);
int group_slot(const ChunkSide& side, uint8_t v);
// Whether ranked host `slot` has a group address (what group_slot looks for).
bool group_host(const ChunkSide& side, int slot);

// The ranked hosts' synthetic addresses and MACs, by slot: class, subnet and MAC from their
// semantics; the host part from their id, so a host keeps its synthetic address across the
// chunks of a trace. Two hosts that would share an address inside the chunk are told apart
// by a different host part.
struct RankedAddresses {
    std::vector<std::array<uint8_t, 16>> addr;
    std::vector<std::array<uint8_t, 6>> mac;
};
RankedAddresses ranked_addresses(const ChunkSide& side, uint64_t seed);

// The ranked slot whose synthetic address (`slot_addr`, ranked_addresses' addr) is `a`, or -1.
int slot_of_addr(const std::vector<std::array<uint8_t, 16>>& slot_addr, const std::array<uint8_t, 16>& a);

// The first ranked host after `slot` (cyclically) whose address is of IP version `v`, or -1.
int same_version_slot(const ChunkSide& side, int slot, uint8_t v);

}  // namespace dgc::trainer
