// Format 35: each ranked port's UDP flows at the server's end are stored, and the flow model's
// server ports are brought to them. An untrained net draws ports almost uniformly: the
// counts below come from the side, not from the weights.
#include <gtest/gtest.h>

#include <map>
#include <numeric>

#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/model.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

bool udp(const ChunkSide& side, const FlowTokens& f) { return proto_of(side, f).ports && proto_of(side, f).proto != 6; }

// Drawn UDP flows per server-port token: the ranked ports by rank, every unranked bucket as -1.
std::map<int, int64_t> served(const std::vector<FlowTokens>& flows, const ChunkSide& side) {
    std::map<int, int64_t> n;
    for (const FlowTokens& f : flows)
        if (udp(side, f)) ++n[f.a[kAttrSrvPort] < kPortRanks ? f.a[kAttrSrvPort] : -1];
    return n;
}

std::map<int, int64_t> stored(const ChunkSide& side, uint64_t ported) {
    std::map<int, int64_t> n;
    for (size_t k = 0; k < side.udp_port_flows.size(); ++k)
        if (side.udp_port_flows[k]) n[static_cast<int>(k)] = side.udp_port_flows[k];
    const uint64_t ranked = std::accumulate(side.udp_port_flows.begin(), side.udp_port_flows.end(), uint64_t{0});
    if (ported > ranked) n[-1] = static_cast<int64_t>(ported - ranked);
    return n;
}

uint64_t udp_flows(const EncodedChunk& enc) {
    uint64_t n = 0;
    for (const FlowTokens& f : enc.flows) n += udp(enc.side, f);
    return n;
}

}  // namespace

TEST(ServiceCounts, CountsEachRankedPortsFlowsAndRoundTrips) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(enc.side.udp_port_flows.size(), enc.side.ports.size());
    const auto real = served(enc.flows, enc.side);
    EXPECT_EQ(stored(enc.side, udp_flows(enc)), real);
    // DNS and DHCP, the two services the hub asks its router for, both counted.
    const auto rank = [&](uint16_t port) {
        return static_cast<int>(std::find(enc.side.ports.begin(), enc.side.ports.end(), port) - enc.side.ports.begin());
    };
    ASSERT_TRUE(real.contains(rank(53)) && real.contains(rank(67)));

    const std::string bytes = serialize_side(enc.side);
    auto back = parse_side(bytes, "test");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->udp_port_flows, enc.side.udp_port_flows);
    // Format 34's side is the same less the block: one varint per ranked port.
    ChunkSide old = enc.side;
    old.format = 34;
    const std::string old_bytes = serialize_side(old);
    EXPECT_GE(bytes.size(), old_bytes.size() + enc.side.ports.size());
    auto old_back = parse_side(old_bytes, "test", 34);
    ASSERT_TRUE(old_back.ok()) << old_back.status().message();
    EXPECT_TRUE(old_back->udp_port_flows.empty());

    // More flows served than the chunk has is corrupt, not a quota to draw within.
    ChunkSide bad = enc.side;
    bad.udp_port_flows[0] = static_cast<uint32_t>(bad.flows() + 1);
    auto refused = parse_side(serialize_side(bad), "chunk-3");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("chunk-3"), std::string::npos);
}

TEST(ServiceCounts, FormatThirtyFiveDrawsEachServicesFlowsAsTheChunkHadThem) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const ParamSet untrained = fit_keyframe({}, FitOptions{}).params;
    const auto real = served(enc.flows, enc.side);

    ChunkSide v34 = enc.side;
    v34.format = 34;
    const SampledTokens old = sample_tokens(untrained, nullptr, 0, v34, 5);
    EXPECT_NE(served(old.flows, v34), real);

    const SampledTokens now = sample_tokens(untrained, nullptr, 0, enc.side, 5);
    EXPECT_EQ(served(now.flows, enc.side), real);
    // No ranked port serves UDP where it did not in the chunk, and TCP flows keep their draws.
    size_t tcp = 0, kept = 0;
    for (size_t i = 0; i < now.flows.size(); ++i) {
        const FlowTokens& f = now.flows[i];
        const int k = f.a[kAttrSrvPort];
        if (udp(enc.side, f) && k < static_cast<int>(enc.side.ports.size())) {
            EXPECT_TRUE(enc.side.port_protos[k] & kPortProtoUdp) << "port " << enc.side.ports[k];
        }
        if (proto_of(enc.side, f).proto == 6) ++tcp, kept += f.a[kAttrSrvPort] == old.flows[i].a[kAttrSrvPort];
    }
    EXPECT_GT(tcp, 1000u);
    EXPECT_EQ(kept, tcp);
}
