// The hosts a chunk did not rank, as the generator stands them in: a pool of exactly
// side.other_hosts addresses (as in format 5), each of a class drawn from the unranked hosts'
// class mix, in one of that class's subnets, on the link or behind a gateway's MAC as often
// as the chunk's were, with a TTL and a TCP stack drawn from the chunk's.
#pragma once

#include <cstdint>
#include <vector>

#include "trainer/chunk_tokens.h"
#include "trainer/rng.h"
#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

class UnrankedHosts {
public:
    UnrankedHosts(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed);
    // The pool entry for the next unranked end a flow needs: a fresh one while the pool has
    // fresh ones to give (at the share the ends still to come leave), else one already given.
    uint64_t next_index();
    // Pool entry `idx` as an end of IP version `version`: its address, MAC, TTL, TOS, stack.
    void fill(uint64_t idx, uint8_t version, Endpoint& e) const;

private:
    const ChunkSide& side_;
    uint64_t seed_;
    std::vector<uint32_t> ttl_w_, stack_w_, gateway_w_;
    uint64_t left_ = 0, fresh_left_ = 0, used_ = 0;
    Rng rng_;
};

}  // namespace dgc::trainer
