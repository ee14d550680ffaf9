// What the trainer's tests do to a real chunk's own tokens and count in the records that
// come back.
#pragma once

#include <algorithm>
#include <array>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "trainer/chunk_tokens.h"
#include "trainer/synth_records.h"

// An IPv4 record of protocol `proto` with ports, from 10.0.0.<src> to 10.0.0.<dst> (255: the
// broadcast address, 0 the unspecified one), `ip_len` bytes of IP in an Ethernet frame.
inline dgc::PacketRecord lan_record(uint8_t proto, uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint32_t ip_len) {
    dgc::PacketRecord r;
    r.ip_version = 4;
    r.proto = proto;
    r.present = dgc::kHasIp | dgc::kHasPorts;
    auto addr = [](uint8_t h) {
        return h == 255 ? std::array<uint8_t, 16>{255, 255, 255, 255} : h == 0 ? std::array<uint8_t, 16>{} : std::array<uint8_t, 16>{10, 0, 0, h};
    };
    r.src = addr(src), r.dst = addr(dst);
    r.sport = sport, r.dport = dport;
    r.ip_len = ip_len;
    r.wirelen = r.caplen = 14 + ip_len;
    return r;
}

// Appends `r` to `recs` stamped `t_s` seconds into the capture.
inline void push_at(std::vector<dgc::PacketRecord>& recs, double t_s, dgc::PacketRecord r) {
    r.t_ns = static_cast<int64_t>(t_s * 1e9);
    recs.push_back(r);
}

// `side` written as a side of `format` and read back: its own format, or an older one whose
// bytes end before the newer blocks.
inline dgc::Result<dgc::trainer::ChunkSide> read_back_as(dgc::trainer::ChunkSide side, uint8_t format) {
    side.format = format;
    return dgc::trainer::parse_side(dgc::trainer::serialize_side(side), "chunk", format);
}

// A side field `format` introduced reads back as written, and a side of the format before
// reads it as its default.
template <class Field>
void expect_read_back_from(const dgc::trainer::ChunkSide& side, uint8_t format, Field field) {
    auto back = read_back_as(side, format), before = read_back_as(side, static_cast<uint8_t>(format - 1));
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(before.ok()) << before.status().message();
    EXPECT_EQ(field(*back), field(side));
    EXPECT_EQ(field(*before), decltype(field(side)){});
}

// The chunk regenerated from its tokens as a side of `format` would regenerate it.
inline std::vector<dgc::PacketRecord> regenerate_as(const dgc::trainer::EncodedChunk& enc, uint8_t format, uint64_t seed = 3) {
    dgc::trainer::ChunkSide side = enc.side;
    side.format = format;
    return dgc::trainer::synthesize_records(side, enc.flows, enc.packets, seed);
}

// Rotates one flow attribute by `by` places among the flows of IP protocol `proto`: a flow
// model that draws it right overall but not for the right flow. Returns how many flows.
inline size_t rotate_attr(dgc::trainer::EncodedChunk& enc, uint8_t proto, int attr, size_t by) {
    std::vector<size_t> of;
    for (size_t i = 0; i < enc.flows.size(); ++i)
        if (dgc::trainer::proto_of(enc.side, enc.flows[i]).proto == proto) of.push_back(i);
    std::vector<uint8_t> values;
    for (size_t i : of) values.push_back(enc.flows[i].a[attr]);
    for (size_t k = 0; k < of.size(); ++k) enc.flows[of[k]].a[attr] = values[(k + by) % values.size()];
    return of.size();
}

// Calls `plant(flow, k)` on the k-th flow of IP version `v` and protocol `proto` (TCP and
// UDP flows with ports only): the flow model's mistakes, made on purpose. Returns how many.
template <class Plant>
size_t plant_mistakes(dgc::trainer::EncodedChunk& enc, uint8_t v, uint8_t proto, Plant plant) {
    size_t k = 0;
    for (auto& f : enc.flows) {
        const dgc::trainer::ProtoEntry& pe = dgc::trainer::proto_of(enc.side, f);
        if (pe.ip_version == v && pe.proto == proto && (pe.ports || (proto != 6 && proto != 17))) plant(f, k++);
    }
    return k;
}

// A record's two endpoints (address and port), unordered: its 4-tuple within a protocol.
inline std::string endpoint_pair_key(const dgc::PacketRecord& r) {
    std::string a(r.src.begin(), r.src.end()), b(r.dst.begin(), r.dst.end());
    a += std::to_string(r.sport), b += std::to_string(r.dport);
    return std::min(a, b) + "|" + std::max(a, b);
}

// Distinct endpoint pairs of the records of IP protocol `proto` that have the `present` bits `need`.
inline size_t endpoint_pairs(std::span<const dgc::PacketRecord> recs, uint8_t proto, uint32_t need) {
    std::set<std::string> keys;
    for (const auto& r : recs)
        if (r.proto == proto && (r.present & need)) keys.insert(endpoint_pair_key(r));
    return keys.size();
}

// Distinct unordered UDP 5-tuples of a trace.
inline size_t udp_5tuples(std::span<const dgc::PacketRecord> recs) { return endpoint_pairs(recs, 17, dgc::kHasPorts); }

// Distinct TCP 4-tuples: the connections argus and tcptrace count, give or take their idle rules.
inline size_t tcp_4tuples(std::span<const dgc::PacketRecord> recs) { return endpoint_pairs(recs, 6, dgc::kHasTcp); }
