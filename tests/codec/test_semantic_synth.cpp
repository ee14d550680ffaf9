// Frame synthesis for the format-6 generator: real TCP options that parse back to the same
// values, ICMP rest-of-header, link addresses from the record, ARP bodies; and the address
// classes and synthetic addresses the generator keeps them by.
#include <gtest/gtest.h>

#include <vector>

#include "codec/address_class.h"
#include "codec/frame_parse.h"
#include "codec/frame_synth.h"

namespace dgc {
namespace {

PacketRecord tcp_syn() {
    PacketRecord r;
    r.linktype = 1;
    r.ethertype = 0x0800;
    r.present = kHasIp | kHasPorts | kHasTcp;
    r.ip_version = 4;
    r.src = {192, 168, 1, 10};
    r.dst = {93, 184, 216, 34};
    r.proto = 6;
    r.ttl = 64;
    r.sport = 51000;
    r.dport = 443;
    r.seq = 1000;
    r.tcp_flags = 0x02;
    r.window = 64240;
    r.tcp_opts = kOptMss | kOptSackPerm | kOptTimestamp | kOptWscale;
    r.tcp_mss = 1460;
    r.tcp_wscale = 7;
    r.tcp_tsval = 0xA1B2C3D4;
    r.tcp_tsecr = 0;
    r.tcp_opt_len = static_cast<uint8_t>(tcp_options_len(r.tcp_opts, 0));
    r.ip_len = 20 + 20 + r.tcp_opt_len;
    r.eth_src = {0x02, 1, 2, 3, 4, 5};
    r.eth_dst = {0x02, 9, 8, 7, 6, 5};
    return r;
}

PacketRecord synth_and_parse(const PacketRecord& r) {
    const SynthLayout L = synth_layout(r, 1);
    std::vector<uint8_t> buf(std::max(L.caplen, L.wirelen), 0);
    synthesize_headers(r, 1, L, buf.data());
    PacketRecord p;
    parse_frame(1, buf.data(), L.caplen, p);
    return p;
}

TEST(SemanticSynth, LinuxSynOptionsParseBackToTheirValues) {
    const PacketRecord r = tcp_syn();
    EXPECT_EQ(r.tcp_opt_len, 20);  // MSS 4, SACK-permitted + timestamps 12, NOP + window scale 4
    const PacketRecord p = synth_and_parse(r);
    EXPECT_EQ(p.tcp_opts, r.tcp_opts);
    EXPECT_EQ(p.tcp_opt_len, 20);
    EXPECT_EQ(p.tcp_mss, 1460);
    EXPECT_EQ(p.tcp_wscale, 7);
    EXPECT_EQ(p.tcp_tsval, 0xA1B2C3D4u);
    EXPECT_EQ(p.tcp_tsecr, 0u);
    EXPECT_EQ(p.eth_src, r.eth_src);
    EXPECT_EQ(p.eth_dst, r.eth_dst);
    EXPECT_EQ(p.ip_len, 60u);
}

TEST(SemanticSynth, OptionLengthsOfCommonStacks) {
    EXPECT_EQ(tcp_options_len(kOptTimestamp, 0), 12u);                        // data segment, NOP NOP TS
    EXPECT_EQ(tcp_options_len(kOptMss, 0), 4u);                               // MSS alone
    EXPECT_EQ(tcp_options_len(kOptMss | kOptWscale | kOptSackPerm, 0), 12u);  // Windows-style SYN
    EXPECT_EQ(tcp_options_len(0, 0), 0u);
}

TEST(SemanticSynth, PaddedSynKeepsItsHeaderLengthAndOptions) {
    PacketRecord r = tcp_syn();
    r.tcp_opt_len = 24;  // a stack that pads with EOL (macOS sends 24 bytes)
    r.ip_len = 64;
    const PacketRecord p = synth_and_parse(r);
    EXPECT_EQ(p.tcp_opt_len, 24);
    EXPECT_EQ(p.tcp_opts, r.tcp_opts);
    EXPECT_EQ(p.tcp_mss, 1460);
}

TEST(SemanticSynth, RecordsWithoutOptionKindsKeepTheOldNopPadding) {
    PacketRecord r = tcp_syn();
    r.tcp_opts = 0;
    r.tcp_opt_len = 12;
    const SynthLayout L = synth_layout(r, 1);
    std::vector<uint8_t> buf(L.wirelen, 0);
    synthesize_headers(r, 1, L, buf.data());
    for (uint32_t i = 0; i < 12; ++i) EXPECT_EQ(buf[14 + 20 + 20 + i], 1) << i;
}

TEST(SemanticSynth, EchoIdentifierAndSequenceRoundTrip) {
    PacketRecord r = tcp_syn();
    r.present = kHasIp | kHasIcmp;
    r.proto = 1;
    r.icmp_type = 8;
    r.icmp_rest = 0x12340007;
    r.ip_len = 84;
    const PacketRecord p = synth_and_parse(r);
    EXPECT_EQ(p.icmp_type, 8);
    EXPECT_EQ(p.icmp_rest, 0x12340007u);
}

TEST(SemanticSynth, ArpRequestCarriesItsAddresses) {
    PacketRecord r;
    r.linktype = 1;
    r.ethertype = 0x0806;
    r.arp_op = 1;
    r.src = {192, 168, 1, 10};
    r.dst = {192, 168, 1, 1};
    r.eth_src = {0x02, 1, 2, 3, 4, 5};
    r.eth_dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    r.caplen = 60;
    r.wirelen = 60;
    const SynthLayout L = synth_layout(r, 1);
    EXPECT_EQ(L.caplen, 60u);
    const PacketRecord p = synth_and_parse(r);
    EXPECT_EQ(p.arp_op, 1);
    EXPECT_EQ(p.src, r.src);
    EXPECT_EQ(p.dst, r.dst);
    EXPECT_FALSE(p.is_ip());
    // Without an opcode (the format-5 generator) the frame stays a bare link header.
    r.arp_op = 0;
    EXPECT_EQ(synth_layout(r, 1).caplen, 14u);
}

TEST(AddressClass, ClassifiesEachScope) {
    struct Case {
        uint8_t v;
        std::array<uint8_t, 16> a;
        AddrClass c;
    };
    const std::vector<Case> cases = {
        {4, {10, 1, 2, 3}, AddrClass::kPrivate10},      {4, {172, 16, 0, 1}, AddrClass::kPrivate172},
        {4, {172, 32, 0, 1}, AddrClass::kPublic4},      {4, {192, 168, 5, 5}, AddrClass::kPrivate192},
        {4, {100, 64, 1, 1}, AddrClass::kShared4},      {4, {100, 128, 1, 1}, AddrClass::kPublic4},
        {4, {127, 0, 0, 1}, AddrClass::kLoopback4},     {4, {169, 254, 3, 4}, AddrClass::kLinkLocal4},
        {4, {224, 0, 0, 251}, AddrClass::kMulticast4},  {4, {255, 255, 255, 255}, AddrClass::kBroadcast4},
        {4, {0, 0, 0, 0}, AddrClass::kUnspecified4},    {4, {8, 8, 8, 8}, AddrClass::kPublic4},
        {6, {0xfe, 0x80}, AddrClass::kLinkLocal6},      {6, {0xfd, 0x12}, AddrClass::kUla6},
        {6, {0xff, 0x02}, AddrClass::kMulticast6},      {6, {0x26, 0x07, 0xf8, 0xb0}, AddrClass::kGlobal6},
    };
    for (const auto& c : cases) EXPECT_EQ(classify_address(c.v, c.a.data()), c.c) << addr_class_name(c.c);
    std::array<uint8_t, 16> lo{};
    lo[15] = 1;
    EXPECT_EQ(classify_address(6, lo.data()), AddrClass::kLoopback6);
}

TEST(AddressClass, SyntheticAddressesKeepClassSubnetAndBroadcast) {
    for (int c = 0; c < static_cast<int>(AddrClass::kCount); ++c) {
        const auto cls = static_cast<AddrClass>(c);
        if (addr_class_is_exact(cls)) continue;
        const uint8_t v = cls >= AddrClass::kGlobal6 ? 6 : 4;
        for (uint16_t subnet : {0, 1, 517, 65535}) {
            const auto a = synth_address_of(cls, subnet, 11, HostKind::kHost);
            const auto b = synth_address_of(cls, subnet, 12, HostKind::kHost);
            EXPECT_EQ(classify_address(v, a.data()), cls) << addr_class_name(cls) << " subnet " << subnet;
            if (v == 4) {
                // Hosts of one subnet share the synthetic /24; its broadcast is that /24's .255.
                EXPECT_TRUE(std::equal(a.begin(), a.begin() + 3, b.begin()));
                const auto bc = synth_address_of(cls, subnet, 99, HostKind::kSubnetBroadcast);
                EXPECT_TRUE(std::equal(a.begin(), a.begin() + 3, bc.begin()));
                EXPECT_EQ(bc[3], 255);
                EXPECT_NE(a[3], 0);
                EXPECT_NE(a[3], 255);
            } else if (cls != AddrClass::kLinkLocal6) {
                EXPECT_TRUE(std::equal(a.begin(), a.begin() + 8, b.begin()));
            }
        }
    }
    // Different real subnets land apart.
    const std::array<uint8_t, 16> x = {10, 1, 2, 3}, y = {10, 1, 3, 3};
    EXPECT_NE(subnet_id_of(4, x.data()), subnet_id_of(4, y.data()));
    const std::array<uint8_t, 16> x2 = {10, 1, 2, 200};
    EXPECT_EQ(subnet_id_of(4, x.data()), subnet_id_of(4, x2.data()));
}

TEST(AddressClass, ANat64AddressKeepsItsPrefixAndItsIpv4HostsSubnet) {
    const std::array<uint8_t, 16> v4{151, 101, 121, 140}, v4_peer{151, 101, 121, 7}, v4_other{151, 101, 122, 140};
    auto nat64 = [](const std::array<uint8_t, 16>& x) {
        std::array<uint8_t, 16> a{0x00, 0x64, 0xff, 0x9b};
        std::copy(x.begin(), x.begin() + 4, a.begin() + 12);
        return a;
    };
    const auto a = nat64(v4);
    EXPECT_EQ(classify_address(6, a.data()), AddrClass::kNat64_6);
    std::array<uint8_t, 16> local_use = a;  // 64:ff9b:1::/48 (RFC 8215) is an ordinary prefix here
    local_use[5] = 1;
    EXPECT_EQ(classify_address(6, local_use.data()), AddrClass::kGlobal6);
    // One subnet: the IPv4 host's /24, whichever way it is reached.
    EXPECT_EQ(subnet_id_of(6, a.data()), subnet_id_of(4, v4.data()));
    EXPECT_EQ(subnet_id_of(6, a.data()), subnet_id_of(6, nat64(v4_peer).data()));
    EXPECT_NE(subnet_id_of(6, a.data()), subnet_id_of(6, nat64(v4_other).data()));
    const uint16_t subnet = subnet_id_of(6, a.data());
    const auto s1 = synth_address_of(AddrClass::kNat64_6, subnet, 1, HostKind::kHost);
    const auto s2 = synth_address_of(AddrClass::kNat64_6, subnet, 2, HostKind::kHost);
    EXPECT_TRUE(std::equal(s1.begin(), s1.begin() + 15, s2.begin())) << "the prefix and one synthetic /24";
    EXPECT_NE(s1, s2);
    const std::array<uint8_t, 16> embedded{s1[12], s1[13], s1[14], s1[15]};
    EXPECT_EQ(classify_address(4, embedded.data()), AddrClass::kPublic4) << "RFC 6052 embeds no private address in the prefix";
    EXPECT_NE(s1, a) << "no real address";
}

TEST(AddressClass, GroupDestinationsGetTheirStandardMacs) {
    std::array<uint8_t, 6> m{};
    const std::array<uint8_t, 16> mdns = {224, 0, 0, 251};
    ASSERT_TRUE(group_mac(4, mdns.data(), m));
    EXPECT_EQ(m, (std::array<uint8_t, 6>{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}));
    const std::array<uint8_t, 16> bcast = {192, 168, 1, 255};
    ASSERT_TRUE(group_mac(4, bcast.data(), m));
    EXPECT_EQ(m, (std::array<uint8_t, 6>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
    const std::array<uint8_t, 16> host = {192, 168, 1, 7};
    EXPECT_FALSE(group_mac(4, host.data(), m));
    EXPECT_EQ(synth_mac(5)[0] & 0x03, 0x02);  // locally administered unicast
}

}  // namespace
}  // namespace dgc
