// Format 55: a gateway that receives on one MAC and sends from another. Where a LAN's
// routers share a virtual address (VRRP, HSRP) or a bridge forwards one way only, a host
// sends to the gateway's virtual MAC while the off-link hosts' frames arrive from a router's
// own: alexa-app's Echo sends to 00:c0:ca:91:a3:ef and hears 23 of its 25 off-link peers
// from 00:c0:ca:91:5a:01. Format 6 kept one MAC a host (the commoner of the two), so the
// regenerated peers sat behind one MAC both ways and dgcctl eval's macs_per_ip failed (0.647
// against a floor of 0.005). The side stores, per gateway MAC, the other MAC its hosts'
// frames take in one direction, and per ranked host whether it takes its gateway's twin (the
// router's own address, behind the virtual MAC both ways, does not). Pure: the encoder counts,
// synthesize_records applies.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

struct GatewayTwin {
    uint8_t gateway = 0;    // index into ChunkSide::gateway_macs
    uint16_t mac = 0;       // mac_id_of the other MAC
    bool receives = false;  // frames to the gateway's hosts go to `mac`; else frames from them come from it
    bool operator==(const GatewayTwin&) const = default;
};
struct GatewayTwins {
    std::vector<GatewayTwin> twins;  // at most one a gateway, in gateway order
    // Per ranked host (empty without twins): whether its frames take its gateway's twin.
    std::vector<bool> hosts;
    bool operator==(const GatewayTwins&) const = default;
};

struct ChunkSide;

// The twins of side.gateway_macs in a chunk: a gateway's is the other MAC of the commonest
// (source MAC, destination MAC) pair that differ among the hosts seen behind it in one
// direction, where at least half of the hosts behind it and two show that pair. Reads the
// side's gateway_macs and host_sem; `slot_of`: a record's end's ranked slot, or -1.
GatewayTwins count_gateway_twins(std::span<const PacketRecord> chunk, const ChunkSide& side,
                                 const std::function<int(const PacketRecord&, bool)>& slot_of);

// Rewrites the MACs of `records`' IP frames to and from side.gateway_twins' gateways' hosts:
// every host behind a twinned gateway (its MAC is synth_mac of the gateway's id) takes the
// twin, but the ranked hosts whose bit is clear. `slot_addr`: the ranked hosts' addresses.
void use_gateway_twins(const ChunkSide& side, std::span<const std::array<uint8_t, 16>> slot_addr, std::vector<PacketRecord>& records);

}  // namespace dgc::trainer
