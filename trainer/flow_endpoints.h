// Who a generated flow runs between: the hosts (ranked, or from the unranked pool), ports and
// TCP stacks its tokens name, put right by the rules formats 9 to 63 added (a group address
// only receives, where from format 63 a .255 that sent is no group; TCP runs between two
// unicast hosts; a port keeps its protocols and its side of TCP; a well-known UDP port sits
// on its host; an ICMP error comes from its kind's sender; IGMP goes to the chunk's groups).
// Each rule applies to sides of its format and later only.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"
#include "trainer/igmp_messages.h"
#include "trainer/rng.h"
#include "trainer/synth_endpoint.h"
#include "trainer/unranked_hosts.h"

namespace dgc::trainer {

class FlowEndpoints {
public:
    // Per flow: `udp_answer` from pick_udp_answers, `icmp_kind` from assign_icmp_kinds.
    // `ranked`, `udp_answer`, `icmp_kind` and `igmp` outlive this.
    FlowEndpoints(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed, const RankedAddresses& ranked,
                  const std::vector<int8_t>& udp_answer, const std::vector<int>& icmp_kind, const IgmpSender& igmp);
    // Flow `fi`'s client (ep[0]) and server. Called in flow order: the unranked pool and the
    // quota of TCP flows between two low ports are given out as flows come. `rng` is the
    // flow's own stream; its draws here come before the generator's others for the flow.
    // Returns whether the flow is an ICMP error sent from its kind's sender (format 38).
    bool choose(size_t fi, Rng& rng, Endpoint (&ep)[2]);

private:
    // Ranked host `slot`'s address, link address, TTL/TOS and TCP stack, for an endpoint.
    void use_slot(Endpoint& e, int slot) const;

    const ChunkSide& side_;
    const std::vector<FlowTokens>& flows_;
    const uint64_t seed_;
    const std::vector<std::array<uint8_t, 16>>& slot_addr_;
    const std::vector<std::array<uint8_t, 6>>& slot_mac_;
    const std::vector<int8_t>& udp_answer_;
    const std::vector<int>& icmp_kind_;
    const IgmpSender& igmp_;
    UnrankedHosts unranked_;
    const std::vector<std::array<int32_t, 2>> pool_pick_;
    const TcpStack* opening_stack_ = nullptr;  // the chunk's commonest opening stack
    std::vector<uint32_t> opening_w_;  // format 7: stacks a host without an opening stack of its own draws from
    bool draw_opening_ = false;
    uint32_t low_port_flows_left_;
};

}  // namespace dgc::trainer
