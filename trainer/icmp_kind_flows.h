// Format 64: an ICMP kind keeps the flows it opened. Up to format 63 each regenerated ICMP
// flow took a kind drawn in proportion to the kinds' packets, largest flows first, so a
// kind's flows followed its packets rather than the chunk's: Tinba's client sent 8.8.4.4
// three port unreachables minutes apart (three flows of one packet) among its gateway's
// 1,483 net unreachables (two flows), and format 59 gave the port unreachables one flow of
// one packet (argus: 1 URP record against 3); isp-fragtest's 11 host unreachables (one packet
// a flow) took its largest ICMP flows, 18 packets, and its lone echo replies (their requests
// went another way) became requests.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/flows.h"
#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// Per `kinds` entry, the chunk's ICMP and ICMPv6 flows whose first message (that carries an
// ICMP header) is of that kind, and their packets. Flows of a kind outside `kinds` (the
// encoder keeps the commonest 16) count nowhere.
std::vector<IcmpOpened> count_icmp_opened(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                          const std::vector<IcmpKind>& kinds);

// A parsed side's counts hold together: every flow has a packet, and the kinds open no more
// flows or packets than the chunk has.
bool icmp_opened_valid(const ChunkSide& side);

// The indices into side.icmp of protocol `proto`'s kinds that opened flows (side.icmp_opened).
std::vector<int> opening_kinds(const ChunkSide& side, uint8_t proto);

// Format 64's assignment, for one protocol: `kinds` from opening_kinds, `flows` the
// protocol's flows (indices into `drawn`), largest first. Each kind gets as many flows as it
// opened in the chunk (brought to flows.size() by largest remainder where the counts
// differ); each flow in turn goes to the kind with the most packets beyond one a flow still
// to place. Writes out[flows[i]].
void give_kinds_their_flows(const ChunkSide& side, const std::vector<int>& kinds, const std::vector<size_t>& flows,
                            const std::vector<FlowTokens>& drawn, std::vector<int>& out);

}  // namespace dgc::trainer
