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
