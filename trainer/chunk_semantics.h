// Format-6 side information: what hosts, stacks, lengths and ICMP look like in a chunk
// (see ChunkSide), measured from its records. Torch-free.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "codec/flows.h"
#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// A host as encode_chunk keys it: the IP version byte, then its address bytes.
std::string host_key(const PacketRecord& r, bool src);

// Fills side.host_sem (one per key of `ranked`, in order), stacks, other_classes (from the
// keys of `others`), gateway_macs, icmp and len_modes.
void encode_semantics(std::span<const PacketRecord> chunk, const std::vector<std::string>& ranked,
                      const std::vector<std::string>& others, ChunkSide& side);

// The per-flow counts of format 6 (side.unanswered_syns, endings, answered_udp, continued,
// midstream_*, tcp_loss, first_flag_flows, group_sizes), once enc's flows and packet tokens
// are encoded (`flows` are the chunk's, in enc.flows order).
void count_flow_semantics(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows, EncodedChunk& enc);

// Format 7's side.port_partners: ranked ports whose UDP flows (three or more) had one ranked
// port at their other end nine times in ten, as (rank, partner rank).
std::vector<std::pair<uint8_t, uint8_t>> udp_port_partners(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                                           const std::vector<uint16_t>& ports);

// An exact ip_len for a packet of length class `c`: the class's most common value with its
// share, else uniform over the class (`u1`, `u2`: uniform random words).
uint32_t exact_len(const ChunkSide& side, int c, uint64_t u1, uint64_t u2);

}  // namespace dgc::trainer
