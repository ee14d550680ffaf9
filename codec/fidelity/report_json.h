// Machine-readable fidelity results with the key names issue 3 fixes:
// {"metrics", "average", "floor", "floor_average", "packets": {"real", "synthetic"},
//  "replay", "joint", "joint_average", "joint_floor", "joint_floor_average"}.
#pragma once

#include <nlohmann/json.hpp>

#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/semantics.h"

namespace dgc::fidelity {

// {name: value|null} for the 17 metrics / the five joint metrics; keys keep the spec's order.
nlohmann::ordered_json metrics_json(const MetricSet& m);
nlohmann::ordered_json joint_json(const MetricSet& m);

// REAL vs SYNTH with REAL's floor.
nlohmann::ordered_json eval_json(const FidelityReport& score, const FidelityReport& floor_of_real);
// REAL alone: the floor keys and REAL's packet counts only.
nlohmann::ordered_json floor_json(const FidelityReport& floor_of_real, const PacketCounts& real);

// The traffic-semantics checks (docs/semantics.md), for the top-level key "semantics":
// {"checks": {name: {"value", "floor", "pass"}}, "mean", "floor_mean", "failures"} with
// SCORE; {"checks": {name: {"floor"}}, "floor_mean"} without (REAL alone).
nlohmann::ordered_json semantics_json(const SemanticSet* score, const SemanticSet& floor_of_real);

}  // namespace dgc::fidelity
