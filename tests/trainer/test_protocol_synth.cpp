// The format-6 protocol compiler: TCP connection plans (handshake, data, teardown), and
// what the generator makes of a real LAN chunk's own tokens: coherent seq/ack, no SYN
// with data, the hosts' option stacks, address classes and subnets kept, and no real
// address in the stored side information.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "codec/address_class.h"
#include "codec/capture_reader.h"
#include "tests/trainer/dev_capture.h"
#include "codec/fidelity/semantics.h"
#include "codec/flows.h"
#include "trainer/chunk_tokens.h"
#include "trainer/synth_records.h"
#include "trainer/tcp_plan.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

Capture load(const char* name) { return load_dev_capture(name); }

std::vector<TcpSegmentPlan> plan(std::vector<uint8_t> dirs, std::vector<uint8_t> flags) {
    return plan_tcp_flow(dirs, flags);
}

uint32_t payload_of(const PacketRecord& r) {
    const uint32_t hdr = (r.ip_version == 4 ? 20 : 40) + 20 + r.tcp_opt_len;
    return r.ip_len > hdr ? r.ip_len - hdr : 0;
}

}  // namespace

TEST(TcpPlan, HandshakeDataAndFinTeardown) {
    // The model's guess: SYN, then flags that are not quite a handshake, a FIN in the middle.
    auto p = plan({0, 0, 1, 0, 1, 0, 1}, {0x02, 0x12, 0x18, 0x11, 0x10, 0x18, 0x10});
    ASSERT_EQ(p.size(), 7u);
    EXPECT_EQ(p[0].flags, kSyn);
    EXPECT_EQ(p[0].dir, 0);
    EXPECT_EQ(p[1].flags, kSyn | kAck);
    EXPECT_EQ(p[1].dir, 1);
    EXPECT_EQ(p[2].flags, kAck);
    EXPECT_EQ(p[2].dir, 0);
    EXPECT_TRUE(p[2].control);
    EXPECT_EQ(p[3].flags, kAck);  // middle segments never carry SYN/FIN/RST
    EXPECT_EQ(p[4].flags, kFin | kAck);
    EXPECT_EQ(p[4].dir, 0);  // the side of the model's first FIN closes first
    EXPECT_EQ(p[5].flags, kFin | kAck);
    EXPECT_EQ(p[5].dir, 1);
    EXPECT_EQ(p[6].flags, kAck);
    EXPECT_EQ(p[6].dir, 0);
}

TEST(TcpPlan, DecidedEndingsAndUnansweredSyns) {
    // The chunk's counts close a flow the model left open, and cut one it closed.
    auto fin = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1, 0, 1}, std::vector<uint8_t>{0x02, 0x12, 0x10, 0x18, 0x10, 0x18},
                             TcpOpening::kModel, TcpEnding::kFin);
    EXPECT_EQ(fin[3].flags, kFin | kAck);
    EXPECT_EQ(fin[4].flags, kFin | kAck);
    EXPECT_NE(fin[3].dir, fin[4].dir);
    EXPECT_EQ(fin[5].flags, kAck);
    auto cut = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1, 0}, std::vector<uint8_t>{0x02, 0x12, 0x10, 0x11, 0x11},
                             TcpOpening::kModel, TcpEnding::kNone);
    for (const auto& s : cut) EXPECT_FALSE(s.flags & (kFin | kRst));
    auto rst = plan_tcp_flow(std::vector<uint8_t>{0, 1, 0, 1}, std::vector<uint8_t>{0x02, 0x12, 0x10, 0x18},
                             TcpOpening::kModel, TcpEnding::kRst);
    EXPECT_TRUE(rst[3].flags & kRst);
    auto silent = plan_tcp_flow(std::vector<uint8_t>{0, 1, 1}, std::vector<uint8_t>{0x02, 0x12, 0x10}, TcpOpening::kUnanswered);
    for (const auto& s : silent) EXPECT_EQ(s.flags, kSyn);
    EXPECT_TRUE(silent[2].retransmit);
}

TEST(TcpPlan, ScansRefusalsAndResets) {
    auto scan = plan({0, 1, 0}, {0x02, 0x02, 0x02});
    EXPECT_TRUE(scan[1].retransmit && scan[2].retransmit);
    EXPECT_EQ(scan[2].flags, kSyn);
    auto refused = plan({0, 1}, {0x02, 0x14});
    EXPECT_EQ(refused[1].flags, kRst | kAck);
    EXPECT_EQ(refused[1].dir, 1);
    auto reset = plan({0, 1, 0, 1, 0}, {0x02, 0x12, 0x10, 0x18, 0x04});
    EXPECT_EQ(reset[4].flags, kRst);
    EXPECT_EQ(reset[3].flags, kPsh | kAck);
    // Cut by the chunk: no teardown invented.
    auto cut = plan({0, 1, 0, 1}, {0x18, 0x10, 0x18, 0x10});
    for (const auto& s : cut) EXPECT_FALSE(s.flags & (kSyn | kFin | kRst));
    // Starting at the SYN-ACK: its ACK follows from the other side.
    auto mid = plan({0, 0, 1}, {0x12, 0x10, 0x10});
    EXPECT_EQ(mid[0].flags, kSyn | kAck);
    EXPECT_EQ(mid[1].flags, kAck);
    EXPECT_EQ(mid[1].dir, 1);
}

TEST(ProtocolSynth, RealTokensGiveCoherentConnections) {
    Capture cap = load("PcapPlusPlus__example.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_EQ(enc.side.format, kSideFormat);
    enc.side.tcp_loss = enc.side.lossy = {};  // the compiler's own arithmetic, without the capture's loss
    enc.side.reordered = {};                  // nor its path's reordering
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 3);
    ASSERT_EQ(recs.size(), cap.records.size());

    // Per direction of each connection: every segment's seq is where the last one ended
    // (a repeated SYN aside), and nothing acknowledges bytes the peer has not sent.
    struct Dir {
        bool seen = false;
        bool awaiting_ack = false;  // the peer sent SYN-ACK
        uint32_t next = 0;
    };
    std::map<std::tuple<std::array<uint8_t, 16>, uint16_t, std::array<uint8_t, 16>, uint16_t>, Dir> dirs;
    uint64_t syn = 0, syn_data = 0, synack = 0, handshake_acks = 0, bad_seq = 0, bad_ack = 0, with_opts = 0, tcp = 0;
    for (const auto& r : recs) {
        if (!(r.present & kHasTcp)) continue;
        ++tcp;
        with_opts += r.tcp_opts != 0;
        const uint32_t len = payload_of(r);
        if (r.tcp_flags & kSyn) {
            ++syn;
            syn_data += len > 0;
            synack += (r.tcp_flags & kAck) != 0;
        }
        auto& d = dirs[{r.src, r.sport, r.dst, r.dport}];
        auto& peer = dirs[{r.dst, r.dport, r.src, r.sport}];
        const bool resent_syn = (r.tcp_flags & kSyn) && d.seen && r.seq + 1 == d.next;
        if (d.seen && r.seq != d.next && !resent_syn) ++bad_seq;
        if ((r.tcp_flags & kAck) && peer.seen && static_cast<int32_t>(r.ack - peer.next) > 0) ++bad_ack;
        if ((r.tcp_flags & (kSyn | kAck)) == (kSyn | kAck)) peer.awaiting_ack = true;
        if (r.tcp_flags == kAck && len == 0 && d.awaiting_ack) ++handshake_acks;
        if (!(r.tcp_flags & kSyn)) d.awaiting_ack = false;
        if (!resent_syn) d.next = r.seq + len + ((r.tcp_flags & kSyn) ? 1 : 0) + ((r.tcp_flags & kFin) ? 1 : 0);
        d.seen = true;
    }
    uint64_t real_syn = 0, real_opts = 0, real_tcp = 0;
    for (const auto& r : cap.records) {
        if (r.present & kHasTcp) ++real_tcp, real_syn += (r.tcp_flags & kSyn) != 0, real_opts += r.tcp_opts != 0;
    }
    ASSERT_GT(real_syn, 20u);
    EXPECT_EQ(syn_data, 0u);
    EXPECT_GT(synack, syn / 4);
    EXPECT_EQ(bad_seq, 0u);
    EXPECT_EQ(bad_ack, 0u);
    EXPECT_GT(handshake_acks, 0u);
    // The hosts' stacks send options as the real ones do (timestamps on data segments).
    EXPECT_NEAR(static_cast<double>(with_opts) / tcp, static_cast<double>(real_opts) / real_tcp, 0.15);
}

TEST(ProtocolSynth, CaptureLossComesBackAtTheChunksRate) {
    // tls2 was captured lossily: a fifth of its segments follow a gap, an eighth ACK data
    // the capture missed. tshark-style analysis of the regenerated chunk shows the same.
    Capture cap = load("PcapPlusPlus__tls2.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ASSERT_GT(enc.side.tcp_loss.gaps, enc.side.tcp_loss.segments / 10);
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 4);
    auto share = [](const std::vector<PacketRecord>& v, uint8_t verdict) {
        const auto a = fidelity::analyze_tcp(v);
        double n = 0, k = 0;
        for (uint8_t x : a.verdict)
            if (x != fidelity::kSegNotTcp) ++n, k += x == verdict;
        return k / n;
    };
    for (uint8_t v : {fidelity::kSegGap, fidelity::kSegAckUnseen, fidelity::kSegRetrans})
        EXPECT_NEAR(share(recs, v), share(cap.records, v), 0.05) << fidelity::kSegVerdictNames[v];
    // Without loss in the side information, none is invented.
    enc.side.tcp_loss = enc.side.lossy = {};
    EXPECT_EQ(share(synthesize_records(enc.side, enc.flows, enc.packets, 4), fidelity::kSegGap), 0.0);
}

TEST(ProtocolSynth, AddressClassesSubnetsAndLinkAddressesSurvive) {
    Capture cap = load("PcapPlusPlus__tls2.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 5);
    auto classes = [](const std::vector<PacketRecord>& v) {
        std::map<AddrClass, std::set<std::array<uint8_t, 16>>> m;
        for (const auto& r : v)
            if (r.is_ip())
                for (const auto* a : {&r.src, &r.dst}) m[classify_address(r.ip_version, a->data())].insert(*a);
        return m;
    };
    auto real = classes(cap.records), synth = classes(recs);
    for (const auto& [c, addrs] : real) {
        ASSERT_TRUE(synth.count(c)) << addr_class_name(c);
        EXPECT_NEAR(static_cast<double>(synth[c].size()), static_cast<double>(addrs.size()), 0.2 * addrs.size() + 2)
            << addr_class_name(c);
    }
    // Private hosts of one real /24 share one synthetic /24.
    std::set<std::array<uint8_t, 3>> real24, synth24;
    for (const auto& a : real[AddrClass::kPrivate192]) real24.insert({a[0], a[1], a[2]});
    for (const auto& a : synth[AddrClass::kPrivate192]) synth24.insert({a[0], a[1], a[2]});
    EXPECT_EQ(synth24.size(), real24.size());
    // Few MACs, as a capture point sees them (the gateway's for off-link hosts), not one per IP.
    auto macs = [](const std::vector<PacketRecord>& v) {
        std::set<std::array<uint8_t, 6>> m;
        for (const auto& r : v)
            if (r.is_ip()) m.insert(r.eth_src);
        return m.size();
    };
    EXPECT_LE(macs(recs), macs(cap.records) + 2);
    // No real unicast address appears in the stored side information.
    const std::string side = serialize_side(enc.side);
    for (const auto& [c, addrs] : real) {
        if (addr_class_is_exact(c)) continue;
        for (const auto& a : addrs) {
            const size_t n = c >= AddrClass::kGlobal6 ? 16 : 4;
            EXPECT_EQ(side.find(std::string(reinterpret_cast<const char*>(a.data()), n)), std::string::npos)
                << addr_class_name(c);
        }
    }
}

TEST(ProtocolSynth, IcmpKeepsItsTypesAndPairs) {
    Capture cap = load("USTC-TFC2016__Tinba.pcap");
    std::span<const PacketRecord> part(cap.records.data(), std::min<size_t>(cap.records.size(), 6000));
    EncodedChunk enc = encode_chunk(part, 1);
    auto recs = synthesize_records(enc.side, enc.flows, enc.packets, 9);
    std::map<std::pair<uint8_t, uint8_t>, uint64_t> real, synth;
    for (const auto& r : part)
        if (r.present & kHasIcmp) real[{r.icmp_type, r.icmp_code}]++;
    for (const auto& r : recs)
        if (r.present & kHasIcmp) synth[{r.icmp_type, r.icmp_code}]++;
    ASSERT_FALSE(real.empty());
    uint64_t total = 0;
    for (const auto& [k, n] : real) total += n;
    // Every type/code with a few percent of the ICMP packets comes back, and nothing else.
    for (const auto& [k, n] : real) {
        if (n * 50 >= total) {
            EXPECT_TRUE(synth.count(k)) << int(k.first) << "/" << int(k.second);
        }
    }
    for (const auto& [k, n] : synth) EXPECT_TRUE(real.count(k)) << int(k.first) << "/" << int(k.second);
}

TEST(ProtocolSynth, FormatFiveSidesKeepTheFormatFiveGenerator) {
    Capture cap = load("nDPI__gnutella.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    ChunkSide old = enc.side;
    old.format = 5;
    auto back = parse_side(serialize_side(old), "v5", 5);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->format, 5);
    EXPECT_TRUE(back->host_sem.empty());
    auto recs = synthesize_records(*back, enc.flows, enc.packets, 7);
    for (const auto& r : recs) {
        EXPECT_EQ(r.tcp_opts, 0);
        EXPECT_EQ(r.eth_src, (std::array<uint8_t, 6>{}));
    }
    // The format-6 side round-trips with its semantics.
    auto six = parse_side(serialize_side(enc.side), "v6");
    ASSERT_TRUE(six.ok()) << six.status().message();
    EXPECT_EQ(serialize_side(*six), serialize_side(enc.side));
    EXPECT_EQ(six->host_sem.size(), six->hosts.size());
}

TEST(ProtocolSynth, Nat64HostsKeepTheirPrefixWithoutTheirAddresses) {
    Capture cap = load("nDPI__reddit.pcap");
    EncodedChunk enc = encode_chunk(cap.records, 1);
    auto back = parse_side(serialize_side(enc.side), "chunk", kSideFormat);
    ASSERT_TRUE(back.ok()) << back.status().message();
    const auto recs = synthesize_records(*back, enc.flows, enc.packets, 5);
    struct Seen {
        std::set<std::array<uint8_t, 16>> hosts;
        size_t packets = 0;
    };
    auto nat64 = [](const std::vector<PacketRecord>& v) {
        Seen s;
        for (const auto& r : v) {
            bool any = false;
            for (const auto* a : {&r.src, &r.dst})
                if (r.ip_version == 6 && classify_address(6, a->data()) == AddrClass::kNat64_6) s.hosts.insert(*a), any = true;
            s.packets += any;
        }
        return s;
    };
    const Seen real = nat64(cap.records), synth = nat64(recs);
    ASSERT_GT(real.packets, 800u) << "reddit's client reaches IPv4 hosts through NAT64";
    EXPECT_NEAR(static_cast<double>(synth.hosts.size()), static_cast<double>(real.hosts.size()), 0.2 * real.hosts.size() + 2);
    EXPECT_NEAR(static_cast<double>(synth.packets), static_cast<double>(real.packets), 0.2 * real.packets);
    for (const auto& a : synth.hosts) {
        const std::array<uint8_t, 16> v4{a[12], a[13], a[14], a[15]};
        EXPECT_EQ(classify_address(4, v4.data()), AddrClass::kPublic4);
    }
    // Neither a NAT64 address nor the IPv4 address inside it is stored.
    const std::string side = serialize_side(enc.side);
    for (const auto& a : real.hosts) {
        EXPECT_EQ(side.find(std::string(reinterpret_cast<const char*>(a.data()), 16)), std::string::npos);
        EXPECT_EQ(side.find(std::string(reinterpret_cast<const char*>(a.data()) + 12, 4)), std::string::npos);
    }
}
