// A second, deliberately naive implementation of the 17 metrics, written straight from
// ../shared/spec/fidelity.md with std::map and plain loops and sharing no code with the
// library, so that agreement between the two means the library implements the spec.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "codec/record.h"

namespace dgc::reference {

std::array<std::optional<double>, 17> seventeen_metrics(const std::vector<PacketRecord>& real,
                                                        const std::vector<PacketRecord>& synth);

}  // namespace dgc::reference
