// Format 33: an ICMP error answers a packet the chunk regenerated. Up to format 32 an error
// quoted nothing (its frame ended after the ICMP header) and the flow model drew its two
// hosts by rank: ultraloq's hub sent port unreachables to its MQTT server and the server to
// the hub, where the real hub sent them to its router about DNS answers that came after it
// had given up (32 errors about 8 answers; argus, which keys an error on the flow it
// quotes, saw 8 records, regenerated 2). Pure; applied after the chunk's records are in
// time order.
#pragma once

#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

// Of its sender's recent packets (the latest kQuoteLookBack), the one an error quotes.
inline constexpr size_t kQuoteLookBack = 64;

// In time order, each ICMP error quotes a packet of its own (codec/icmp_quote.h): a port
// unreachable the latest UDP datagram sent to its sender that no error quoted yet (to a
// client's port, 1024 and up, before a service's; among those, from its receiver first), and
// goes back to that datagram's sender (addresses and link addresses); any other error (a router's
// host unreachable, a time exceeded) the latest packet its receiver sent to another host
// that none quoted. The quoted packet's source is a unicast address. An error with nothing
// to quote stays as it was; one longer than its header and the whole quoted packet is cut
// to that.
void quote_offending_packets(std::vector<PacketRecord>& records);

}  // namespace dgc::trainer
