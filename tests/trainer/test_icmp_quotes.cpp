// Format 33 (trainer/icmp_quotes.h): an ICMP error quotes a packet of the chunk that caused it.
#include <gtest/gtest.h>

#include <vector>

#include "codec/icmp_quote.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/icmp_quotes.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

PacketRecord datagram(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, int64_t t) {
    PacketRecord r = lan_record(17, src, sport, dst, dport, 238);
    r.present |= kHasUdp;
    r.udp_len = 218;
    r.t_ns = t;
    r.eth_src = {2, 0, 0, 0, 0, src}, r.eth_dst = {2, 0, 0, 0, 0, dst};
    return r;
}

PacketRecord error(uint8_t src, uint8_t dst, uint8_t type, uint8_t code, int64_t t) {
    PacketRecord r = lan_record(1, src, 0, dst, 0, 338);
    r.present = kHasIp | kHasIcmp;
    r.icmp_type = type, r.icmp_code = code;
    r.t_ns = t;
    r.eth_src = {2, 0, 0, 0, 0, src}, r.eth_dst = {2, 0, 0, 0, 0, dst};
    return r;
}

}  // namespace

TEST(IcmpQuotes, APortUnreachableAnswersTheLatestDatagramToItsSenderAndGoesBackToItsSource) {
    // Host 2 asked its router (1) and got answers to client ports; its own DHCP port 68 is open.
    std::vector<PacketRecord> recs = {
        datagram(1, 53, 2, 40001, 1), datagram(1, 53, 2, 40002, 2), datagram(1, 67, 2, 68, 3),
        error(2, 7, 3, 3, 4),  // the model drew the error to another host (7)
        error(2, 7, 3, 3, 5),
    };
    quote_offending_packets(recs);
    for (int k : {3, 4}) {
        ASSERT_TRUE(recs[k].present & kHasQuote) << k;
        EXPECT_EQ(recs[k].dst, recs[0].src) << "back to the datagram's sender";
        EXPECT_EQ(recs[k].eth_dst, recs[0].eth_src);
        EXPECT_EQ(recs[k].eth_src, recs[0].eth_dst);
        EXPECT_EQ(recs[k].ip_len, 20u + 8 + 238) << "no more than the whole datagram";
        EXPECT_EQ(recs[k].wirelen, 14u + 20 + 8 + 238);
    }
    // Each error about a datagram of its own, the latest first; the open port 68 never.
    EXPECT_EQ(recs[3].quote, quote_of(recs[1]));
    EXPECT_EQ(recs[4].quote, quote_of(recs[0]));
}

TEST(IcmpQuotes, AnErrorPrefersADatagramFromItsOwnReceiverAndNeverQuotesAGroupAddress) {
    std::vector<PacketRecord> recs = {
        datagram(3, 53, 2, 40001, 1), datagram(1, 53, 2, 40002, 2), datagram(0, 68, 2, 40003, 3), datagram(4, 1900, 255, 40004, 4),
        error(2, 3, 3, 3, 5),  // 3 sent host 2 a datagram: it stays the receiver
        error(2, 3, 3, 3, 6),  // then host 1's, the latest left from a unicast sender
        error(4, 9, 3, 3, 7),  // 4 received nothing: nothing to quote
    };
    const std::vector<PacketRecord> before = recs;
    quote_offending_packets(recs);
    EXPECT_EQ(recs[4].quote, quote_of(recs[0]));
    EXPECT_EQ(recs[4].dst, before[4].dst);
    EXPECT_EQ(recs[5].quote, quote_of(recs[1]));
    EXPECT_EQ(recs[5].dst, recs[1].src);
    EXPECT_EQ(recs[6], before[6]);
    EXPECT_FALSE(recs[6].present & kHasQuote);
}

TEST(IcmpQuotes, ARoutersErrorQuotesWhatItsReceiverSentAndOnlyErrorsQuote) {
    PacketRecord probe = datagram(2, 40000, 8, 33434, 1);  // a traceroute probe through router 1
    PacketRecord echo = error(1, 2, 8, 0, 2);
    std::vector<PacketRecord> recs = {probe, echo, error(1, 2, 11, 0, 3), error(1, 2, 11, 0, 4)};
    quote_offending_packets(recs);
    EXPECT_FALSE(recs[1].present & kHasQuote) << "an echo request is no error";
    ASSERT_TRUE(recs[2].present & kHasQuote);
    EXPECT_EQ(recs[2].quote, quote_of(probe));
    EXPECT_EQ(recs[2].dst, probe.src) << "a time exceeded keeps its receiver";
    EXPECT_FALSE(recs[3].present & kHasQuote) << "the probe is answered once";
}

TEST(IcmpQuotes, FormatSixtyTwoAnswersNoDatagramSentToAGroup) {
    // Host 2 probes through router 1, then sends an IGMP query to all systems; the router's
    // time exceeded answers the probe (RFC 1122 3.2.2), where format 61 took the latest.
    PacketRecord probe = datagram(2, 40000, 8, 33434, 1), query = lan_record(2, 2, 0, 8, 0, 32);
    query.present = kHasIp | kHasIgmp, query.dst = {224, 0, 0, 1}, query.t_ns = 2;
    for (const bool v62 : {false, true}) {
        std::vector<PacketRecord> recs = {probe, query, error(1, 2, 11, 0, 3)};
        quote_offending_packets(recs, {.stack_limit = true, .not_to_groups = v62});
        ASSERT_TRUE(recs[2].present & kHasQuote);
        EXPECT_EQ(recs[2].quote, quote_of(v62 ? probe : query)) << v62;
    }
    // Nor one to the limited broadcast: with nothing else to quote the error quotes nothing.
    // A /24's .255 may be a host, or a broadcast a NAT answers (Tinba's VirtualBox).
    std::vector<PacketRecord> recs = {datagram(2, 68, 255, 67, 1), error(1, 2, 11, 0, 2)};
    quote_offending_packets(recs, {.stack_limit = true, .not_to_groups = true});
    EXPECT_FALSE(recs[1].present & kHasQuote);
    PacketRecord subnet = datagram(2, 40000, 8, 137, 1);
    subnet.dst = {10, 0, 0, 255};
    recs = {subnet, error(1, 2, 3, 0, 2)};
    quote_offending_packets(recs, {.stack_limit = true, .not_to_groups = true});
    EXPECT_EQ(recs[1].quote, quote_of(subnet));
}

TEST(IcmpQuotes, FormatSixtyThreeQuotesWhatTheReceiverSentWhereTheChunkHoldsNothingLeft) {
    // An amplification: reflector 5 answers victim 2 from SNMP's port; the requests were
    // spoofed in the victim's name, so the capture holds none. The reflector's port
    // unreachable and router 1's time exceeded are about requests from the victim.
    PacketRecord answer = datagram(5, 161, 2, 40001, 1);
    answer.ip_len = 1000, answer.udp_len = 980;
    PacketRecord unreachable = error(5, 2, 3, 3, 2), expired = error(1, 2, 11, 0, 3);
    unreachable.ip_len = expired.ip_len = 90;
    for (const bool v63 : {false, true}) {
        std::vector<PacketRecord> recs = {answer, unreachable, expired};
        quote_offending_packets(recs, {.stack_limit = true, .not_to_groups = true, .invent_missing = v63});
        for (size_t k : {1u, 2u}) {
            ASSERT_EQ(bool(recs[k].present & kHasQuote), v63) << k;
            if (!v63) continue;
            const IcmpQuote& q = recs[k].quote;
            EXPECT_EQ(q.src, answer.dst) << "from the victim";
            EXPECT_EQ(q.dst, answer.src) << "to the reflector";
            EXPECT_EQ(q.proto, 17);
            EXPECT_EQ(q.ip_len, 62u) << "as long as the error carries";
            EXPECT_EQ(q.l4, (std::array<uint8_t, 8>{0x9c, 0x41, 0, 161, 0, 42, 0, 0}));
            EXPECT_EQ(recs[k].dst, answer.dst) << "the error stays with the victim";
            EXPECT_EQ(recs[k].ip_len, 90u);
        }
        if (v63) {
            EXPECT_EQ(recs[1].quote.ttl, answer.ttl);
            EXPECT_EQ(recs[2].quote.ttl, 1) << "it expired";
        }
    }
    // A datagram an error quoted already is quoted again by the next error about it, as it is.
    std::vector<PacketRecord> recs = {datagram(2, 40001, 5, 161, 1), error(5, 2, 3, 3, 2), error(5, 2, 3, 3, 3)};
    quote_offending_packets(recs, {.invent_missing = true});
    EXPECT_EQ(recs[1].quote, quote_of(recs[0]));
    EXPECT_EQ(recs[2].quote, quote_of(recs[0]));
    // Reflector 6 sent nothing to the victim: its port unreachable is about a request like
    // the answers the victim got, sent to its port.
    recs = {answer, error(6, 2, 3, 3, 2)};
    recs[1].ip_len = 90;
    quote_offending_packets(recs, {.invent_missing = true});
    ASSERT_TRUE(recs[1].present & kHasQuote);
    EXPECT_EQ(recs[1].quote.src, answer.dst);
    EXPECT_EQ(recs[1].quote.dst, recs[1].src);
    EXPECT_EQ(recs[1].quote.l4[3], 161);
    // Nothing between the two hosts, nothing from or to the receiver: nothing to quote.
    recs = {datagram(3, 40001, 4, 53, 1), error(5, 2, 3, 3, 2), error(1, 2, 11, 0, 3)};
    const std::vector<PacketRecord> before = recs;
    quote_offending_packets(recs, {.invent_missing = true});
    EXPECT_EQ(recs, before);
}

TEST(IcmpQuotes, FormatThirtyThreeQuotesUltraloqsPortUnreachablesAndFormatThirtyTwoNone) {
    // The real hub's 32 port unreachables (records 19,381 to 20,242) tell its router of DNS
    // answers that came after it gave up.
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 21000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const auto errors = [](const std::vector<PacketRecord>& recs) {
        std::vector<size_t> at;
        for (size_t i = 0; i < recs.size(); ++i)
            if ((recs[i].present & kHasIcmp) && icmp_port_unreachable(recs[i])) at.push_back(i);
        return at;
    };
    const std::vector<PacketRecord> v32 = regenerate_as(enc, 32), v33 = regenerate_as(enc, 33);
    ASSERT_GE(errors(v32).size(), 8u);
    for (size_t i : errors(v32)) EXPECT_FALSE(v32[i].present & kHasQuote);
    size_t quoted = 0;
    for (size_t i : errors(v33)) {
        const PacketRecord& e = v33[i];
        if (!(e.present & kHasQuote)) continue;
        ++quoted;
        // It quotes a datagram the chunk sent to the error's sender before it, from its receiver.
        EXPECT_EQ(e.quote.proto, 17);
        EXPECT_EQ(e.quote.dst, e.src);
        EXPECT_EQ(e.quote.src, e.dst);
        bool sent = false;
        for (size_t j = 0; j < i && !sent; ++j) sent = v33[j].proto == 17 && quote_of(v33[j]) == e.quote;
        EXPECT_TRUE(sent) << i;
    }
    EXPECT_GE(quoted, 8u);
}

TEST(IcmpQuotes, FormatFortyNineSendsNoErrorLongerThanAStackDoes) {
    PacketRecord big = datagram(1, 53, 2, 40001, 1);
    big.ip_len = 1400, big.wirelen = big.caplen = 14 + 1400;
    PacketRecord e = error(2, 1, 3, 3, 2);
    e.ip_len = 1500, e.wirelen = e.caplen = 14 + 1500;
    PacketRecord lone = error(4, 9, 3, 1, 3);  // nothing to quote
    lone.ip_len = 900, lone.wirelen = lone.caplen = 14 + 900;
    std::vector<PacketRecord> v48 = {big, e, lone}, v49 = v48;
    quote_offending_packets(v48);
    quote_offending_packets(v49, {.stack_limit = true});
    EXPECT_EQ(v48[1].ip_len, 20u + 8 + 1400);
    EXPECT_EQ(v48[2].ip_len, 900u);
    EXPECT_EQ(v49[1].ip_len, kIcmpErrorMaxV4);
    EXPECT_EQ(v49[1].wirelen, 14 + kIcmpErrorMaxV4);
    EXPECT_TRUE(v49[1].present & kHasQuote);
    EXPECT_EQ(v49[2].ip_len, kIcmpErrorMaxV4);
    // A short error stays as drawn.
    std::vector<PacketRecord> small = {datagram(1, 53, 2, 40001, 1), error(2, 1, 3, 3, 2)};
    small[1].ip_len = 56, small[1].wirelen = small[1].caplen = 70;
    quote_offending_packets(small, {.stack_limit = true});
    EXPECT_EQ(small[1].ip_len, 56u);
}

TEST(IcmpQuotes, FormatFortyNineKeepsTheSnmpTracesErrorsWithinWhatAStackSends) {
    // A Linux host's port unreachables, each quoting as much of the SNMP answer as fits in 576.
    Capture cap = load_dev_capture("packet-captures__amp.UDP.snmp.src161.pcapng");
    const auto errors = [](std::span<const PacketRecord> recs) {
        std::array<size_t, 2> n{};  // errors, over 576 bytes
        for (const auto& r : recs)
            if (r.is_ip() && (r.present & kHasIcmp) && icmp_is_error(r)) ++n[0], n[1] += r.ip_len > kIcmpErrorMaxV4;
        return n;
    };
    ASSERT_GT(errors(cap.records)[0], 200u);
    ASSERT_EQ(errors(cap.records)[1], 0u);
    EncodedChunk enc = encode_chunk(cap.records, 1);  // Ethernet
    const auto v48 = errors(regenerate_as(enc, 48)), v49 = errors(regenerate_as(enc, 49));
    EXPECT_GT(v48[1], 0u) << "format 48 sends errors as long as the flow model drew them";
    EXPECT_EQ(v49[1], 0u);
    EXPECT_EQ(v49[0], v48[0]);
}

TEST(IcmpQuotes, FormatFiftyTwoSendsNoErrorLongerThanTheChunksLongest) {
    PacketRecord big = datagram(1, 53, 2, 40001, 1);
    big.ip_len = 1400, big.wirelen = big.caplen = 14 + 1400;
    PacketRecord e = error(2, 1, 3, 3, 2);
    e.ip_len = 1500, e.wirelen = e.caplen = 14 + 1500;
    std::vector<PacketRecord> v51 = {big, e}, v52 = v51, tiny = v51;
    quote_offending_packets(v51, {.stack_limit = true});
    quote_offending_packets(v52, {.stack_limit = true, .longest = {56, 0}});
    quote_offending_packets(tiny, {.stack_limit = true, .longest = {30, 0}});  // never below the IP header, ICMP header, quoted header and 8
    EXPECT_EQ(v51[1].ip_len, kIcmpErrorMaxV4);
    EXPECT_EQ(v52[1].ip_len, 56u);
    EXPECT_EQ(v52[1].wirelen, 14u + 56);
    EXPECT_TRUE(v52[1].present & kHasQuote);
    EXPECT_EQ(tiny[1].ip_len, 56u);
    // The chunk's IPv6 longest bounds IPv6 errors only.
    std::vector<PacketRecord> v4_only = {big, e};
    quote_offending_packets(v4_only, {.stack_limit = true, .longest = {0, 96}});
    EXPECT_EQ(v4_only[1].ip_len, kIcmpErrorMaxV4);
}

TEST(IcmpQuotes, FormatFiftyTwoKeepsUltraloqsErrorsAtTheHubsFiftySixBytes) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 21000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_EQ(enc.side.longest_icmp_error, (IcmpErrorLongest{56, 0}));
    expect_read_back_from(enc.side, 52, [](const ChunkSide& s) { return s.longest_icmp_error; });
    // The flow model's sizes, planted: every error drawn at the chunk's longest length class.
    size_t planted = 0;
    for (size_t f = 0; f < enc.flows.size(); ++f) {
        if (proto_of(enc.side, enc.flows[f]).proto != 1) continue;
        for (uint32_t j = 0; j < enc.flows[f].packets; ++j) enc.packets[enc.flows[f].first + j].len = 14, ++planted;  // 224..239 bytes
    }
    ASSERT_GT(planted, 30u);
    const auto longest = [](const std::vector<PacketRecord>& recs) {
        uint32_t l = 0;
        for (const auto& r : recs)
            if (r.is_ip() && (r.present & kHasIcmp) && icmp_is_error(r)) l = std::max(l, r.ip_len);
        return l;
    };
    EXPECT_GT(longest(regenerate_as(enc, 51)), 56u) << "format 51 sends errors as long as the flow model drew them";
    EXPECT_EQ(longest(regenerate_as(enc, 52)), 56u);
}

TEST(IcmpQuotes, FormatFiftyEightRepeatsAFlowOnceTheErrorsAreAboutTheirShare) {
    // The router (1) answered host 2 on three ports after host 2 closed them: two answers to 40001.
    const std::vector<PacketRecord> base = {
        datagram(1, 53, 2, 40001, 1), datagram(1, 53, 2, 40002, 2), datagram(1, 53, 2, 40001, 3),
        error(2, 1, 3, 3, 4), error(2, 1, 3, 3, 5), error(2, 1, 3, 3, 6),
    };
    std::vector<PacketRecord> v57 = base, v58 = base;
    quote_offending_packets(v57);
    quote_offending_packets(v58, {.error_flows = 1});
    EXPECT_EQ(count_error_flows(base), 1u) << "errors that quote nothing, between the same hosts: one flow";
    EXPECT_EQ(count_error_flows(v57), 2u) << "each error about a datagram of its own";
    EXPECT_EQ(v57[4].quote, quote_of(base[1]));
    // One flow: the second error answers the earlier datagram of the first's flow; with none
    // left, the third repeats the second. The answer to 40002 is quoted by none.
    EXPECT_EQ(count_error_flows(v58), 1u);
    EXPECT_EQ(v58[3].quote, quote_of(base[2]));
    EXPECT_EQ(v58[4].quote, quote_of(base[0]));
    EXPECT_EQ(v58[5].quote, v58[4].quote);
    for (int k : {3, 4, 5}) {
        ASSERT_TRUE(v58[k].present & kHasQuote) << k;
        EXPECT_EQ(v58[k].dst, base[0].src) << k;
        EXPECT_EQ(v58[k].ip_len, 20u + 8 + 238) << k;
    }
    // As many flows as errors: the same as format 57, whatever it quoted.
    std::vector<PacketRecord> many = base;
    quote_offending_packets(many, {.error_flows = 3});
    EXPECT_EQ(many, v57);
}

TEST(IcmpQuotes, FormatFiftyEightPrefersAFlowNoErrorQuotedWhileTheyAreAboutFewer) {
    // Two answers to 40002 came last: format 57's errors quote both, about one flow.
    const std::vector<PacketRecord> base = {
        datagram(1, 53, 2, 40001, 1), datagram(1, 53, 2, 40002, 2), datagram(1, 53, 2, 40002, 3),
        error(2, 1, 3, 3, 4), error(2, 1, 3, 3, 5),
    };
    std::vector<PacketRecord> v57 = base, v58 = base;
    quote_offending_packets(v57);
    quote_offending_packets(v58, {.error_flows = 2});
    EXPECT_EQ(count_error_flows(v57), 1u);
    EXPECT_EQ(count_error_flows(v58), 2u);
    EXPECT_EQ(v58[3].quote, quote_of(base[2]));
    EXPECT_EQ(v58[4].quote, quote_of(base[0]));
}

TEST(IcmpQuotes, FormatFiftyEightsRouterRepeatsAnErrorWithNothingLeftToQuote) {
    // One probe through router 1, two time-exceeded errors: format 57 quotes the probe once.
    const std::vector<PacketRecord> base = {datagram(2, 40000, 8, 33434, 1), error(1, 2, 11, 0, 2), error(1, 2, 11, 0, 3), error(1, 2, 3, 1, 4)};
    std::vector<PacketRecord> v57 = base, v58 = base;
    quote_offending_packets(v57);
    quote_offending_packets(v58, {.error_flows = 1});
    EXPECT_FALSE(v57[2].present & kHasQuote);
    ASSERT_TRUE(v58[2].present & kHasQuote);
    EXPECT_EQ(v58[2].quote, quote_of(base[0]));
    EXPECT_EQ(v58[2].dst, base[0].src);
    // Another type or code is another error: nothing of its own to repeat, nothing to quote.
    EXPECT_FALSE(v58[3].present & kHasQuote);
    EXPECT_EQ(count_error_flows(v58), 2u);
}

TEST(IcmpQuotes, FormatFiftyEightKeepsUltraloqsErrorsAboutItsEightFlows) {
    // The hub's 32 port unreachables are about 8 flows of late DNS answers (argus: 8 records).
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 21000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    EXPECT_EQ(enc.side.error_flows, 8u);
    expect_read_back_from(enc.side, 58, [](const ChunkSide& s) { return s.error_flows; });
    const auto port_errors = [](const std::vector<PacketRecord>& recs) {
        std::vector<PacketRecord> e;
        for (const auto& r : recs)
            if (r.is_ip() && (r.present & kHasIcmp) && icmp_port_unreachable(r)) e.push_back(r);
        return e;
    };
    const auto e57 = port_errors(regenerate_as(enc, 57)), e58 = port_errors(regenerate_as(enc, 58));
    ASSERT_GE(e58.size(), 24u);
    EXPECT_EQ(e58.size(), e57.size()) << "as many errors";
    EXPECT_GT(count_error_flows(e57), 8u) << count_error_flows(e58);
    EXPECT_LE(count_error_flows(e58), 8u);
    EXPECT_GE(count_error_flows(e58), 6u);
    for (const auto& e : e58) EXPECT_TRUE(e.present & kHasQuote);
    // More flows than the chunk's IP packets is corrupt.
    ChunkSide bad = enc.side;
    bad.format = 58, bad.error_flows = static_cast<uint32_t>(bad.ip_packets + 1);
    EXPECT_FALSE(parse_side(serialize_side(bad), "chunk 1", 58).ok());
}
