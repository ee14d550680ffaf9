// Header parsing over hand-made frames: each link type, tags, IPv6 extension headers,
// fragments and truncation.
#include <gtest/gtest.h>

#include "codec/frame_parse.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

using test::hex;

PacketRecord parse(uint32_t linktype, const std::string& frame) {
    PacketRecord r;
    parse_frame(linktype, reinterpret_cast<const uint8_t*>(frame.data()), static_cast<uint32_t>(frame.size()), r);
    return r;
}

const std::string kEthIpv4 = "00 11 22 33 44 55 66 77 88 99 aa bb 08 00";
const std::string kEthIpv6 = "00 11 22 33 44 55 66 77 88 99 aa bb 86 dd";
// IPv6 header, payload length 0x20 (ip_len 72), next header as given, hop limit 64, 2001:db8::1 -> 2001:db8::2.
std::string ipv6(const std::string& next_header) {
    return "6a b1 23 45 00 20 " + next_header + " 40 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
           " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02";
}

TEST(FrameParse, EthernetIpv4TcpWithOptions) {
    const std::string f = test::eth_ipv4_tcp_frame(12);
    PacketRecord r = parse(1, f);
    EXPECT_EQ(r.present, kHasIp | kHasPorts | kHasTcp);
    EXPECT_EQ(r.ethertype, 0x0800);
    EXPECT_EQ(r.ip_version, 4);
    EXPECT_EQ(r.tos, 0x10);
    EXPECT_EQ(r.ip_len, 20u + 32u + 100u);  // from the header, not the 66 captured bytes
    EXPECT_EQ(r.ip_id, 0x1234u);
    EXPECT_TRUE(r.df);
    EXPECT_FALSE(r.mf);
    EXPECT_EQ(r.ttl, 64);
    EXPECT_EQ(r.proto, 6);
    EXPECT_EQ(r.src[0], 10);
    EXPECT_EQ(r.dst[3], 2);
    EXPECT_EQ(r.sport, 1234);
    EXPECT_EQ(r.dport, 80);
    EXPECT_EQ(r.seq, 1u);
    EXPECT_EQ(r.ack, 2u);
    EXPECT_EQ(r.tcp_flags, 0x18);
    EXPECT_EQ(r.window, 0x7210);
    EXPECT_EQ(r.tcp_opt_len, 12);
}

TEST(FrameParse, QinQTagsAnyDepth) {
    std::string f = hex("00 11 22 33 44 55 66 77 88 99 aa bb  88 a8 00 64  81 00 20 c8  81 00 00 05  08 00");
    f += test::eth_ipv4_tcp_frame().substr(14);
    PacketRecord r = parse(1, f);
    EXPECT_EQ(r.vlan_depth, 3);
    EXPECT_EQ(r.vlan_id, 100);  // the outermost tag
    EXPECT_EQ(r.ethertype, 0x0800);
    EXPECT_TRUE(r.is_ip());
    EXPECT_EQ(r.dport, 80);
}

TEST(FrameParse, Ipv6ExtensionHeadersAreSkipped) {
    // hop-by-hop (8 bytes) -> fragment (first, MF, id 0xdeadbeef) -> UDP 53 -> 5353
    const std::string f = hex(kEthIpv6 + ipv6("00") + "2c 00 00 00 00 00 00 00" + "11 00 00 01 de ad be ef" +
                              "00 35 14 e9 00 10 00 00");
    PacketRecord r = parse(1, f);
    EXPECT_EQ(r.ip_version, 6);
    EXPECT_EQ(r.proto, 17);
    EXPECT_EQ(r.ip_len, 72u);
    EXPECT_EQ(r.ttl, 64);
    EXPECT_EQ(r.tos, 0xab);
    EXPECT_EQ(r.flow_label, 0x12345u);
    EXPECT_EQ(r.ip_id, 0xdeadbeefu);
    EXPECT_TRUE(r.mf);
    EXPECT_EQ(r.frag_offset, 0);
    EXPECT_EQ(r.sport, 53);
    EXPECT_EQ(r.dport, 5353);
    EXPECT_EQ(r.udp_len, 16);
    EXPECT_EQ(r.present, kHasIp | kHasPorts | kHasUdp);
}

TEST(FrameParse, Ipv6RoutingAndDestOptionsThenTcp) {
    const std::string f = hex(kEthIpv6 + ipv6("2b") + "3c 00 00 00 00 00 00 00" + "06 01 00 00 00 00 00 00" +
                              std::string(16, '0') + "00 16 c0 00 00 00 00 09 00 00 00 00 50 02 ff ff 00 00 00 00");
    PacketRecord r = parse(1, f);
    EXPECT_EQ(r.proto, 6);
    EXPECT_EQ(r.sport, 22);
    EXPECT_EQ(r.seq, 9u);
    EXPECT_EQ(r.tcp_flags, 0x02);
}

TEST(FrameParse, NonFirstFragmentsHaveNoPorts) {
    // IPv4: offset 185 (x8 = 1480), proto UDP; the bytes after the header are payload, not a UDP header.
    const std::string v4 = hex(kEthIpv4 + "45 00 00 30 00 07 00 b9 40 11 00 00 0a 00 00 01 0a 00 00 02" +
                               "00 35 00 35 00 1c 00 00");
    PacketRecord r = parse(1, v4);
    EXPECT_TRUE(r.is_ip());
    EXPECT_EQ(r.frag_offset, 185);
    EXPECT_FALSE(r.has_ports());
    EXPECT_EQ(r.sport, 0);
    EXPECT_EQ(r.present & kTruncated, 0);

    const std::string v6 = hex(kEthIpv6 + ipv6("2c") + "11 00 05 c8 00 00 00 2a" + "00 35 00 35 00 1c 00 00");
    PacketRecord r6 = parse(1, v6);
    EXPECT_EQ(r6.proto, 17);
    EXPECT_EQ(r6.frag_offset, 185);
    EXPECT_EQ(r6.ip_id, 42u);
    EXPECT_FALSE(r6.has_ports());
}

TEST(FrameParse, TruncatedTransportKeepsWhatIsThere) {
    const std::string f = test::eth_ipv4_tcp_frame().substr(0, 14 + 20 + 10);
    PacketRecord r = parse(1, f);
    EXPECT_TRUE(r.is_ip());
    EXPECT_TRUE(r.has_ports());
    EXPECT_EQ(r.dport, 80);
    EXPECT_EQ(r.present & kHasTcp, 0);
    EXPECT_NE(r.present & kTruncated, 0);

    PacketRecord cut_ip = parse(1, test::eth_ipv4_tcp_frame().substr(0, 14 + 12));
    EXPECT_FALSE(cut_ip.is_ip());
    EXPECT_EQ(cut_ip.ethertype, 0x0800);
    EXPECT_NE(cut_ip.present & kTruncated, 0);

    PacketRecord cut_link = parse(1, hex("00 11 22 33 44 55 66"));
    EXPECT_EQ(cut_link.present, kTruncated);
}

TEST(FrameParse, NonIpKeepsEthertype) {
    const std::string arp = hex("ff ff ff ff ff ff 66 77 88 99 aa bb 08 06 00 01 08 00 06 04 00 01");
    PacketRecord r = parse(1, arp);
    EXPECT_FALSE(r.is_ip());
    EXPECT_EQ(r.ethertype, 0x0806);
    EXPECT_EQ(r.present, 0);
    // Ethertype says IPv4 but the version nibble is 6: not IP.
    std::string liar_frame = test::eth_ipv4_tcp_frame();
    liar_frame[14] = 0x65;
    PacketRecord liar = parse(1, liar_frame);
    EXPECT_FALSE(liar.is_ip());
}

TEST(FrameParse, LlcSnapCarriesIp) {
    std::string f = hex("00 11 22 33 44 55 66 77 88 99 aa bb 00 40 aa aa 03 00 00 00 08 00");
    f += test::eth_ipv4_tcp_frame().substr(14);
    PacketRecord r = parse(1, f);
    EXPECT_TRUE(r.is_ip());
    EXPECT_EQ(r.dport, 80);
    PacketRecord stp = parse(1, hex("01 80 c2 00 00 00 66 77 88 99 aa bb 00 26 42 42 03 00 00 00 00 00"));
    EXPECT_FALSE(stp.is_ip());
}

TEST(FrameParse, LinuxCookedV1AndV2) {
    const std::string ip = test::eth_ipv4_tcp_frame().substr(14);
    const std::string sll = hex("00 00 00 01 00 06 00 11 22 33 44 55 00 00 08 00") + ip;
    PacketRecord r = parse(113, sll);
    EXPECT_TRUE(r.is_ip());
    EXPECT_EQ(r.dport, 80);
    const std::string sll2 = hex("08 00 00 00 00 00 00 02 00 01 00 06 00 11 22 33 44 55 00 00") + ip;
    PacketRecord r2 = parse(276, sll2);
    EXPECT_TRUE(r2.is_ip());
    EXPECT_EQ(r2.ethertype, 0x0800);
    EXPECT_EQ(r2.sport, 1234);
    EXPECT_NE(parse(276, sll2.substr(0, 19)).present & kTruncated, 0);
}

TEST(FrameParse, RawIpAllSpellings) {
    const std::string ip = test::eth_ipv4_tcp_frame().substr(14);
    for (uint32_t lt : {12u, 14u, 101u, 228u}) {
        PacketRecord r = parse(lt, ip);
        EXPECT_TRUE(r.is_ip()) << "linktype " << lt;
        EXPECT_EQ(r.dport, 80) << "linktype " << lt;
    }
    const std::string v6 = hex(ipv6("3b"));  // no next header
    EXPECT_EQ(parse(229, v6).ip_version, 6);
    EXPECT_EQ(parse(101, v6).proto, 59);
    EXPECT_EQ(normalize_linktype(12), 101u);
    EXPECT_EQ(normalize_linktype(14), 101u);
    EXPECT_EQ(normalize_linktype(1), 1u);
}

TEST(FrameParse, NullAndLoopFamilies) {
    const std::string ip = test::eth_ipv4_tcp_frame().substr(14);
    EXPECT_TRUE(parse(0, hex("02 00 00 00") + ip).is_ip());   // little-endian host
    EXPECT_TRUE(parse(0, hex("00 00 00 02") + ip).is_ip());   // big-endian host
    EXPECT_TRUE(parse(108, hex("00 00 00 02") + ip).is_ip());  // LOOP: network order
    for (const char* af6 : {"18 00 00 00", "1c 00 00 00", "1e 00 00 00"}) {
        EXPECT_EQ(parse(0, hex(af6) + hex(ipv6("3b"))).ip_version, 6) << af6;
    }
    EXPECT_FALSE(parse(0, hex("07 00 00 00") + ip).is_ip());  // AF 7: not IP
}

TEST(FrameParse, IcmpAndIcmpv6TypeCode) {
    const std::string icmp = hex(kEthIpv4 + "45 00 00 54 00 01 00 00 40 01 00 00 0a 00 00 01 0a 00 00 02" +
                                 "0b 01 00 00 00 00 00 00");
    PacketRecord r = parse(1, icmp);
    EXPECT_EQ(r.present, kHasIp | kHasIcmp);
    EXPECT_EQ(r.icmp_type, 11);
    EXPECT_EQ(r.icmp_code, 1);
    const std::string icmp6 = hex(kEthIpv6 + ipv6("3a") + "80 00 00 00 00 01 00 01");
    PacketRecord r6 = parse(1, icmp6);
    EXPECT_EQ(r6.icmp_type, 128);
    EXPECT_FALSE(r6.has_ports());
}

TEST(FrameParse, OtherLinkTypesAreNonIp) {
    const std::string ip = test::eth_ipv4_tcp_frame().substr(14);
    PacketRecord r = parse(105, ip);  // 802.11: recognised, not parsed
    EXPECT_FALSE(r.is_ip());
    EXPECT_EQ(r.present, 0);
}

// Found by fuzz_capture: a chain of 17 hop-by-hop headers. The walk gives up after 16;
// the record must say the upper layer was not reached, as a cut-off chain would.
TEST(FrameParse, OverlongIpv6ExtensionChainIsTruncated) {
    std::string chain;
    for (int i = 0; i < 17; ++i) chain += "00 00 00 00 00 00 00 00";
    PacketRecord r = parse(101, hex(ipv6("00") + chain));
    EXPECT_TRUE(r.is_ip());
    EXPECT_EQ(r.proto, 0);
    EXPECT_NE(r.present & kTruncated, 0);
    std::string ok_chain;
    for (int i = 0; i < 15; ++i) ok_chain += "00 00 00 00 00 00 00 00";
    PacketRecord ok = parse(101, hex(ipv6("00") + ok_chain + "3b 00 00 00 00 00 00 00"));
    EXPECT_EQ(ok.proto, 59);
    EXPECT_EQ(ok.present & kTruncated, 0);
}

TEST(FrameParse, BogusIhlIsNotIp) {
    std::string ip = test::eth_ipv4_tcp_frame().substr(14);
    ip[0] = 0x43;  // IHL 3 < 5
    EXPECT_FALSE(parse(101, ip).is_ip());
}

}  // namespace
}  // namespace dgc
