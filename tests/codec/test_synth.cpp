// Synthesis: checksums verify over the zero-filled full packet, lengths are consistent,
// frames parse back to the same IP-level record, and the writer's size is exact.
#include <gtest/gtest.h>

#include <cstring>

#include "codec/byte_order.h"
#include "codec/capture_reader.h"
#include "codec/capture_writer.h"
#include "codec/checksum.h"
#include "codec/frame_parse.h"
#include "codec/frame_synth.h"
#include "codec/icmp_quote.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

PacketRecord base_v4(uint8_t proto) {
    PacketRecord r;
    r.t_ns = 1'700'000'000'123'456'789;
    r.linktype = 1;
    r.ethertype = 0x0800;
    r.present = kHasIp;
    r.ip_version = 4;
    r.src = {192, 168, 1, 10};
    r.dst = {10, 1, 2, 3};
    r.proto = proto;
    r.ip_len = 1200;
    r.ttl = 63;
    r.tos = 0x28;
    r.ip_id = 4321;
    r.df = true;
    return r;
}

PacketRecord base_v6(uint8_t proto) {
    PacketRecord r = base_v4(proto);
    r.ethertype = 0x86dd;
    r.ip_version = 6;
    r.src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    r.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    r.ip_id = 0;
    r.df = false;
    r.flow_label = 0xabcde;
    return r;
}

PacketRecord tcp(PacketRecord r) {
    r.present |= kHasPorts | kHasTcp;
    r.sport = 443;
    r.dport = 51515;
    r.seq = 0x01020304;
    r.ack = 0xa0b0c0d0;
    r.tcp_flags = 0x18;
    r.window = 501;
    r.tcp_opt_len = 12;
    return r;
}

PacketRecord udp(PacketRecord r) {
    r.present |= kHasPorts | kHasUdp;
    r.sport = 53;
    r.dport = 33333;
    r.udp_len = static_cast<uint16_t>(r.ip_len - (r.ip_version == 4 ? 20 : 40));
    return r;
}

// A DNS query to port 53 whose header (id, flags) is captured.
PacketRecord dns(PacketRecord r) {
    r = udp(r);
    std::swap(r.sport, r.dport);
    r.present |= kHasDns;
    r.dns_id = 0xbeef;
    r.dns_flags = 0x0100;
    return r;
}

// An IGMP message to a group, `ip_len` bytes with the Router Alert option.
PacketRecord igmp(uint8_t type, uint32_t ip_len, uint32_t rest) {
    PacketRecord r = base_v4(2);
    r.present |= kHasIgmp;
    r.dst = {224, 0, 0, 22};
    r.ttl = 1;
    r.ip_len = ip_len;
    r.icmp_type = type;
    r.icmp_rest = rest;
    return r;
}

PacketRecord icmp(PacketRecord r, uint8_t type, uint8_t code) {
    r.present |= kHasIcmp;
    r.icmp_type = type;
    r.icmp_code = code;
    return r;
}

struct Built {
    SynthLayout layout;
    std::vector<uint8_t> full;  // wirelen bytes: headers then zeros
};

Built build(const PacketRecord& r, uint32_t linktype) {
    Built b;
    b.layout = synth_layout(r, linktype);
    b.full.assign(std::max(b.layout.wirelen, b.layout.caplen), 0);
    synthesize_headers(r, linktype, b.layout, b.full.data());
    return b;
}

PacketRecord parse_back(const Built& b, uint32_t linktype, const PacketRecord& orig) {
    PacketRecord p;
    p.t_ns = orig.t_ns;
    parse_frame(linktype, b.full.data(), b.layout.caplen, p);
    return p;
}

// Verifies the IP header checksum and the transport checksum over the full zero-filled packet.
void expect_checksums_verify(const PacketRecord& r, const Built& b) {
    const uint8_t* ip = b.full.data() + b.layout.link;
    if (r.ip_version == 4) {
        EXPECT_EQ(checksum_finish(checksum_add(0, ip, b.layout.ip)), 0) << "IPv4 header";
    }
    if (r.frag_offset != 0 || r.mf) return;
    if ((r.proto == 6 && !(r.present & kHasTcp)) || (r.proto == 17 && !(r.present & kHasUdp))) return;
    const uint8_t* l4 = ip + b.layout.ip;
    const uint32_t l4_len = r.ip_len - b.layout.ip;
    switch (r.proto) {
        case 6:
            EXPECT_EQ(checksum_finish(checksum_add(pseudo_header_sum(r.ip_version, r.src.data(), r.dst.data(), 6, l4_len),
                                                   l4, l4_len)), 0) << "TCP";
            break;
        case 17:
            EXPECT_EQ(checksum_finish(checksum_add(
                          pseudo_header_sum(r.ip_version, r.src.data(), r.dst.data(), 17, r.udp_len), l4, r.udp_len)),
                      0) << "UDP";
            EXPECT_NE(load_be16(l4 + 6), 0) << "UDP checksum 0 means none";
            break;
        case 1:
            EXPECT_EQ(checksum_finish(checksum_add(0, l4, l4_len)), 0) << "ICMP";
            break;
        case 58:
            EXPECT_EQ(checksum_finish(checksum_add(pseudo_header_sum(6, r.src.data(), r.dst.data(), 58, l4_len), l4,
                                                   l4_len)), 0) << "ICMPv6";
            break;
        case 2:
            if (r.present & kHasIgmp) {
                EXPECT_EQ(checksum_finish(checksum_add(0, l4, l4_len)), 0) << "IGMP";
            }
            break;
    }
}

class SynthRoundTrip : public ::testing::TestWithParam<uint32_t> {};

TEST_P(SynthRoundTrip, ChecksumsLengthsAndParseBack) {
    const uint32_t lt = GetParam();
    std::vector<PacketRecord> cases = {
        tcp(base_v4(6)), udp(base_v4(17)), icmp(base_v4(1), 8, 0), icmp(base_v4(1), 3, 3),
        tcp(base_v6(6)), udp(base_v6(17)), icmp(base_v6(58), 128, 0), icmp(base_v6(58), 1, 4),
        base_v4(47),  // GRE: IP header only
        dns(base_v4(17)), dns(base_v6(17)),
    };
    PacketRecord odd_len = udp(base_v4(17));
    odd_len.ip_len = 77;
    odd_len.udp_len = 57;
    cases.push_back(odd_len);
    PacketRecord frag = base_v4(17);  // non-first fragment
    frag.frag_offset = 185;
    frag.mf = true;
    cases.push_back(frag);
    PacketRecord frag6 = udp(base_v6(17));  // first IPv6 fragment keeps its header and ports
    frag6.mf = true;
    frag6.ip_id = 0x11223344;
    cases.push_back(frag6);
    PacketRecord cut = base_v4(6);  // only the ports were captured
    cut.present |= kHasPorts | kTruncated;
    cut.sport = 1;
    cut.dport = 2;
    cases.push_back(cut);
    PacketRecord vlan = tcp(base_v4(6));
    vlan.vlan_depth = 2;
    vlan.vlan_id = 300;
    cases.push_back(vlan);
    // Errors that quote what caused them (format 33): a DNS answer, a TCP segment.
    PacketRecord late_answer = udp(base_v4(17));
    std::swap(late_answer.src, late_answer.dst);
    PacketRecord unreach = icmp(base_v4(1), 3, 3);
    unreach.quote = quote_of(late_answer);
    unreach.present |= kHasQuote;
    cases.push_back(unreach);
    PacketRecord unreach6 = icmp(base_v6(58), 1, 4);
    unreach6.quote = quote_of(tcp(base_v6(6)));
    unreach6.present |= kHasQuote;
    cases.push_back(unreach6);
    // ICMP (not ICMPv6) over IPv6, as a malformed capture can hold: it quotes IPv4, as the
    // parser reads it (found by fuzz_capture).
    PacketRecord v4_error_in_v6 = icmp(base_v6(1), 12, 0);
    v4_error_in_v6.quote = quote_of(late_answer);
    v4_error_in_v6.present |= kHasQuote;
    cases.push_back(v4_error_in_v6);

    // IGMP: version 2 and 3 queries, a version 2 report, a version 3 report of two records.
    PacketRecord query2 = igmp(kIgmpQuery, 32, 0), query3 = igmp(kIgmpQuery, 36, 0);
    query2.icmp_code = query3.icmp_code = 100;
    PacketRecord report3 = igmp(kIgmpV3Report, 48, 2);
    report3.igmp_records[0] = {4, {239, 255, 255, 250}};
    report3.igmp_records[1] = {2, {224, 0, 0, 251}};
    cases.insert(cases.end(), {query2, query3, igmp(kIgmpV2Report, 32, 0xeffffffa), report3});

    for (const PacketRecord& r : cases) {
        SCOPED_TRACE("proto " + std::to_string(r.proto) + " v" + std::to_string(r.ip_version));
        const Built b = build(r, lt);
        ASSERT_GT(b.layout.caplen, 0u);
        EXPECT_LE(b.layout.caplen, kMaxSynthHeaders);
        EXPECT_EQ(b.layout.wirelen, b.layout.link + r.ip_len);
        const PacketRecord back = parse_back(b, lt, r);
        EXPECT_EQ(ip_level(back), ip_level(r));
        if (lt == 1) {
            EXPECT_EQ(back.vlan_depth, r.vlan_depth);
            EXPECT_EQ(back.vlan_id, r.vlan_id);
        }
        expect_checksums_verify(r, b);
        // Length fields agree with ip_len.
        const uint8_t* ip = b.full.data() + b.layout.link;
        if (r.ip_version == 4) {
            EXPECT_EQ(load_be16(ip + 2), r.ip_len);
        } else {
            EXPECT_EQ(load_be16(ip + 4) + 40u, r.ip_len);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(LinkTypes, SynthRoundTrip, ::testing::Values(1u, 101u));

TEST(Synth, ADnsHeaderIsCapturedWithItsIdAndFlagsAndZeroCounts) {
    const PacketRecord r = dns(base_v4(17));
    const Built b = build(r, 1);
    ASSERT_EQ(b.layout.transport, 8 + kDnsHeaderLen);
    const uint8_t* m = b.full.data() + b.layout.link + b.layout.ip + 8;
    EXPECT_EQ(load_be16(m), 0xbeef);
    EXPECT_EQ(load_be16(m + 2), 0x0100);
    for (uint32_t i = 4; i < kDnsHeaderLen; ++i) EXPECT_EQ(m[i], 0) << i;
    // A record without one (port 53 from a generator before format 29): headers only, as before.
    EXPECT_EQ(synth_layout(udp(base_v4(17)), 1).transport, 8u);
    // One whose lengths say less than the header it holds (a damaged capture) keeps it, and
    // the wire length covers it, so the frame parses back to the record.
    PacketRecord tiny = r;
    tiny.ip_len = 20 + 8 + 4;
    tiny.udp_len = 12;
    const Built t = build(tiny, 1);
    EXPECT_EQ(t.layout.transport, 8 + kDnsHeaderLen);
    EXPECT_GE(t.layout.wirelen, t.layout.caplen);
    EXPECT_EQ(ip_level(parse_back(t, 1, tiny)), ip_level(tiny));
}

TEST(Synth, TcpOptionsAreNops) {
    const PacketRecord r = tcp(base_v4(6));
    const Built b = build(r, 1);
    const uint8_t* t = b.full.data() + 14 + 20;
    EXPECT_EQ(t[12] >> 4, 8);  // 32-byte header
    for (int i = 20; i < 32; ++i) EXPECT_EQ(t[i], 1);
}

TEST(Synth, SackBlocksSitAboveTheAck) {
    PacketRecord r;
    r.ack = 0xFFFFFF00u;  // the edges wrap as sequence numbers do
    r.tcp_opts = kOptTimestamp | kOptSack;
    r.tcp_sack_blocks = 2;
    r.tcp_sack_hole = 0x100, r.tcp_sack_len = 0x50;
    const uint32_t len = tcp_options_len(r.tcp_opts, r.tcp_sack_blocks);
    ASSERT_EQ(len, 12u + 4 + 16);
    std::vector<uint8_t> o(len);
    write_tcp_options(r, o.data(), len);
    const uint8_t* s = o.data() + 12;
    EXPECT_EQ(s[2], 5);
    EXPECT_EQ(s[3], 18);
    EXPECT_EQ(load_be32(s + 4), 0x00000000u);
    EXPECT_EQ(load_be32(s + 8), 0x00000050u);
    EXPECT_EQ(load_be32(s + 12), 0x00000150u);
    EXPECT_EQ(load_be32(s + 16), 0x000001A0u);
    // Without a span (a parsed record) the edges stay zero.
    r.tcp_sack_len = 0;
    write_tcp_options(r, o.data(), len);
    for (uint32_t i = 4; i < 20; ++i) EXPECT_EQ(s[i], 0) << i;
}

TEST(Synth, IcmpErrorStopsAfterIcmpHeader) {
    const SynthLayout L = synth_layout(icmp(base_v4(1), 11, 0), 1);
    EXPECT_TRUE(L.icmp_error);
    EXPECT_EQ(L.caplen, 14u + 20 + 8);
    EXPECT_FALSE(synth_layout(icmp(base_v4(1), 0, 0), 1).icmp_error);
}

TEST(Synth, AnIcmpErrorCarriesItsQuoteAndReadsBackAsTheDatagramItQuotes) {
    PacketRecord answer = dns(base_v4(17));
    answer.sport = kDnsPort, answer.dport = 50123, answer.ttl = 64, answer.ip_id = 0x1234, answer.df = true;
    PacketRecord e = icmp(base_v4(1), 3, 3);
    e.src = answer.dst, e.dst = answer.src;
    e.quote = quote_of(answer);
    e.present |= kHasQuote;
    const Built b = build(e, 1);
    ASSERT_EQ(b.layout.caplen, 14u + 20 + 8 + 20 + 8);
    const uint8_t* inner = b.full.data() + 14 + 20 + 8;
    EXPECT_EQ(inner[0], 0x45);
    EXPECT_EQ(checksum_finish(checksum_add(0, inner, 20)), 0) << "quoted IPv4 header";
    EXPECT_EQ(load_be16(inner + 2), answer.ip_len);
    EXPECT_EQ(load_be16(inner + 4), 0x1234);
    EXPECT_EQ(inner[9], 17);
    EXPECT_EQ(std::memcmp(inner + 12, answer.src.data(), 4), 0);
    EXPECT_EQ(load_be16(inner + 20), kDnsPort);
    EXPECT_EQ(load_be16(inner + 22), 50123);
    EXPECT_EQ(load_be16(inner + 24), answer.udp_len);
    const PacketRecord back = parse_back(b, 1, e);
    ASSERT_TRUE(back.present & kHasQuote);
    EXPECT_EQ(back.quote, e.quote);
    // Zeros where a quote would be (a writer's zero payload) are no quote.
    PacketRecord bare = icmp(base_v4(1), 3, 3);
    const Built z = build(bare, 1);
    PacketRecord p;
    parse_frame(1, z.full.data(), static_cast<uint32_t>(z.full.size()), p);
    EXPECT_FALSE(p.present & kHasQuote);
    // An error that is not about a datagram carries none, whatever the record says.
    PacketRecord echo = icmp(base_v4(1), 8, 0);
    echo.present |= kHasQuote;
    EXPECT_EQ(synth_layout(echo, 1).caplen, 14u + 20 + 8);
}

// IGMP goes after a Router Alert option and is captured whole, its records and checksum
// written; a type that is no host's or router's message parses as no IGMP (sifely's hub's
// all-zero type 0, which tshark calls malformed, stays an IP header). Real frames are
// written back byte for byte in test_dev_corpus.cpp.
TEST(Synth, IgmpGoesAfterARouterAlertAndIsCapturedWhole) {
    PacketRecord report = igmp(kIgmpV3Report, 48, 2);
    report.igmp_records[0] = {4, {239, 255, 255, 250}};
    report.igmp_records[1] = {2, {224, 0, 0, 251}};
    const Built b = build(report, 1);
    ASSERT_EQ(b.layout.caplen, 14u + 48);
    const uint8_t* ip = b.full.data() + 14;
    EXPECT_EQ(ip[0], 0x46);
    EXPECT_EQ(std::vector<uint8_t>(ip + 20, ip + 24), (std::vector<uint8_t>{0x94, 4, 0, 0}));
    const uint8_t* m = ip + 24;
    EXPECT_EQ(m[0], kIgmpV3Report);
    EXPECT_EQ(load_be16(m + 6), 2);
    EXPECT_EQ(std::vector<uint8_t>(m + 8, m + 24), (std::vector<uint8_t>{4, 0, 0, 0, 239, 255, 255, 250, 2, 0, 0, 0, 224, 0, 0, 251}));
    EXPECT_EQ(checksum_finish(checksum_add(0, m, 24)), 0);
    const Built q = build(igmp(kIgmpQuery, 36, 0), 1);
    EXPECT_EQ(std::vector<uint8_t>(q.full.begin() + 14 + 24 + 8, q.full.begin() + 14 + 36), (std::vector<uint8_t>{2, 125, 0, 0}))
        << "robustness 2, interval 125 s, no sources";
    PacketRecord zero = igmp(0, 32, 0);
    const Built z = build(zero, 1);
    PacketRecord back;
    parse_frame(1, z.full.data(), z.layout.caplen, back);
    EXPECT_TRUE(back.is_ip());
    EXPECT_FALSE(back.present & kHasIgmp);
    // Protocol 2 over IPv6 is no IGMP, and neither is a message cut before its 8 bytes.
    PacketRecord six = igmp(kIgmpQuery, 32, 0);
    six.ip_version = 6, six.present &= static_cast<uint16_t>(~kHasIgmp);
    EXPECT_EQ(synth_layout(six, 101).transport, 0u);
    PacketRecord cut;
    parse_frame(1, q.full.data(), 14 + 24 + 6, cut);
    EXPECT_FALSE(cut.present & kHasIgmp);
}

TEST(Synth, LinkTypesThatCannotCarryARecord) {
    PacketRecord arp;
    arp.ethertype = 0x0806;
    arp.wirelen = 60;
    EXPECT_EQ(synth_layout(arp, 101).caplen, 0u);
    EXPECT_EQ(synth_layout(arp, 1).caplen, 14u);
    EXPECT_EQ(synth_layout(arp, 1).wirelen, 60u);
    EXPECT_EQ(synth_layout(tcp(base_v6(6)), 228).caplen, 0u);
    EXPECT_EQ(synth_layout(tcp(base_v4(6)), 113).caplen, 0u);
    EXPECT_GT(synth_layout(tcp(base_v6(6)), 229).caplen, 0u);
}

TEST(Synth, BogusShortIpLenNeverMakesCaplenExceedWirelen) {
    PacketRecord r = tcp(base_v4(6));
    r.ip_len = 0;  // TSO captures report 0
    const SynthLayout L = synth_layout(r, 1);
    EXPECT_GE(L.wirelen, L.caplen);
}

TEST(PcapWriter, SizeIsExactAndFileReadsBack) {
    std::vector<PacketRecord> recs = {tcp(base_v4(6)), udp(base_v6(17)), icmp(base_v4(1), 3, 1)};
    PacketRecord arp;
    arp.ethertype = 0x0806;
    arp.wirelen = 42;
    arp.t_ns = 5;
    recs.push_back(arp);
    for (uint32_t lt : {1u, 101u}) {
        for (bool ns : {false, true}) {
            for (bool zeros : {false, true}) {
                PcapFormat fmt;
                fmt.linktype = lt;
                fmt.nanosecond = ns;
                fmt.zero_payload = zeros;
                std::string out = pcap_file_header(fmt);
                append_pcap_records(fmt, recs, out);
                EXPECT_EQ(out.size(), 24 + pcap_records_size(fmt, recs));
                auto back = read_capture_memory("synth", out);
                ASSERT_TRUE(back.ok()) << back.status().message();
                EXPECT_TRUE(back->info.warning.empty()) << back->info.warning;
                EXPECT_EQ(back->info.nanosecond, ns);
                ASSERT_EQ(back->records.size(), lt == 1 ? 4u : 3u);
                for (size_t i = 0; i < 3; ++i) {
                    PacketRecord want = recs[i];
                    if (!ns) want.t_ns = want.t_ns / 1000 * 1000;  // µs output truncates
                    // Zero payload after port 53's UDP header reads as a DNS header of zeros.
                    if (zeros && want.proto == 17 && want.sport == kDnsPort) want.present |= kHasDns;
                    EXPECT_EQ(ip_level(back->records[i]), ip_level(want));
                    EXPECT_EQ(back->records[i].wirelen, (lt == 1 ? 14 : 0) + recs[i].ip_len);
                }
                if (lt == 1) {
                    EXPECT_EQ(back->records[3].ethertype, 0x0806);
                }
            }
        }
    }
}

TEST(PcapWriter, NegativeTimestampsFloor) {
    PacketRecord r = udp(base_v4(17));
    r.t_ns = -1;  // 1969-12-31T23:59:59.999999999
    PcapFormat fmt;
    fmt.nanosecond = true;
    std::string out;
    append_pcap_records(fmt, std::span<const PacketRecord>(&r, 1), out);
    EXPECT_EQ(load_le32(reinterpret_cast<const uint8_t*>(out.data())), 0xffffffffu);
    EXPECT_EQ(load_le32(reinterpret_cast<const uint8_t*>(out.data()) + 4), 999'999'999u);
}

}  // namespace
}  // namespace dgc
