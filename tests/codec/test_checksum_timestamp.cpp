// The pure arithmetic: Internet checksum and timestamp conversion to integer ns.
#include <gtest/gtest.h>

#include "codec/checksum.h"
#include "codec/timestamp.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(Checksum, Rfc1071Example) {
    const std::string b = test::hex("00 01 f2 03 f4 f5 f6 f7");
    EXPECT_EQ(checksum_finish(checksum_add(0, u8(b), b.size())), static_cast<uint16_t>(~0xddf2));
}

TEST(Checksum, KnownIpv4Header) {
    const std::string h = test::hex("45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7");
    EXPECT_EQ(checksum_finish(checksum_add(0, u8(h), h.size())), 0xb861);
    const std::string with = test::hex("45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7");
    EXPECT_EQ(checksum_finish(checksum_add(0, u8(with), with.size())), 0);  // verifies
}

TEST(Checksum, OddLengthPadsWithZero) {
    const std::string odd = test::hex("12 34 56");
    const std::string even = test::hex("12 34 56 00");
    EXPECT_EQ(checksum_finish(checksum_add(0, u8(odd), 3)), checksum_finish(checksum_add(0, u8(even), 4)));
}

TEST(Checksum, TrailingZerosChangeNothing) {
    const std::string b = test::hex("de ad be ef 01");
    const std::string z = b + std::string(1001, '\0');
    EXPECT_EQ(checksum_finish(checksum_add(0, u8(b), b.size())), checksum_finish(checksum_add(0, u8(z), z.size())));
}

TEST(Checksum, PseudoHeaderIpv4) {
    const std::string a = test::hex("0a 00 00 01"), b = test::hex("0a 00 00 02");
    // 0x0a00+0x0001+0x0a00+0x0002+6+20
    EXPECT_EQ(pseudo_header_sum(4, u8(a), u8(b), 6, 20), 0x0a00u + 1 + 0x0a00 + 2 + 6 + 20);
}

TEST(Timestamp, ClassicMicroAndNano) {
    EXPECT_EQ(pcap_ts_to_ns(1, 2, false), 1'000'002'000);
    EXPECT_EQ(pcap_ts_to_ns(1, 2, true), 1'000'000'002);
    EXPECT_EQ(pcap_ts_to_ns(4'000'000'000u, 999'999, false), 4'000'000'000'999'999'000);  // past 2038
}

TEST(Timestamp, PcapngDecimalResolutions) {
    TsResolution us;  // default 10^-6
    EXPECT_EQ(pcapng_ts_to_ns(1'500'000'123, us, 0), 1'500'000'123'000);
    auto ns = decode_tsresol(9);
    ASSERT_TRUE(ns);
    EXPECT_EQ(pcapng_ts_to_ns(7, *ns, 0), 7);
    auto ps = decode_tsresol(12);  // picoseconds: round to nearest ns
    ASSERT_TRUE(ps);
    EXPECT_EQ(pcapng_ts_to_ns(1499, *ps, 0), 1);
    EXPECT_EQ(pcapng_ts_to_ns(1500, *ps, 0), 2);
    auto s = decode_tsresol(0);
    EXPECT_EQ(pcapng_ts_to_ns(3, *s, 0), 3'000'000'000);
    EXPECT_EQ(ticks_per_second(*ps), 1'000'000'000'000u);
}

TEST(Timestamp, PcapngBinaryResolutions) {
    auto half = decode_tsresol(0x81);  // 2^-1 s
    ASSERT_TRUE(half);
    EXPECT_TRUE(half->binary);
    EXPECT_EQ(pcapng_ts_to_ns(3, *half, 0), 1'500'000'000);
    auto fine = decode_tsresol(0x80 | 30);  // 2^-30 s = 0.931 ns
    EXPECT_EQ(pcapng_ts_to_ns(1, *fine, 0), 1);
    EXPECT_EQ(pcapng_ts_to_ns(uint64_t{1} << 30, *fine, 0), 1'000'000'000);
    auto f20 = decode_tsresol(0x80 | 20);  // 2^-20: 953.674 ns per tick -> 954
    EXPECT_EQ(pcapng_ts_to_ns(1, *f20, 0), 954);
    EXPECT_EQ(ticks_per_second(*f20), uint64_t{1} << 20);
}

TEST(Timestamp, PcapngOffsetAndLimits) {
    TsResolution us;
    EXPECT_EQ(pcapng_ts_to_ns(1, us, 10), 10'000'001'000);
    EXPECT_EQ(pcapng_ts_to_ns(0, us, -1), -1'000'000'000);
    EXPECT_FALSE(decode_tsresol(20));
    EXPECT_FALSE(decode_tsresol(0x80 | 64));
    EXPECT_TRUE(decode_tsresol(19));
    // Saturates instead of wrapping on garbage.
    auto s = decode_tsresol(0);
    EXPECT_EQ(pcapng_ts_to_ns(~uint64_t{0}, *s, 0), INT64_MAX);
}

}  // namespace
}  // namespace dgc
