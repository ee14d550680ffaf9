// Format 37: who sends a chunk's ARP frames to whom. Format 23 draws an ARP frame's two
// hosts from the chunk's on-link hosts, busier ones more often, so a regenerated LAN has its
// router ask the hub, probe for its own address from 0.0.0.0 and be answered: ultraloq's week
// came back with 134 requests and probes from the router and 62 replies from the hub, where in
// the real week the hub does all the asking (193 requests, 87 of them sent to the router's MAC
// rather than broadcast, as Linux refreshes an entry) and the router only answers. The side
// stores the commonest (kind, sender, target) combinations of ranked hosts with their frames
// and how many went to one MAC; the generator draws each frame's hosts from them.
// Pure: the encoder counts, append_nonip_frames applies.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/record.h"
#include "trainer/rng.h"

namespace dgc::trainer {

enum ArpKind : uint8_t { kArpRequest = 0, kArpReply = 1, kArpProbe = 2, kArpAnnouncement = 3, kArpKinds = 4 };

struct ArpRole {
    uint8_t kind = kArpRequest;
    // Ranked host slots. A request's sender asks for its target; a reply's sender answers its
    // target; a probe's sender is the host whose address it asks for (the frame comes from
    // 0.0.0.0), an announcement's the host announcing: for these two, target = sender.
    uint8_t sender = 0, target = 0;
    uint32_t frames = 0;
    uint32_t unicast = 0;  // of them, sent to one MAC rather than to Ethernet broadcast
    bool operator==(const ArpRole&) const = default;
};
inline constexpr size_t kArpRoles = 8;

// The kind of an ARP frame (`r.arp_op`, sender address in src, target in dst), or kArpKinds
// for an opcode that is neither request nor reply.
ArpKind arp_kind(const PacketRecord& r);

// The kArpRoles commonest combinations of the chunk's ARP frames whose hosts are ranked
// (`slot_of(ipv4)`, -1 for an unranked one), most frames first (ties: kind, sender, target).
std::vector<ArpRole> count_arp_roles(std::span<const PacketRecord> chunk,
                                     const std::function<int(const std::array<uint8_t, 16>&)>& slot_of);

// Draws a frame's role among those of `kind`. `frames_of_kind` is the chunk's count of that
// kind; frames the roles do not cover weigh as one more choice, for which it returns null
// (the caller draws the hosts as format 23 does).
const ArpRole* draw_arp_role(std::span<const ArpRole> roles, ArpKind kind, uint64_t frames_of_kind, Rng& rng);

}  // namespace dgc::trainer
