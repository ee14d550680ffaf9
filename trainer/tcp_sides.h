// Small TCP arithmetic the generator's connection walks share. Pure. (The yardstick in
// codec/fidelity keeps its own on purpose: it must not share the generator's mistakes.)
#pragma once

#include <cstdint>

#include "codec/flows.h"
#include "codec/record.h"

namespace dgc::trainer {

// Sequence number `a` comes after `b`, with 32-bit wraparound.
inline bool seq_after(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }

// The segment comes from its 4-tuple key's first (smaller) endpoint.
inline bool from_key_a(const PacketRecord& r, const FlowKey& key) { return r.src == key.a && r.sport == key.port_a; }

}  // namespace dgc::trainer
