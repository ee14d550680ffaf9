// Format 62: IGMP as hosts and routers send it. Until 61 an IGMP packet (IPv4 protocol 2) was
// an IP header with nothing after it, sent to whatever hosts the flow model drew: sifely's
// hub regenerated its 57, 4 of them to the all-systems group 224.0.0.1 that all the real
// ones went to and the rest to unicast hosts and 255.255.255.255, each cut after the IP
// header (tshark: "IGMP truncated"); of wechat's 27, 16 went to mDNS's group and unicast
// hosts rather than to 224.0.0.22 and 224.0.0.1. The side now keeps which ranked groups
// received the chunk's IGMP, how often, at what IP length and, where one host sent nine in
// ten (a querier), from whom; a flow the model sends elsewhere goes to one of them, and from
// that host. Its messages follow from where they go, as a stack's do: a general query to
// 224.0.0.1 (version 3 where the length has room for its 12 bytes), a version 3 report to
// 224.0.0.22 naming the chunk's groups, a leave to 224.0.0.2, a version 2 report to the
// group it reports. All with TTL 1 and, in frame_synth, the Router Alert option. The length
// is the receiver's, not the model's: the flow model draws a length class all protocols
// share, and its exact value is the class's commonest (sifely's 40-byte TCP ACKs turned the
// hub's 32-byte messages into version 3 queries).
// Pure: the encoder counts, synthesize_records applies.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

struct IgmpDest {
    uint8_t slot = 0;       // a ranked host
    uint32_t packets = 0;   // IGMP messages it received
    uint16_t ip_len = 0;    // their commonest IP length (ties: the shortest)
    uint8_t sender = 0xFF;  // the ranked host that sent nine in ten of them (a querier), else kNoSlot (host_slots.h)
    bool operator==(const IgmpDest&) const = default;
};
inline constexpr uint16_t kIgmpMinIpLen = 28;  // IPv4 header and IGMP's 8 bytes
inline constexpr size_t kIgmpDests = 8;

// The ranked receivers (`slot_of(r, false)`: r's destination's slot, -1 unranked; `true`:
// its source's) of the chunk's IPv4 IGMP, most messages first (ties: lower slot), at most
// kIgmpDests.
std::vector<IgmpDest> count_igmp_dests(std::span<const PacketRecord> chunk, const std::function<int(const PacketRecord&, bool)>& slot_of);

// The message a stack sends to r.dst, given the groups it could report (`groups`, the
// chunk's other multicast groups, busiest first; `offset` picks where its records start)
// and r.ip_len (24 bytes of IPv4 header with Router Alert, then the message): sets r's
// kHasIgmp, type, max response code, bytes 4-7, records, ip_len and TTL (1).
// `answers_query`: reports state a group's mode (record type 2, as after a query) rather than
// change to it (4, a join).
void set_igmp_message(PacketRecord& r, std::span<const std::array<uint8_t, 16>> groups, uint64_t offset, bool answers_query);

// What a side may hold (`hosts`: its ranked hosts): each receiver and sender ranked (or no
// sender), no receiver its own sender or listed twice, most messages first, each receiver
// with a message and a length IGMP fits in.
bool igmp_dests_valid(std::span<const IgmpDest> dests, size_t hosts);

// The chunk's IGMP as the generator sends it. `dests`: the side's; `slot_addr`: the ranked
// hosts' synthetic addresses.
class IgmpSender {
public:
    IgmpSender(std::span<const IgmpDest> dests, std::span<const std::array<uint8_t, 16>> slot_addr);
    // The ranked host an IGMP flow to `dst` goes to instead (drawn by messages from
    // `stream`), or -1 where `dst` is one of the chunk's receivers or it has none.
    int receiver(const std::array<uint8_t, 16>& dst, uint64_t stream) const;
    // The ranked host that sends the chunk's IGMP to `dst` where one sent nine in ten, else -1.
    int sender(const std::array<uint8_t, 16>& dst) const;
    // Message `j` of a flow (`flow_offset` its own draw) to r.dst, at the IP length the
    // chunk's IGMP to r.dst had (r.ip_len, the model's, where it had none).
    void message(PacketRecord& r, uint64_t flow_offset, uint32_t j) const;

private:
    std::span<const IgmpDest> dests_;
    std::span<const std::array<uint8_t, 16>> slot_addr_;
    std::vector<std::array<uint8_t, 16>> groups_;  // ranked IPv4 multicast groups but IGMP's own
    bool queried_ = false;                         // the chunk has queries to all systems
};

// IGMP's own groups: all systems (224.0.0.1, queries), all routers (224.0.0.2, leaves) and
// IGMPv3's reports (224.0.0.22); no report names them.
bool igmp_control_group(const std::array<uint8_t, 16>& a);

}  // namespace dgc::trainer
