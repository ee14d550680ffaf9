// Which end of its TCP connection a segment comes from. Pure; formats 40 and 41 count by it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

// Per record: 0 from the client, the side that sent its 4-tuple's first segment when that
// was a SYN without ACK, else the side with the higher port (an ephemeral port against a
// service's); 1 from the server; -1 for a record that is no TCP segment with ports.
std::vector<int8_t> tcp_segment_ends(std::span<const PacketRecord> records);

}  // namespace dgc::trainer
