// The fidelity yardstick of ../shared/spec/fidelity.md as a library: the trainer and the
// filesystem's fidelity gate call evaluate()/floor() per chunk; `dgcctl eval` prints them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codec/fidelity/profile.h"
#include "codec/record.h"

namespace dgc::fidelity {

// JSD per metric (nullopt = undefined: no samples on either side) and the means over
// the defined ones (nullopt when none is defined).
struct MetricSet {
    std::array<std::optional<double>, kMetricCount> metrics{};
    std::optional<double> average;
    std::array<std::optional<double>, kJointCount> joint{};
    std::optional<double> joint_average;
};

struct PacketCounts {
    uint64_t ip = 0;
    uint64_t nonip = 0;
};

struct FidelityReport {
    MetricSet score;
    PacketCounts real;
    PacketCounts synthetic;
    // Share of synthetic flows whose key is the key of some real flow; nullopt without
    // synthetic flows.
    std::optional<double> replay;
};

// Mean of the defined values; nullopt when none is.
std::optional<double> mean_defined(std::span<const std::optional<double>> values);

MetricSet compare(const TraceProfile& real, const TraceProfile& synth);
std::optional<double> replay_share(const TraceProfile& real, const TraceProfile& synth);
FidelityReport evaluate(const TraceProfile& real, const TraceProfile& synth);
FidelityReport evaluate(std::span<const PacketRecord> real, std::span<const PacketRecord> synth);

// The floor: REAL's IP packets split in two by a fixed hash of their flow key (a whole
// key, hence every flow of it, goes to one half). Non-IP records are dropped.
struct FlowHashSplit {
    std::vector<PacketRecord> first;
    std::vector<PacketRecord> second;
};
FlowHashSplit split_by_flow_hash(std::span<const PacketRecord> real);
// Which half a key goes to (the top bit of flow_key_hash).
bool second_half(const FlowKey& key);

// evaluate(first half, second half): `real`/`synthetic` hold the halves' packet counts.
FidelityReport floor(std::span<const PacketRecord> real);

}  // namespace dgc::fidelity
