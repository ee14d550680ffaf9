// An ICMP error quotes the packet that caused it: the IP header and the first 8 bytes after
// it (RFC 792; RFC 4443 for ICMPv6, which quotes as much as fits, of which a headers-only
// capture keeps the same IPv6 header and 8 bytes). Pure: what the synthesizer writes
// (frame_synth.cpp, the quoted IP header as that packet's own), the parser reads, and the
// generator builds from the records it made.
#pragma once

#include <cstdint>

#include "codec/record.h"

namespace dgc {

// An ICMP error (IPv4 types 3, 4, 5, 11, 12; ICMPv6 types below 128): it carries a quote.
bool icmp_is_error(const PacketRecord& r);
// The same for a message of `type` over IP protocol `proto` (1: ICMP, 58: ICMPv6).
bool icmp_type_is_error(uint8_t proto, uint8_t type);
// Port unreachable (IPv4 type 3 code 3, ICMPv6 type 1 code 4): a host with no socket on the
// port a datagram came to.
bool icmp_port_unreachable(const PacketRecord& r);

// Bytes of a quote after the error's 8-byte ICMP header: the quoted IP header and 8 bytes.
inline uint32_t icmp_quote_len(uint8_t ip_version) { return (ip_version == 6 ? 40u : 20u) + 8u; }
// The IP version an error of IP protocol `proto` quotes: ICMPv6 (58) quotes IPv6, ICMP
// IPv4, whatever header carries the error (ICMP over IPv6 is malformed, but a capture can
// hold it, and a record parsed from it must write back the same).
inline uint8_t icmp_quote_version(uint8_t proto) { return proto == 58 ? 6 : 4; }

// The quote an error about `r` carries: its IP header's fields and its first 8 transport
// bytes (TCP: ports and sequence number; UDP: ports, length and a zero checksum, which
// quoted headers often carry; ICMP: type, code, a zero checksum and the rest of header).
IcmpQuote quote_of(const PacketRecord& r);

// Reads a quote of `n` captured bytes at `p` (after the error's ICMP header); false when
// fewer bytes than a header and 8 were captured or the header is not of that IP version.
bool parse_icmp_quote(uint8_t ip_version, const uint8_t* p, uint32_t n, IcmpQuote& q);

}  // namespace dgc
