// Format 35: the flow model draws each flow's server port freely, then the fewest, likeliest
// changes bring each ranked port's UDP flows to the chunk's count (ChunkSide::udp_port_flows).
// The model decides which flow is which service; the chunk decides how many of each.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

// `weights` is row-major, one row of `slots` integer draw weights per flow (draw_weight of
// the model's probability; 0 where the flow may not take the slot), `at[i]` the slot flow i
// drew (-1: a flow the counts do not cover), `counts` each slot's count, adding up to the
// covered flows. A slot over its count gives flows to slots under theirs: of every (flow,
// slot under its count) pair, the highest weight ratio of the new slot to the drawn one moves
// first (ties: the earlier flow, then the lower slot), each flow at most once, while both
// slots still need it. A flow in a slot of weight 0 for it counts for none and moves first
// (its ratio's denominator is 1). Returns the slot each flow ends in; a pair the model gives
// no weight never moves, so counts it cannot meet stay unmet.
std::vector<int> meet_slot_counts(std::span<const uint32_t> weights, size_t slots, std::vector<int> at,
                                  std::span<const int64_t> counts);

// The server-port column of one chunk's sampling: `note` each flow with ports as it is drawn
// (its protocol, the column's probabilities, the token drawn; TCP flows are left as drawn),
// then `meet` the chunk's counts. Slots are the ranked ports, then the unranked buckets
// together (a flow moved there takes the bucket the model gave most weight); a ranked port
// only for a protocol it served (format 17). Inactive (every call a no-op) for another
// column, below format 35, for a side without the counts, or where the counts add up to more
// than the UDP flows.
class ServerPortCounts {
public:
    ServerPortCounts(const ChunkSide& side, bool server_port_column);
    void note(int64_t flow, uint8_t proto, std::span<const float> probs, int drawn);
    void meet(std::vector<FlowTokens>& flows, std::vector<int64_t>& chosen) const;

private:
    const ChunkSide& side_;
    const size_t slots_;
    const bool active_;
    // Per UDP flow noted, in order: its index, slots_ draw weights, the slot drawn and its
    // likeliest unranked bucket's token.
    std::vector<int64_t> flow_;
    std::vector<uint32_t> weights_;
    std::vector<int> at_;
    std::vector<uint8_t> unranked_;
};

}  // namespace dgc::trainer
