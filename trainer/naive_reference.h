// The benchmark's naive reference: every field of every packet drawn independently from the
// chunk's own marginals (no model). Lands near the floor on marginal metrics and far from it
// on joint ones; a generative model must beat it on the joint metrics.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

std::vector<PacketRecord> naive_reference(std::span<const PacketRecord> chunk, uint64_t seed);

}  // namespace dgc::trainer
