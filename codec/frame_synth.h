// Packet synthesis: the bytes of a valid frame from a PacketRecord. The codec, not the
// model, owns protocol legality: consistent length fields, IPv4 header checksum and
// TCP/UDP/ICMP checksums over the bytes a full frame would carry.
//
// Headers-only capture: the frame's captured bytes end after the last header the record
// describes (a DNS message's first 12 bytes count as one: its id and flags, its counts 0;
// an ICMP error's quote of the packet it answers as another, where the record has one; an
// IGMP message is all header);
// the wire length (link header + ip_len) counts the payload as zeros. Zeros add
// nothing to a one's-complement sum, so checksums computed over pseudo-header + headers
// with the full length fields are the checksums of the zero-filled full packet.
//
// What a synthesized frame keeps (it parses back to the same IP-level record, ip_level()):
// every IP and transport field. What it does not keep, being link-level: caplen (headers
// only), wirelen (link header + ip_len), linktype (the output's), MAC addresses (derived
// from the IP addresses), inner VLAN ids (only the outermost id and the depth survive on
// Ethernet; raw IP output has no tags), IPv4 options and IPv6 extension headers other than
// the fragment header (their bytes become payload; IGMP's Router Alert is written, kHasIgmp),
// TCP option contents (NOPs).
#pragma once

#include <cstdint>

#include "codec/record.h"

namespace dgc {

// Output link types: Ethernet (1), raw IP (101), raw IPv4 (228), raw IPv6 (229).
bool synth_linktype_supported(uint32_t linktype);

// Where each header goes in the synthesized frame; caplen 0 means the record cannot be
// written on this link type (non-IP on raw IP, IPv6 on raw IPv4...).
struct SynthLayout {
    uint32_t link = 0;       // link header bytes (Ethernet + tags)
    uint32_t ip = 0;         // IP header bytes (IPv6: + 8 for a fragment header)
    uint32_t transport = 0;  // transport header bytes captured
    uint32_t caplen = 0;     // link + ip + transport
    uint32_t wirelen = 0;    // link + ip_len, never below caplen
    bool icmp_error = false; // the message would carry an inner IP header
};
SynthLayout synth_layout(const PacketRecord& r, uint32_t linktype);

// Bytes the TCP options of these kinds take in the layout write_tcp_options uses (before
// padding to a multiple of 4, which that layout never needs).
uint32_t tcp_options_len(uint8_t kinds, uint8_t sack_blocks);
// The options of r.tcp_opts with r's values, in `room` bytes (EOL-padded).
void write_tcp_options(const PacketRecord& r, uint8_t* out, uint32_t room);

// Upper bound of SynthLayout::caplen, for stack buffers.
inline constexpr uint32_t kMaxSynthHeaders = 256;

// Writes layout.caplen bytes of frame at out. The checksums assume the bytes after
// caplen up to wirelen are zeros.
void synthesize_headers(const PacketRecord& r, uint32_t linktype, const SynthLayout& layout, uint8_t* out);

// The record with the link-level fields a synthesized frame does not keep cleared
// (caplen, wirelen, linktype, vlan_depth, vlan_id): equal for a record and its round trip.
PacketRecord ip_level(const PacketRecord& r);

}  // namespace dgc
