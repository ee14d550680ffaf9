// Format 8's additions: how TCP flows fare per size group and size class (unanswered,
// refused, FIN, RST), and a second exact length per length class. Pure functions first,
// then a real chunk's own tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "codec/fidelity/semantics.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_semantics.h"
#include "trainer/chunk_tokens.h"
#include "trainer/flow_choices.h"
#include "trainer/rng.h"
#include "trainer/synth_records.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

// A side with one TCP protocol and the flag ranks SYN, SYN-ACK, ACK, RST-ACK, FIN-ACK.
ChunkSide tcp_side(uint8_t format) {
    ChunkSide s;
    s.format = format;
    s.protos = {{4, 6, true}};
    s.flags = {kSyn, kSyn | kAck, kAck, kRst | kAck, kFin | kAck};
    return s;
}

// A SYN-opening flow of `n` packets whose packet model answers `replies` times with flag
// rank `reply_flag` (after the first packet) and otherwise sends ACKs from the initiator.
void add_flow(std::vector<FlowTokens>& flows, std::vector<PacketTokens>& packets, uint32_t n, uint32_t replies,
              uint8_t reply_flag = 2, uint8_t first_flag = 0) {
    FlowTokens f;
    f.a[kAttrProto] = 0;
    f.a[kAttrFirstFlag] = first_flag;
    f.a[kAttrPkts] = static_cast<uint8_t>(pkts_class(n));
    f.packets = n;
    f.first = static_cast<uint32_t>(packets.size());
    flows.push_back(f);
    for (uint32_t j = 0; j < n; ++j) {
        PacketTokens p;
        const bool reply = j >= 1 && j <= replies;
        p.dir = reply ? 1 : 0;
        p.flag = j == 0 ? first_flag : reply ? reply_flag : 2;
        packets.push_back(p);
    }
}

}  // namespace

TEST(TcpFates, LenModeKeepsAValueThatStandsOut) {
    // 66 holds 444 of 900 packets of class 64..79: offset 2, share round(444*15/900) = 7.
    std::map<uint32_t, uint64_t> c{{66, 444}, {70, 429}, {64, 27}};
    EXPECT_EQ(len_mode(c, 64), 7 << 4 | 2);
    c.erase(66);
    EXPECT_EQ(len_mode(c, 64), 14 << 4 | 6);  // 70: 429 of 456
    EXPECT_EQ(len_mode({{65, 3}}, 64), 0);    // too few packets to be worth a byte
    EXPECT_EQ(len_mode({{65, 10}, {66, 10}, {67, 10}, {68, 11}}, 64), 0);  // nothing holds a third
}

TEST(TcpFates, SecondLengthModeComesBackOnlyFromFormat8) {
    ChunkSide s = tcp_side(8);
    s.len_modes.assign(kLenClasses, 0);
    s.len_modes2.assign(kLenClasses, 0);
    s.len_modes[4] = 7 << 4 | 2;    // 66
    s.len_modes2[4] = 14 << 4 | 6;  // 70
    std::map<uint32_t, int> seen, seen7;
    for (uint64_t u = 0; u < 3000; ++u) {
        const uint64_t u1 = mix64(u * 2 + 1), u2 = mix64(u * 2 + 2);
        ++seen[exact_len(s, 4, u1, u2)];
        ChunkSide old = s;
        old.format = 7;
        ++seen7[exact_len(old, 4, u1, u2)];
    }
    // Format 8: 66 about 7/15, 70 about 14/15 of the rest; format 7 spreads the rest over 16.
    EXPECT_NEAR(seen[66] / 3000.0, 7.0 / 15 + 8.0 / 15 / 15 / 16, 0.04);
    EXPECT_NEAR(seen[70] / 3000.0, 8.0 / 15 * (14.0 / 15 + 1.0 / 15 / 16), 0.04);
    EXPECT_LT(seen7[70], 3000 / 16);
    for (auto [len, n] : seen) EXPECT_TRUE(len >= 64 && len < 80) << len;
}

TEST(TcpFates, SideRoundTrips) {
    Capture cap = load_dev_capture("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(enc.side.format, kSideFormat);
    ASSERT_FALSE(enc.side.tcp_fates.empty());
    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_EQ(back->tcp_fates.size(), enc.side.tcp_fates.size());
    for (size_t i = 0; i < back->tcp_fates.size(); ++i) {
        const auto &a = back->tcp_fates[i], &b = enc.side.tcp_fates[i];
        EXPECT_EQ(std::tie(a.group, a.size_class, a.unanswered, a.refused, a.fin, a.rst),
                  std::tie(b.group, b.size_class, b.unanswered, b.refused, b.fin, b.rst));
    }
    EXPECT_EQ(back->len_modes2, enc.side.len_modes2);
    // A format-7 reader of the same bytes finds bytes left over: the versions cannot be mixed.
    EXPECT_FALSE(parse_side(serialize_side(enc.side), "chunk 2", 7).ok());
    // The real trace's fates: 67 three-packet SYN retries, 7 refused six-packet attempts.
    uint32_t silent3 = 0, refused6 = 0, silent_other = 0;
    for (const auto& f : enc.side.tcp_fates) {
        (f.size_class == pkts_class(3) ? silent3 : silent_other) += f.unanswered;
        if (f.size_class == pkts_class(6)) refused6 += f.refused;
    }
    EXPECT_EQ(silent3, 67u);
    EXPECT_EQ(silent_other, 0u);
    EXPECT_EQ(refused6, 7u);
}

TEST(TcpFates, QuotasFollowSizeClassesNotTheModelsGuesses) {
    ChunkSide s = tcp_side(8);
    std::vector<FlowTokens> flows;
    std::vector<PacketTokens> packets;
    add_flow(flows, packets, 13, 0);     // 0: the model answered a 13-packet flow never
    add_flow(flows, packets, 3, 1);      // 1: and a 3-packet one once
    add_flow(flows, packets, 3, 2);      // 2
    add_flow(flows, packets, 6, 3, 3);   // 3: answered with RSTs
    add_flow(flows, packets, 6, 3, 3);   // 4: the same, but the chunk refused only one
    add_flow(flows, packets, 10, 4);     // 5
    const auto g = size_group(flows[0]);
    s.tcp_fates = {{g, static_cast<uint8_t>(pkts_class(3)), 2, 0, 0, 0},
                   {g, static_cast<uint8_t>(pkts_class(6)), 0, 1, 0, 0},
                   {g, static_cast<uint8_t>(pkts_class(10)), 0, 0, 1, 0},
                   {g, static_cast<uint8_t>(pkts_class(13)), 0, 0, 0, 1}};
    const TcpFlowFates fates = pick_tcp_fates(s, flows, packets);
    EXPECT_EQ(fates.opening[0], TcpOpening::kAccepted);
    EXPECT_EQ(fates.opening[1], TcpOpening::kUnanswered);
    EXPECT_EQ(fates.opening[2], TcpOpening::kUnanswered);
    EXPECT_EQ(fates.opening[3], TcpOpening::kRefused);
    EXPECT_EQ(fates.opening[4], TcpOpening::kAccepted);  // the model's RST does not refuse it
    EXPECT_EQ(fates.ending[5], TcpEnding::kFin);
    EXPECT_EQ(fates.ending[0], TcpEnding::kRst);
    EXPECT_EQ(fates.ending[4], TcpEnding::kNone);

    // The accepted flow the model answered with a RST second still gets its handshake.
    std::vector<uint8_t> dirs, fl;
    for (uint32_t j = 0; j < flows[4].packets; ++j) {
        dirs.push_back(packets[flows[4].first + j].dir);
        fl.push_back(s.flags[packets[flows[4].first + j].flag]);
    }
    const auto plan = plan_tcp_flow(dirs, fl, fates.opening[4], fates.ending[4]);
    EXPECT_EQ(plan[1].flags, kSyn | kAck);
    EXPECT_EQ(plan[2].flags, kAck);
    const auto model = plan_tcp_flow(dirs, fl);  // format 7 and before: the model refuses it
    EXPECT_EQ(model[1].flags, kRst | kAck);

    // A format-7 side takes the group counts and leaves openings to the model.
    ChunkSide old = tcp_side(7);
    old.unanswered_syns = {{g, 1}};
    const TcpFlowFates f7 = pick_tcp_fates(old, flows, packets);
    EXPECT_EQ(f7.opening[0], TcpOpening::kUnanswered);  // fewest replies, whatever its size
    EXPECT_EQ(f7.opening[4], TcpOpening::kModel);
}

TEST(TcpFates, GnutellasOwnTokensComeBackWithItsConnections) {
    // Regenerated from its own tokens, with every packet's direction guessed wrong (all
    // from the initiator, so the directions cannot tell a SYN retry from a 13-packet
    // exchange), gnutella's connections open and end as the real ones do: as many
    // unanswered and refused, and no handshake left on its own.
    Capture cap = load_dev_capture("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    for (auto& p : enc.packets) p.dir = 0;
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 3);
    auto masks = [](std::span<const PacketRecord> r) {
        std::map<int, int> m;
        for (const auto& c : fidelity::analyze_tcp(r).connections) ++m[c.completeness];
        return m;
    };
    auto real = masks(cap.records), synth = masks(recs);
    EXPECT_EQ(synth[1], real[1]);    // SYN only
    EXPECT_EQ(synth[37], real[37]);  // refused
    EXPECT_EQ(synth[7], 0);          // a handshake and nothing else: the real trace has none
    EXPECT_NEAR(synth[31], real[31], 3);
}

TEST(TcpFates, GroupQuotaHandsOutACountOrEverythingWhenOff) {
    GroupQuota q({{7, 2}}, true);
    EXPECT_TRUE(q.left(7));
    q.take(7);
    q.take(7);
    EXPECT_FALSE(q.left(7));
    EXPECT_FALSE(q.left(8));  // a group the chunk never repeated
    GroupQuota off({}, false);
    off.take(7);
    EXPECT_TRUE(off.left(7));
}


TEST(TcpFates, DnsClientsTakeFreshPortsAsOftenAsTheRealOnes) {
    // Tinba's DNS queries come from a new source port nearly every time; argus counts each
    // 5-tuple once, so a generator that reuses them merges requests (format 7: 500 one-way
    // flows in argus against 800). Every UDP flow's client port on one ranked ephemeral
    // port, as a model that collapsed onto it would draw them.
    Capture cap = load_dev_capture("USTC-TFC2016__Tinba.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_FALSE(enc.side.udp_repeats.empty());
    const auto eph = std::find_if(enc.side.ports.begin(), enc.side.ports.end(), [](uint16_t p) { return p >= 1024; });
    ASSERT_NE(eph, enc.side.ports.end());
    for (auto& f : enc.flows) f.a[kAttrCliPort] = static_cast<uint8_t>(eph - enc.side.ports.begin());
    const auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 3);
    const double real = static_cast<double>(udp_5tuples(cap.records)), synth = static_cast<double>(udp_5tuples(recs));
    // Formats 8 to 19 come out exact here (8,504); format 7 merged 108 of them (8,396).
    // Format 20 makes 8,528: a repeat keeps its service's port, and 24 of the chunk's
    // repeats (counted per size group, not per service) find no 5-tuple of their service.
    EXPECT_NEAR(synth, real, real * 0.004) << real << " real 5-tuples, " << synth << " synthetic";
    const double v7 = static_cast<double>(udp_5tuples(regenerate_as(enc, 7)));
    EXPECT_LT(std::abs(synth - real), std::abs(v7 - real)) << "format 7: " << v7;
}

TEST(TcpFates, ArpIsBetweenOnLinkHostsAndKeepsItsKinds) {
    // ultraloq's ARP is mostly the device announcing itself (sender = target).
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap");
    cap.records.resize(std::min<size_t>(cap.records.size(), 6000));
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_GT(enc.side.arp_gratuitous, 0u);
    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->arp_gratuitous, enc.side.arp_gratuitous);
    EXPECT_EQ(back->arp_probes, enc.side.arp_probes);
    EXPECT_EQ(back->udp_repeats, enc.side.udp_repeats);
    auto share = [](std::span<const PacketRecord> recs, uint32_t& publics) {
        uint32_t requests = 0, announce = 0;
        for (const auto& r : recs) {
            if (r.ethertype != 0x0806 || r.arp_op != 1) continue;
            ++requests;
            announce += std::equal(r.src.begin(), r.src.begin() + 4, r.dst.begin());
            std::array<uint8_t, 16> dst{};
            std::copy(r.dst.begin(), r.dst.begin() + 4, dst.begin());
            publics += fidelity::address_class(dst, 4) == fidelity::AddressClass::kV4Public;
        }
        return requests ? static_cast<double>(announce) / requests : 0.0;
    };
    uint32_t real_public = 0, synth_public = 0;
    const double real = share(cap.records, real_public);
    const auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 3);
    const double synth = share(recs, synth_public);
    EXPECT_GT(real, 0.5);
    EXPECT_NEAR(synth, real, 0.05);
    EXPECT_EQ(real_public, 0u);
    EXPECT_EQ(synth_public, 0u) << "ARP for a public address on a private LAN";
}
