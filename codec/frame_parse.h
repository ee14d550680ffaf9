// Header parsing: pure functions from the bytes of one captured frame to the fields of a
// PacketRecord. No allocation, no I/O; every read is bounds-checked against the captured length.
#pragma once

#include <cstdint>

#include "codec/record.h"

namespace dgc {

// DLT_RAW is 12 on most platforms and 14 on OpenBSD; both mean LINKTYPE_RAW (101) on disk.
uint32_t normalize_linktype(uint32_t linktype);

// Where the link layer of a frame ends: the L3 offset and the L3 type as an ethertype
// (0x0800 / 0x86dd for IP carried by raw, NULL/LOOP links). vlan_* describe 802.1Q/802.1ad tags.
struct LinkLayer {
    uint32_t l3_offset = 0;
    uint16_t ethertype = 0;
    uint8_t vlan_depth = 0;
    uint16_t vlan_id = 0;
    bool truncated = false;  // frame ended inside the link header or a tag
    bool known = false;      // link type is one the codec parses down to L3
};
LinkLayer parse_link(uint32_t linktype, const uint8_t* p, uint32_t caplen);

// Fills the IP and transport fields of r from an IPv4/IPv6 packet of n captured bytes.
// Returns false (and leaves r non-IP) when the bytes do not start a plausible IP header.
bool parse_ip(const uint8_t* p, uint32_t n, PacketRecord& r);

// Transport header of protocol `proto` at p (n captured bytes), for a first fragment.
void parse_transport(uint8_t proto, const uint8_t* p, uint32_t n, PacketRecord& r);

// Whole frame: every field of r except t_ns, caplen, wirelen and linktype, which the
// container owns and the caller sets. r must start default-initialised.
void parse_frame(uint32_t linktype, const uint8_t* p, uint32_t caplen, PacketRecord& r);

}  // namespace dgc
