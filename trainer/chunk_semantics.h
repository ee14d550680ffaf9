// Format-6 side information: what hosts, stacks, lengths and ICMP look like in a chunk
// (see ChunkSide), measured from its records. Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "codec/flows.h"
#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// A host as encode_chunk keys it: the IP version byte, then its address bytes (an IPv4
// address zero-padded). A fixed-size array, not a string: encoding looks a host up several
// times a packet, and 17 bytes are past a string's inline buffer (a heap block each).
using HostKey = std::array<uint8_t, 17>;
HostKey host_key(const PacketRecord& r, bool src);

// Fills side.host_sem (one per key of `ranked`, in order), stacks, other_classes (from the
// keys of `others`), gateway_macs, icmp, len_modes and (format 8) len_modes2.
void encode_semantics(std::span<const PacketRecord> chunk, const std::vector<HostKey>& ranked,
                      const std::vector<HostKey>& others, ChunkSide& side);

// The per-flow counts of format 6 (side.unanswered_syns, endings, answered_udp, continued,
// midstream_*, tcp_loss, first_flag_flows, group_sizes) and format 8 (tcp_fates), once enc's flows and packet tokens
// are encoded (`flows` are the chunk's, in enc.flows order).
void count_flow_semantics(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows, EncodedChunk& enc);

// Format 7's side.port_partners: ranked ports whose UDP flows (three or more) had one ranked
// port at their other end nine times in ten, as (rank, partner rank).
std::vector<std::pair<uint8_t, uint8_t>> udp_port_partners(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                                           const std::vector<uint16_t>& ports);

// The byte len_modes keeps for one length class from its exact values' counts (`base`: the
// class's first length): the commonest value's offset and its share in 15ths, or 0 when no
// value holds a third of the class and a few packets.
uint8_t len_mode(const std::map<uint32_t, uint64_t>& counts, uint32_t base);

// An exact ip_len for a packet of length class `c`: the class's most common value with its
// share, (format 8) else its second value with its share of the rest, else uniform over the
// class (`u1`, `u2`: uniform random words).
uint32_t exact_len(const ChunkSide& side, int c, uint64_t u1, uint64_t u2);

}  // namespace dgc::trainer
