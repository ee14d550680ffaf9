// Flow assembly exactly as ../shared/spec/fidelity.md defines it: protocol plus the
// unordered endpoint pair ({(src,sport),(dst,dport)} for TCP/UDP with ports, {src,dst}
// with ports 0 otherwise), packets sorted by t (stable), a gap > 60 s ends a flow.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc {

inline constexpr int64_t kFlowIdleTimeoutNs = 60'000'000'000;

struct FlowKey {
    uint8_t proto = 0;
    uint8_t ip_version = 0;
    std::array<uint8_t, 16> a{};  // the smaller endpoint (address, port) of the pair
    std::array<uint8_t, 16> b{};
    uint16_t port_a = 0;
    uint16_t port_b = 0;
    bool operator==(const FlowKey&) const = default;
    auto operator<=>(const FlowKey&) const = default;  // a total order, for sorted key sets
};

FlowKey flow_key_of(const PacketRecord& r);

// A fixed, well-mixed 64-bit hash of a key (same value on every platform and run):
// used for hash tables and for the fidelity floor's flow-hash split.
uint64_t flow_key_hash(const FlowKey& k);

// flow_key_hash as the hasher of an unordered container keyed by FlowKey.
struct FlowKeyHash {
    size_t operator()(const FlowKey& k) const { return static_cast<size_t>(flow_key_hash(k)); }
};

struct Flow {
    FlowKey key;
    std::vector<uint32_t> packets;  // indices into the record span, in time order
    int64_t start_ns = 0;
    int64_t end_ns = 0;
    uint64_t bytes = 0;             // sum of ip_len
};

// IP packets only; flows ordered by start time (ties: first packet's order).
std::vector<Flow> assemble_flows(std::span<const PacketRecord> records);

// Per-flow totals without the per-flow packet lists: what the fidelity metrics need,
// built in one pass with no per-flow allocation.
struct FlowSummary {
    FlowKey key;
    int64_t start_ns = 0;
    int64_t end_ns = 0;
    uint64_t packets = 0;
    uint64_t bytes = 0;            // sum of ip_len
    uint32_t key_index = 0;        // which distinct key (0.. in order of first appearance)
};

inline constexpr uint32_t kNoFlow = 0xffffffffu;

struct FlowTable {
    std::vector<uint32_t> order;     // IP record indices in time order (as time_order)
    std::vector<uint32_t> flow_of;   // per record: index into flows, kNoFlow for non-IP
    std::vector<FlowSummary> flows;  // ordered by start time (ties: first packet's order)
    uint32_t distinct_keys = 0;      // flows of one key separated by > 60 s share a key_index
};

// The same flows as assemble_flows, in the same order.
FlowTable build_flow_table(std::span<const PacketRecord> records);

// Indices of the IP records in time order (stable sort by t_ns, ties in file order).
std::vector<uint32_t> time_order(std::span<const PacketRecord> records);

}  // namespace dgc
