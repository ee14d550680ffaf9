#pragma once

#include <cstdint>
#include <string>

namespace dgc {
// Human name of a pcap LINKTYPE value ("ethernet", "linux-sll2", "ieee802_11", "linktype 147"...).
std::string linktype_name(uint32_t linktype);
// True for LINKTYPE values with a registered meaning (libpcap's table plus LINKTYPE-only
// values); a capture with any other link type is rejected as unknown.
bool linktype_recognised(uint32_t linktype);
// True for link types the codec parses down to IP (see LinkType in record.h).
bool linktype_modelable(uint32_t linktype);
}  // namespace dgc
