// The traffic-semantics checks (docs/semantics.md) on hand-built traffic: connection
// completeness and splitting, SYN payload, sequence analysis with wraparound, ICMP mix,
// the address-class table, MAC structure, UDP answers, exact lengths; identity scores 0
// and broken traffic scores high; the JSON and HTML sections.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "codec/capture_reader.h"
#include "codec/fidelity/report_html.h"
#include "codec/fidelity/report_json.h"
#include "codec/fidelity/semantics.h"
#include "hand_records.h"
#include "xml_check.h"

namespace dgc::fidelity {
namespace {

using test::kMs;
using test::kSec;

constexpr uint8_t kF = 0x01, kS = 0x02, kR = 0x04, kP = 0x08, kA = 0x10;
constexpr uint32_t kClient = 0x0a000001;  // 10.0.0.1
constexpr uint32_t kServer = 0x5db8d822;  // 93.184.216.34

// One TCP segment; ip_len = 20 + 20 + options + payload.
PacketRecord seg(int64_t t, bool from_client, uint16_t cport, uint32_t seq, uint32_t ack, uint8_t flags,
                 uint32_t payload, uint8_t opt_len = 0, uint8_t opts = 0) {
    PacketRecord r = from_client ? test::tcp4(t, kClient, cport, kServer, 80, 40 + opt_len + payload, flags)
                                 : test::tcp4(t, kServer, 80, kClient, cport, 40 + opt_len + payload, flags);
    r.seq = seq;
    r.ack = ack;
    r.tcp_opt_len = opt_len;
    r.tcp_opts = opts;
    return r;
}

constexpr uint8_t kSynOpts = kOptMss | kOptSackPerm | kOptTimestamp | kOptWscale;

// SYN, SYN-ACK, bare ACK, request, ACK, response, FIN both ways, last ACK.
std::vector<PacketRecord> complete_connection(int64_t t0, uint16_t cport, uint32_t c = 100, uint32_t s = 5000) {
    return {
        seg(t0, true, cport, c, 0, kS, 0, 20, kSynOpts),
        seg(t0 + 1 * kMs, false, cport, s, c + 1, kS | kA, 0, 20, kSynOpts),
        seg(t0 + 2 * kMs, true, cport, c + 1, s + 1, kA, 0),
        seg(t0 + 3 * kMs, true, cport, c + 1, s + 1, kP | kA, 50),
        seg(t0 + 4 * kMs, false, cport, s + 1, c + 51, kA, 0),
        seg(t0 + 5 * kMs, false, cport, s + 1, c + 51, kP | kA, 200),
        seg(t0 + 6 * kMs, true, cport, c + 51, s + 201, kF | kA, 0),
        seg(t0 + 7 * kMs, false, cport, s + 201, c + 52, kF | kA, 0),
        seg(t0 + 8 * kMs, true, cport, c + 52, s + 202, kA, 0),
    };
}

template <typename... V>
std::vector<PacketRecord> cat(V... parts) {
    std::vector<PacketRecord> out;
    (out.insert(out.end(), parts.begin(), parts.end()), ...);
    return out;
}

std::vector<uint8_t> tcp_verdicts(const std::vector<PacketRecord>& recs) {
    std::vector<uint8_t> v;
    for (uint8_t x : analyze_tcp(recs).verdict)
        if (x != kSegNotTcp) v.push_back(x);
    return v;
}

uint64_t count_of(const Histogram& h, uint64_t key) {
    for (size_t i = 0; i < h.keys.size(); ++i)
        if (h.keys[i] == key) return h.counts[i];
    return 0;
}

TEST(Semantics, CompleteConnectionHasAllHandshakeBitsAndNoAnomaly) {
    const auto recs = complete_connection(0, 40000);
    const TcpAnalysis a = analyze_tcp(recs);
    ASSERT_EQ(a.connections.size(), 1u);
    EXPECT_EQ(a.connections[0].completeness, kCmpSyn | kCmpSynAck | kCmpAck | kCmpData | kCmpFin);  // 0x1f
    EXPECT_EQ(a.connections[0].segments[0] + a.connections[0].segments[1], 9u);
    for (uint8_t v : tcp_verdicts(recs)) EXPECT_EQ(v, kSegOk);
}

TEST(Semantics, RefusedAndMidStreamConnections) {
    // SYN answered by RST-ACK: tshark's 0x25 (SYN, ACK, RST).
    const std::vector<PacketRecord> refused = {seg(0, true, 40001, 7, 0, kS, 0, 20, kSynOpts),
                                               seg(kMs, false, 40001, 0, 8, kR | kA, 0)};
    // Capture starts mid-stream: data both ways, no handshake, no bare ACK.
    const std::vector<PacketRecord> mid = {seg(0, true, 40002, 900, 300, kP | kA, 10),
                                           seg(kMs, false, 40002, 300, 910, kP | kA, 20)};
    EXPECT_EQ(analyze_tcp(refused).connections.at(0).completeness, kCmpSyn | kCmpAck | kCmpRst);
    EXPECT_EQ(analyze_tcp(mid).connections.at(0).completeness, kCmpData);
    // A handshake without its bare ACK and closed by data-carrying FINs never gets the ACK bit.
    std::vector<PacketRecord> no_ack = complete_connection(0, 40003);
    no_ack.erase(no_ack.begin() + 8);
    no_ack.erase(no_ack.begin() + 4);
    no_ack.erase(no_ack.begin() + 2);
    no_ack[4].ip_len += 5, no_ack[5].ip_len += 5;  // FINs with data
    EXPECT_EQ(analyze_tcp(no_ack).connections.at(0).completeness & kCmpAck, 0);
}

TEST(Semantics, ConnectionsSplitOnANewSynAndOnTheIdleGap) {
    // Port reuse after close: a new ISN is a new connection.
    const auto two = cat(complete_connection(0, 40000, 100), complete_connection(kSec, 40000, 90'000));
    EXPECT_EQ(analyze_tcp(two).connections.size(), 2u);
    // A retransmitted SYN (same ISN) stays in its connection.
    std::vector<PacketRecord> retry = complete_connection(kSec, 40000);
    PacketRecord syn_again = retry[0];
    syn_again.t_ns = kSec + kMs / 2;
    retry.insert(retry.begin() + 1, syn_again);
    const TcpAnalysis r = analyze_tcp(retry);
    EXPECT_EQ(r.connections.size(), 1u);
    EXPECT_EQ(r.verdict[1], kSegRetrans);
    // 61 s of silence splits the record of a connection, not its sequence space: the
    // keep-alive after the gap and the peer's ACK to it are no anomaly.
    std::vector<PacketRecord> idle = complete_connection(0, 40004);
    idle.resize(6);  // open, request, response; no close
    idle.push_back(seg(61 * kSec, true, 40004, 150, 5201, kA, 0));   // keep-alive: seq = next - 1
    idle.push_back(seg(61 * kSec + kMs, false, 40004, 5201, 151, kA, 0));
    const TcpAnalysis i = analyze_tcp(idle);
    ASSERT_EQ(i.connections.size(), 2u);
    EXPECT_EQ(i.connections[1].completeness, kCmpAck);
    EXPECT_EQ(i.verdict[6], kSegKeepAlive);
    EXPECT_EQ(i.verdict[7], kSegOk);
}

TEST(Semantics, TcpPayloadCountsOptionsAsHeader) {
    EXPECT_EQ(tcp_payload_bytes(seg(0, true, 1, 0, 0, kS, 0, 20, kSynOpts)), 0u);    // 60-byte SYN
    EXPECT_EQ(tcp_payload_bytes(seg(0, true, 1, 0, 0, kS, 12, 20, kSynOpts)), 12u);
    PacketRecord stripped = seg(0, true, 1, 0, 0, kS, 0, 20, kSynOpts);
    stripped.tcp_opt_len = 0;  // what a 20-byte header with the same ip_len means
    EXPECT_EQ(tcp_payload_bytes(stripped), 20u);
    PacketRecord runt = seg(0, true, 1, 0, 0, kA, 0);
    runt.ip_len = 30;
    EXPECT_EQ(tcp_payload_bytes(runt), 0u);
}

TEST(Semantics, SynWithDataIsCaught) {
    const auto real = cat(complete_connection(0, 40000), complete_connection(kSec, 40001, 7000, 9000));
    std::vector<PacketRecord> synth = real;
    for (auto& r : synth)
        if (r.tcp_flags & kS) r.tcp_opt_len = 0, r.tcp_opts = 0;  // options became payload
    const SemanticProfile p = profile_semantics(real), q = profile_semantics(synth);
    EXPECT_EQ(count_of(p.checks[kSynPayload], 0), 2u);  // SYN without payload
    EXPECT_EQ(count_of(p.checks[kSynPayload], 2), 2u);  // SYN-ACK without payload
    EXPECT_EQ(count_of(q.checks[kSynPayload], 1), 2u);  // SYN with payload
    const SemanticSet s = compare_semantics(p, q);
    EXPECT_DOUBLE_EQ(s.checks[kSynPayload].value(), 1.0);
    EXPECT_GT(s.checks[kTcpHeader].value(), 0.15);  // SYN headers lost their options
}

TEST(Semantics, RetransmissionGapOutOfOrderAndAckedUnseen) {
    const uint16_t p = 40010;
    const std::vector<PacketRecord> recs = {
        seg(0, true, p, 1000, 50, kA, 100),                // ok (first segment of the direction)
        seg(10 * kMs, true, p, 1100, 50, kA, 100),         // ok, next = 1200
        seg(300 * kMs, true, p, 1000, 50, kA, 100),        // retrans: old data, long after
        seg(310 * kMs, true, p, 1300, 50, kA, 100),        // gap: 1200..1300 never seen
        seg(311 * kMs, true, p, 1200, 50, kA, 100),        // out of order: fills the hole within 3 ms
        seg(320 * kMs, false, p, 50, 1400, kA, 0),         // ok: acks what was sent
        seg(330 * kMs, false, p, 50, 1900, kA, 0),         // ack_unseen: 1400..1900 never seen
        seg(340 * kMs, true, p, 1399, 50, kA, 0),          // keep-alive: seq = next - 1
    };
    const std::vector<uint8_t> want = {kSegOk, kSegOk, kSegRetrans, kSegGap, kSegOutOfOrder, kSegOk, kSegAckUnseen,
                                       kSegKeepAlive};
    EXPECT_EQ(tcp_verdicts(recs), want);
    const TcpConnection c = analyze_tcp(recs).connections.at(0);
    EXPECT_EQ(c.anomalous[0], 3u);
    EXPECT_EQ(c.anomalies[0], (1u << kSegRetrans) | (1u << kSegGap) | (1u << kSegOutOfOrder));
    EXPECT_EQ(c.anomalies[1], 1u << kSegAckUnseen);
}

TEST(Semantics, SequenceAnalysisWrapsAround32Bits) {
    const uint16_t p = 40011;
    const std::vector<PacketRecord> recs = {
        seg(0, true, p, 0xffffff00u, 1, kA, 0x100),        // ends at 2^32 = 0
        seg(kMs, true, p, 0, 1, kA, 0x80),                 // in order across the wrap
        seg(200 * kMs, true, p, 0xffffff00u, 1, kA, 0x100),  // retransmission of the first
        seg(201 * kMs, false, p, 1, 0x80, kA, 0),          // acks 0x80, in order
        seg(202 * kMs, true, p, 0x1000, 1, kA, 10),        // gap after the wrap
    };
    EXPECT_EQ(tcp_verdicts(recs), (std::vector<uint8_t>{kSegOk, kSegOk, kSegRetrans, kSegOk, kSegGap}));
}

TEST(Semantics, IcmpTypeCodeMix) {
    auto icmp = [](int64_t t, uint8_t type, uint8_t code, bool v6 = false) {
        PacketRecord r = test::ip4(t, kClient, kServer, v6 ? 58 : 1, 84);
        if (v6) r.ip_version = 6;
        r.present |= kHasIcmp;
        r.icmp_type = type;
        r.icmp_code = code;
        return r;
    };
    const std::vector<PacketRecord> real = {icmp(0, 8, 0), icmp(1, 0, 0), icmp(2, 3, 3), icmp(3, 135, 0, true)};
    const Histogram h = profile_semantics(real).checks[kIcmpMix];
    EXPECT_EQ(h.keys, (std::vector<uint64_t>{0x0000, 0x0303, 0x0800, 0x18700}));
    const std::vector<PacketRecord> echo_only = {icmp(0, 8, 0), icmp(1, 8, 0), icmp(2, 8, 0), icmp(3, 8, 0)};
    EXPECT_GT(semantics(real, echo_only).checks[kIcmpMix].value(), 0.5);
    EXPECT_DOUBLE_EQ(semantics(real, {}).checks[kIcmpMix].value(), 1.0);  // ICMP lost
    EXPECT_FALSE(semantics(complete_connection(0, 1), complete_connection(0, 1)).checks[kIcmpMix].has_value());
}

std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }
std::array<uint8_t, 16> v6(std::initializer_list<uint8_t> head, uint8_t last = 1) {
    std::array<uint8_t, 16> x{};
    std::copy(head.begin(), head.end(), x.begin());
    x[15] = last;
    return x;
}

TEST(Semantics, AddressClassTable) {
    using C = AddressClass;
    const std::vector<std::pair<std::array<uint8_t, 16>, C>> v4s = {
        {v4(0, 0, 0, 0), C::kV4Unspecified},       {v4(10, 1, 2, 3), C::kV4Private10},
        {v4(172, 16, 0, 1), C::kV4Private172},     {v4(172, 31, 255, 1), C::kV4Private172},
        {v4(172, 32, 0, 1), C::kV4Public},         {v4(192, 168, 1, 20), C::kV4Private192},
        {v4(100, 64, 0, 1), C::kV4Shared},         {v4(100, 127, 9, 9), C::kV4Shared},
        {v4(100, 128, 0, 1), C::kV4Public},        {v4(127, 0, 0, 1), C::kV4Loopback},
        {v4(169, 254, 3, 4), C::kV4LinkLocal},     {v4(224, 0, 0, 251), C::kV4Multicast},
        {v4(239, 255, 255, 250), C::kV4Multicast}, {v4(255, 255, 255, 255), C::kV4LimitedBroadcast},
        {v4(192, 168, 1, 255), C::kV4DirectedBroadcast}, {v4(240, 0, 0, 1), C::kV4Reserved},
        {v4(192, 0, 2, 7), C::kV4Documentation},   {v4(8, 8, 8, 8), C::kV4Public},
    };
    for (const auto& [a, c] : v4s)
        EXPECT_EQ(address_class(a, 4), c) << int(a[0]) << "." << int(a[1]) << "." << int(a[2]) << "." << int(a[3])
                                           << " got " << address_class_name(address_class(a, 4));
    const std::vector<std::pair<std::array<uint8_t, 16>, C>> v6s = {
        {v6({}, 0), C::kV6Unspecified},
        {v6({}, 1), C::kV6Loopback},
        {v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0}), C::kV6V4Mapped},
        {v6({0xfe, 0x80}), C::kV6LinkLocal},
        {v6({0xfd, 0x12}), C::kV6Ula},
        {v6({0xfc, 0x00}), C::kV6Ula},
        {v6({0xff, 0x02}), C::kV6Multicast},
        {v6({0x20, 0x01, 0x0d, 0xb8}), C::kV6Documentation},
        {v6({0x2a, 0x00, 0x14, 0x50}), C::kV6Global},
        {v6({0x40, 0x00}), C::kV6Other},
    };
    for (const auto& [a, c] : v6s) EXPECT_EQ(address_class(a, 6), c) << address_class_name(address_class(a, 6));
    // An IPv4 address keeps its class whatever lies behind its four bytes.
    auto dirty = v4(10, 0, 0, 1);
    dirty[9] = 0xee;
    EXPECT_EQ(address_class(dirty, 4), C::kV4Private10);
}

TEST(Semantics, AddressClassMixCatchesPrivateTurnedPublic) {
    std::vector<PacketRecord> real, synth;
    for (int i = 0; i < 20; ++i) {
        real.push_back(test::udp4(i * kMs, 0xc0a80100 + i, 5000, 0x08080808, 53, 60));  // 192.168.1.x -> 8.8.8.8
        synth.push_back(test::udp4(i * kMs, 0x0b000100 + i, 5000, 0x08080808, 53, 60));  // 11.0.1.x -> 8.8.8.8
    }
    const SemanticSet s = semantics(real, synth);
    EXPECT_GT(s.checks[kAddrClassPkts].value(), 0.99);
    EXPECT_GT(s.checks[kAddrClassHosts].value(), 0.5);
    EXPECT_EQ(semantics(real, real).checks[kAddrClassPkts].value(), 0.0);
}

TEST(Semantics, MacsPerIpAndIpsPerMac) {
    const std::array<uint8_t, 6> host{0, 1, 2, 3, 4, 5}, gateway{0, 9, 9, 9, 9, 9};
    // One on-link host talking to 10 off-link servers, all seen behind the gateway's MAC.
    std::vector<PacketRecord> real;
    for (uint32_t i = 0; i < 10; ++i) {
        PacketRecord out = test::udp4(i * kMs, kClient, 5000, 0x5db8d800 + i, 53, 60);
        out.eth_src = host, out.eth_dst = gateway;
        PacketRecord back = test::udp4(i * kMs + 1, 0x5db8d800 + i, 53, kClient, 5000, 90);
        back.eth_src = gateway, back.eth_dst = host;
        real.push_back(out), real.push_back(back);
    }
    const SemanticProfile p = profile_semantics(real);
    // 11 IPs, 11 (IP, MAC) pairs: every IP has one MAC; the gateway's 10 pairs are in the
    // "at least half of all IPs" bin, the host's one pair in the single-IP bin.
    EXPECT_EQ(p.checks[kMacsPerIp].keys, (std::vector<uint64_t>{1}));
    EXPECT_EQ(count_of(p.checks[kIpsPerMac], 3), 10u);
    EXPECT_EQ(count_of(p.checks[kIpsPerMac], 0), 1u);
    // The defect of issue 11: every IP gets its own MAC.
    std::vector<PacketRecord> own = real;
    for (auto& r : own) {
        r.eth_src[5] = r.src[3];
        r.eth_dst[5] = r.dst[3];
    }
    EXPECT_GT(semantics(real, own).checks[kIpsPerMac].value(), 0.6);
    // A MAC that changes per packet gives an IP many MACs.
    std::vector<PacketRecord> churn = real;
    for (size_t i = 0; i < churn.size(); ++i) churn[i].eth_src[5] = static_cast<uint8_t>(i);
    EXPECT_GT(semantics(real, churn).checks[kMacsPerIp].value(), 0.3);
    // Not Ethernet on either side: undefined.
    std::vector<PacketRecord> raw = real;
    for (auto& r : raw) r.linktype = static_cast<uint16_t>(LinkType::kRaw);
    EXPECT_FALSE(semantics(raw, raw).checks[kMacsPerIp].has_value());
    EXPECT_FALSE(semantics(raw, raw).checks[kIpsPerMac].has_value());
    EXPECT_EQ(small_count_bin(8), 8u);
    EXPECT_EQ(small_count_bin(9), 9u);
    EXPECT_EQ(small_count_bin(16), 10u);
    EXPECT_EQ(share_bin(1, 100), 0u);
    EXPECT_EQ(share_bin(9, 100), 1u);
    EXPECT_EQ(share_bin(10, 100), 2u);
    EXPECT_EQ(share_bin(50, 100), 3u);
}

TEST(Semantics, UdpAnswersAndWhoSpeaksFirst) {
    std::vector<PacketRecord> real, one_way;
    for (uint16_t i = 0; i < 8; ++i) {
        const PacketRecord q = test::udp4(i * kSec, kClient, 40000 + i, kServer, 53, 60);
        real.push_back(q), one_way.push_back(q);
        real.push_back(test::udp4(i * kSec + kMs, kServer, 53, kClient, 40000 + i, 120));
    }
    real.push_back(test::udp4(20 * kSec, kClient, 137, 0x0a0000ff, 137, 78));  // NetBIOS broadcast, equal ports
    const Histogram h = profile_semantics(real).checks[kUdpPairing];
    EXPECT_EQ(count_of(h, 3), 8u);  // answered, first from the higher port
    EXPECT_EQ(count_of(h, 2), 1u);  // unanswered, equal ports
    EXPECT_GT(semantics(real, one_way).checks[kUdpPairing].value(), 0.5);
}

TEST(Semantics, ExactLengthsKeepSpikesAndCatchSmearing) {
    std::vector<PacketRecord> real, smeared;
    for (uint32_t i = 0; i < 320; ++i) {
        real.push_back(test::udp4(i * kMs, kClient, 5000, kServer, 53, i % 2 ? 60 : 1500));
        smeared.push_back(test::udp4(i * kMs, kClient, 5000, kServer, 53, i % 2 ? 48 + i % 16 : 1500));
    }
    const SemanticSet s = semantics(real, smeared);
    EXPECT_GT(s.checks[kExactLen].value(), 0.3);
    // The 16-byte classes cannot see it: same class 48..63 on both sides.
    const std::vector<PacketRecord> shifted = [&] {
        auto v = real;
        for (auto& r : v)
            if (r.ip_len == 60) r.ip_len = 61;
        return v;
    }();
    EXPECT_GT(semantics(real, shifted).checks[kExactLen].value(), 0.3);
    EXPECT_EQ(semantics(real, real).checks[kExactLen].value(), 0.0);
}

// A small LAN-like trace: handshakes with options, DNS with answers, ping, a private
// client behind its gateway.
std::vector<PacketRecord> lan_trace() {
    std::vector<PacketRecord> t;
    for (uint16_t i = 0; i < 6; ++i) {
        const auto c = complete_connection(i * kSec, 41000 + i, 1000u * i, 50'000u * i);
        t.insert(t.end(), c.begin(), c.end());
        t.push_back(test::udp4(i * kSec + 500 * kMs, kClient, 50000 + i, 0x08080808, 53, 60));
        t.push_back(test::udp4(i * kSec + 520 * kMs, 0x08080808, 53, kClient, 50000 + i, 140));
        PacketRecord ping = test::ip4(i * kSec + 700 * kMs, kClient, 0x08080404, 1, 84);
        ping.present |= kHasIcmp, ping.icmp_type = 8;
        PacketRecord pong = test::ip4(i * kSec + 720 * kMs, 0x08080404, kClient, 1, 84);
        pong.present |= kHasIcmp, pong.icmp_type = 0;
        t.push_back(ping), t.push_back(pong);
    }
    for (auto& r : t) {
        const bool out = r.src[0] == 10;
        r.eth_src = out ? std::array<uint8_t, 6>{0, 1, 2, 3, 4, 5} : std::array<uint8_t, 6>{0, 9, 9, 9, 9, 9};
        r.eth_dst = out ? std::array<uint8_t, 6>{0, 9, 9, 9, 9, 9} : std::array<uint8_t, 6>{0, 1, 2, 3, 4, 5};
    }
    return t;
}

// What issue 11 saw in synthetic traces: SYNs carrying the option bytes, no bare ACK,
// random sequence numbers, one-way DNS, every ICMP an unreachable, public addresses,
// one MAC per IP.
std::vector<PacketRecord> broken(std::vector<PacketRecord> t) {
    std::vector<PacketRecord> out;
    uint32_t x = 12345;
    for (auto& r : t) {
        x = x * 1103515245u + 12345u;
        if (r.proto == 6) {
            if (r.tcp_flags == kA && tcp_payload_bytes(r) == 0) continue;
            r.tcp_opt_len = 0, r.tcp_opts = 0, r.seq = x, r.ack = x >> 3;
            r.ip_len += 3;
        }
        if (r.proto == 17 && r.sport == 53) continue;
        if (r.proto == 1) r.icmp_type = 3, r.icmp_code = 1;
        if (r.src[0] == 10) r.src[0] = 11;
        if (r.dst[0] == 10) r.dst[0] = 11;
        r.eth_src[5] = r.src[3], r.eth_dst[5] = r.dst[3];
        out.push_back(r);
    }
    return out;
}

TEST(Semantics, IdentityScoresZeroAndBrokenTrafficScoresHigh) {
    const auto real = lan_trace();
    const SemanticSet same = semantics(real, real);
    int defined = 0;
    for (int i = 0; i < kSemanticCount; ++i) {
        ASSERT_TRUE(same.checks[i].has_value()) << kSemanticNames[i];
        EXPECT_EQ(*same.checks[i], 0.0) << kSemanticNames[i];
        ++defined;
    }
    EXPECT_EQ(defined, kSemanticCount);
    EXPECT_EQ(same.mean.value(), 0.0);

    const SemanticSet bad = semantics(real, broken(real));
    for (int i : {kTcpCompleteness, kSynPayload, kTcpHeader, kIcmpMix, kUdpPairing, kAddrClassPkts, kIpsPerMac,
                  kTcpAnomaly, kTcpAnomalyDirs})
        EXPECT_GT(bad.checks[i].value(), 0.3) << kSemanticNames[i];
    EXPECT_GT(bad.mean.value(), 0.4);
    // Against the floor of a trace where every check is 0 between the halves... or not:
    // whatever the floor, a check at 1 with a floor below 0.95 fails.
    SemanticSet zero_floor;
    for (auto& v : zero_floor.checks) v = 0.0;
    EXPECT_GE(semantic_failures(bad, zero_floor), 9);
    EXPECT_EQ(semantic_failures(same, zero_floor), 0);
}

TEST(Semantics, PassMarks) {
    EXPECT_EQ(semantic_pass(0.10, 0.06), std::optional<bool>(true));
    EXPECT_EQ(semantic_pass(0.12, 0.06), std::optional<bool>(false));
    EXPECT_EQ(semantic_pass(std::nullopt, 0.06), std::nullopt);
    EXPECT_EQ(semantic_pass(1.0, std::nullopt), std::optional<bool>(false));  // only SYNTH has samples
    EXPECT_EQ(anomaly_rate_class(0, 10), 0u);
    EXPECT_EQ(anomaly_rate_class(1, 100), 1u);   // 64/100 -> 0 -> bit_length 0
    EXPECT_EQ(anomaly_rate_class(1, 64), 2u);
    EXPECT_EQ(anomaly_rate_class(10, 10), 8u);
}

TEST(Semantics, FloorIsComputedFromTheRealHalves) {
    // Two hosts, each with its own flows: the halves differ, so the floor of some check
    // is not zero; with one flow only, one half is empty and every defined floor is 1.
    const auto real = lan_trace();
    const SemanticSet fl = semantics_floor(real);
    ASSERT_TRUE(fl.mean.has_value());
    const SemanticSet one = semantics_floor(complete_connection(0, 40000));
    int defined = 0;
    for (const auto& v : one.checks) {
        if (!v) continue;
        EXPECT_EQ(*v, 1.0);
        ++defined;
    }
    EXPECT_GT(defined, 0);
}

TEST(Semantics, JsonSection) {
    const auto real = lan_trace();
    const SemanticSet s = semantics(real, broken(real)), fl = semantics_floor(real);
    const nlohmann::ordered_json j = semantics_json(&s, fl);
    EXPECT_EQ(j["checks"].size(), static_cast<size_t>(kSemanticCount));
    std::set<std::string> top;
    for (auto it = j.begin(); it != j.end(); ++it) top.insert(it.key());
    EXPECT_EQ(top, (std::set<std::string>{"checks", "mean", "floor_mean", "failures"}));
    EXPECT_EQ(j["checks"]["syn_payload"]["value"].get<double>(), *s.checks[kSynPayload]);
    EXPECT_TRUE(j["checks"]["syn_payload"].contains("floor"));
    EXPECT_FALSE(j["checks"]["syn_payload"]["pass"].get<bool>());
    const nlohmann::ordered_json f = semantics_json(nullptr, fl);
    EXPECT_FALSE(f.contains("mean"));
    EXPECT_FALSE(f["checks"]["tcp_anomaly"].contains("value"));
}

TEST(Semantics, HtmlTableOnlyWhenGiven) {
    const auto real = lan_trace(), synth = broken(real);
    const TraceProfile rp = profile_trace(real), sp = profile_trace(synth);
    const FidelityReport score = evaluate(rp, sp), fl = floor(real);
    const SemanticSet sem = semantics(real, synth), sem_fl = semantics_floor(real);
    HtmlReportInput in{"semantics", "real", "synthetic", &rp, &sp, &score, &fl, false};
    EXPECT_EQ(render_html_report(in).find("Traffic semantics"), std::string::npos);
    in.semantics = &sem;
    in.semantics_floor = &sem_fl;
    const std::string html = render_html_report(in);
    EXPECT_NE(html.find("Traffic semantics"), std::string::npos);
    for (auto name : kSemanticNames) EXPECT_NE(html.find("<td>" + std::string(name) + "</td>"), std::string::npos);
    EXPECT_NE(html.find("<b>FAIL</b>"), std::string::npos);
    EXPECT_EQ(test::xml_problem(html), "");
}

// On a real capture, the checks see the real trace's own structure: every tshark-style
// anomaly count is small, connections complete, and identity is exactly 0.
TEST(SemanticsData, RealCaptureAgainstItself) {
    auto cap = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/nDPI__netflix.pcap");
    ASSERT_TRUE(cap.ok()) << cap.status().message();
    const SemanticSet s = semantics(cap->records, cap->records);
    for (const auto& v : s.checks) EXPECT_EQ(v.value_or(0), 0.0);
    // tshark 4.0 on this file: 148 "previous segment not captured", 1 retransmission.
    const TcpAnalysis a = analyze_tcp(cap->records);
    size_t gaps = 0, retrans = 0;
    for (uint8_t v : a.verdict) gaps += v == kSegGap, retrans += v == kSegRetrans;
    EXPECT_EQ(gaps, 148u);
    EXPECT_EQ(retrans, 1u);
    // tshark's tcp.completeness per stream: 16 x 0x0f, 13 x 0x1f, 17 x 0x3f, 1 x 0x34.
    std::map<int, int> cmp;
    for (const auto& c : a.connections) ++cmp[c.completeness];
    EXPECT_EQ(cmp, (std::map<int, int>{{0x0f, 16}, {0x1f, 13}, {0x34, 1}, {0x3f, 17}}));
}

}  // namespace
}  // namespace dgc::fidelity
