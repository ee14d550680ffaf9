// Format 11's rules: TCP goes between two distinct unicast hosts, and between two ports
// below 1024 only as often as the chunk's own TCP flows did. Each test puts the flow model's
// mistake into a real chunk's tokens and checks that format 11 undoes it where format 10
// kept it.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "codec/address_class.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

bool tcp(const PacketRecord& r) { return r.proto == 6 && (r.present & kHasTcp) && (r.present & kHasPorts); }

bool group_dst(const PacketRecord& r) {
    const AddrClass c = classify_address(r.ip_version, r.dst.data());
    return c == AddrClass::kBroadcast4 || c == AddrClass::kMulticast4 || c == AddrClass::kMulticast6;
}

// The first ranked host whose real address is a group address (ultraloq's 255.255.255.255).
int group_slot(const ChunkSide& side) {
    for (size_t s = 0; s < side.host_sem.size(); ++s) {
        const auto c = static_cast<AddrClass>(side.host_sem[s].addr_class);
        if (c == AddrClass::kBroadcast4 || c == AddrClass::kMulticast4) return static_cast<int>(s);
    }
    return -1;
}

size_t low_port_tcp(std::span<const PacketRecord> recs) {
    size_t n = 0;
    for (const auto& r : recs) n += tcp(r) && r.sport < 1024 && r.dport < 1024;
    return n;
}

}  // namespace

TEST(TcpEndpoints, ServersOnAGroupAddressMoveToAUnicastHost) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const int slot = group_slot(enc.side);
    ASSERT_GE(slot, 0) << "the chunk has no ranked group address";
    size_t moved = 0;
    for (auto& f : enc.flows)
        if (proto_of(enc.side, f).proto == 6 && moved++ % 3 == 0) f.a[kAttrSrvHost] = static_cast<uint8_t>(slot);
    auto to_group = [](std::span<const PacketRecord> recs) {
        size_t n = 0;
        for (const auto& r : recs) n += tcp(r) && group_dst(r);
        return n;
    };
    EXPECT_EQ(to_group(cap.records), 0u);
    const auto v11 = regenerate_as(enc, kSideFormat);
    EXPECT_EQ(to_group(v11), 0u);
    EXPECT_GT(to_group(regenerate_as(enc, 10)), 500u);
    // Every TCP packet still goes between two hosts, and the chunk keeps its packet count.
    EXPECT_EQ(v11.size(), regenerate_as(enc, 10).size());
    size_t self = 0;
    for (const auto& r : v11) self += tcp(r) && r.src == r.dst;
    EXPECT_EQ(self, 0u);
}

TEST(TcpEndpoints, NoHostConnectsToItself) {
    Capture cap = load_dev_capture("PcapPlusPlus__tls2.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    for (auto& f : enc.flows)
        if (proto_of(enc.side, f).proto == 6) f.a[kAttrSrvHost] = f.a[kAttrCliHost];
    auto to_self = [](std::span<const PacketRecord> recs) {
        size_t n = 0;
        for (const auto& r : recs) n += tcp(r) && r.src == r.dst;
        return n;
    };
    EXPECT_EQ(to_self(cap.records), 0u);
    EXPECT_EQ(to_self(regenerate_as(enc, kSideFormat)), 0u);
    EXPECT_GT(to_self(regenerate_as(enc, 10)), 1000u);
}

TEST(TcpEndpoints, TwoWellKnownPortsOnlyAsOftenAsTheChunkHadThem) {
    // isp-fragtest's clients all use ephemeral ports; a flow model that draws the server's
    // port (80, ranked first) for the client too made 405 packets from 80 to 80.
    Capture cap = load_dev_capture("libtrace__isp-fragtest.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_EQ(enc.side.tcp_low_port_flows, 0u);
    EXPECT_EQ(low_port_tcp(cap.records), 0u);
    for (auto& f : enc.flows)
        if (proto_of(enc.side, f).proto == 6) f.a[kAttrCliPort] = f.a[kAttrSrvPort];
    EXPECT_EQ(low_port_tcp(regenerate_as(enc, kSideFormat)), 0u);
    EXPECT_GT(low_port_tcp(regenerate_as(enc, 10)), 1000u);

    // A chunk that had such flows (BGP between two routers) keeps that many of them.
    enc.side.tcp_low_port_flows = 5;
    std::set<std::string> kept;
    for (const auto& r : regenerate_as(enc, kSideFormat))
        if (tcp(r) && r.sport < 1024 && r.dport < 1024) kept.insert(endpoint_pair_key(r));
    EXPECT_GE(kept.size(), 1u);
    EXPECT_LE(kept.size(), 5u);
}

TEST(TcpEndpoints, TheCountIsStoredFromFormat11On) {
    Capture cap = load_dev_capture("libtrace__isp-fragtest.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    enc.side.tcp_low_port_flows = 7;
    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->tcp_low_port_flows, 7u);
    EXPECT_FALSE(parse_side(serialize_side(enc.side), "chunk 10", 10).ok());  // a format-10 reader: bytes left over
    enc.side.format = 10;
    auto old = parse_side(serialize_side(enc.side), "chunk 10", 10);
    ASSERT_TRUE(old.ok()) << old.status().message();
    EXPECT_EQ(old->tcp_low_port_flows, 0u);
}
