// Small field rules of the record generator (synth_records.cpp): link header lengths, a
// port token's port, ICMP replies and minimum lengths. Pure; their arithmetic is pinned by
// the golden fixtures.
#pragma once

#include <cstdint>
#include <vector>

#include "trainer/chunk_tokens.h"
#include "trainer/rng.h"

namespace dgc::trainer {

// Bytes of link header before the IP header, per output link type.
uint32_t link_header_len(uint32_t linktype);

// A flow's port token: a ranked port, a port in a 4096-port bucket, else an ephemeral port.
uint16_t port_of(int token, const std::vector<uint16_t>& ranked, Rng& rng);

// Reply type of an ICMP request that has one (echo, timestamp, router and neighbour
// solicitation), else -1.
int icmp_reply_of(uint8_t proto, uint8_t type);
// The request type an ICMP reply answers, else -1 (icmp_reply_of turned round).
int icmp_request_of(uint8_t proto, uint8_t type);

// A ranked port of one of the chunk's fixed UDP pairings (format 7's port_partners).
bool udp_partner_port(const ChunkSide& side, uint16_t port);

// Format 29's DNS header flags: a recursive query, and its answer (recursion available, no
// error).
inline constexpr uint16_t kDnsQueryFlags = 0x0100, kDnsResponseFlags = 0x8180;

// Format 29: a UDP datagram to or from port 53 with room for one carries a DNS header with
// the flow's `id` (argus pairs a question with its answer by it; a headers-only capture had
// none): an answer from port 53, or between two 53s from the flow's responder.
void set_dns_header(PacketRecord& r, bool from_responder, uint16_t id);

// Bytes an ICMP message of this type needs on the wire (the frame captures its first 8):
// a neighbour solicitation without its target address is malformed, not truncated.
uint32_t icmp_min_len(uint8_t proto, uint8_t type);

}  // namespace dgc::trainer
