// Format 38: an ICMP error comes from the host that sends that kind of error, and goes to a
// host. The flow model draws an ICMP flow's two hosts by rank like any flow's: sifely's week
// came back with its router sending time-exceeded errors to 224.0.0.1 and its hub port
// unreachables to 255.255.255.255, where in the real week two ISP routers behind the gateway
// send every time exceeded (to the hub, about its packets to public hosts) and the hub every
// port unreachable (to its router). RFC 1122 3.2.2: no error goes to a group address. The
// side stores, per ICMP error kind of the chunk, the ranked host that sent nine in ten of its
// packets; the generator sends the kind's flows from it, always to a unicast host.
// Format 39: and the host that received nine in ten, where the flow goes. Tinba's gateway
// tells its client 1,483 times that a network is unreachable; format 38 sent those errors
// from the gateway to the client's public DNS server, the flow model's other host.
// Format 67: and where the flow model drew the kind's receiver as the flow's first host and
// the chunk names no sender (one a ranked host did not send nine in ten of), the flow goes
// the other way round. gnutella's VM is told by its unranked NAT gateway that two hosts are
// unreachable, and by four peers that a port is: format 66 had the VM send both kinds, to
// a peer, with nothing of the peer's to quote.
// Pure: the encoder counts, synthesize_records applies.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/icmp_quote.h"
#include "codec/record.h"
#include "trainer/host_slots.h"
#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

inline constexpr uint8_t kNoIcmpSender = kNoSlot;

struct IcmpErrorHosts {
    std::vector<uint8_t> senders, receivers;  // per ICMP kind, a ranked host or kNoIcmpSender
};

// Per entry of `kinds` (the chunk's ICMP kinds), the ranked host (`slot_of(record, src)`: the
// slot of its source or destination, -1 for an unranked one) that sent nine in ten of that
// kind's packets, at least two of them, and the one that received nine in ten;
// kNoIcmpSender for a kind that is no error or has no such host.
IcmpErrorHosts count_icmp_error_hosts(std::span<const PacketRecord> chunk, std::span<const IcmpKind> kinds,
                                      const std::function<int(const PacketRecord&, bool)>& slot_of);

// Applies the rules to an ICMP flow's Endpoints (`kind`: its index in side.icmp, -1 for none):
// for an error kind, ep[0] becomes the kind's sender where the side names one of the flow's
// IP version; ep[1] its receiver where the side names one (format 39) of that version whose
// address is not ep[0]'s; then, where ep[1] is a group or unspecified address or ep[0]'s, the
// busiest ranked unicast host of that version that is not ep[0]; format 67: where ep[0] is the
// named receiver and no sender is named, the two ends swap (ep[0], where it is then a group,
// unspecified or ep[1]'s address, the busiest ranked unicast host that is not ep[1]). `slot_addr` holds the ranked
// hosts' synthetic addresses, `use_slot` makes an end a ranked host. Returns whether the kind
// is an error: then every packet of the flow goes from ep[0] (an error is not answered).
bool send_icmp_error(const ChunkSide& side, int kind, uint8_t ip_version, const std::vector<std::array<uint8_t, 16>>& slot_addr,
                     Endpoint (&ep)[2], const std::function<void(Endpoint&, int)>& use_slot);

}  // namespace dgc::trainer
