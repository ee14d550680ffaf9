// Resynchronising past damage in classic pcap (issue 15, finding 1): every valid record on
// both sides of the damage is read, the skipped bytes are reported as [begin, end), and an
// undamaged file reads exactly as before.
#include <gmock/gmock.h>
#include <gtest/gtest.h>


#include "codec/capture_reader.h"
#include "codec/pcap_resync.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

using test::pcap_header;
using test::pcap_record;
using ::testing::HasSubstr;

const std::string kFrame = test::eth_ipv4_tcp_frame();
constexpr uint32_t kT0 = 1'700'000'000;

struct Variant {
    bool big_endian;
    bool nanosecond;
};

// `n` records one (milli)second apart from `first`, frames of growing length.
std::string records(const Variant& v, int first, int n) {
    std::string s;
    for (int i = first; i < first + n; ++i) {
        const uint32_t frac = static_cast<uint32_t>(i % 1000) * (v.nanosecond ? 1'000'000u : 1'000u);
        s += pcap_record(kT0 + static_cast<uint32_t>(i), frac, kFrame + std::string(static_cast<size_t>(i % 7), 'p'),
                         0, v.big_endian);
    }
    return s;
}

Capture read_ok(const std::string& name, const std::string& bytes) {
    auto cap = read_capture(test::write_temp(name, bytes));
    EXPECT_TRUE(cap.ok()) << cap.status().message();
    return cap.ok() ? std::move(cap.value()) : Capture{};
}

PcapRecordLayout layout(const Variant& v) {
    PcapRecordLayout l;
    l.big_endian = v.big_endian;
    l.nanosecond = v.nanosecond;
    l.snaplen = 65535;
    return l;
}

class Resync : public ::testing::TestWithParam<Variant> {};

TEST_P(Resync, GarbageInTheMiddleSkipsOnlyTheGarbage) {
    const Variant v = GetParam();
    const std::string before = pcap_header(1, v.nanosecond, v.big_endian) + records(v, 0, 40);
    const std::string bad = test::random_bytes(4096, 7);
    const std::string bytes = before + bad + records(v, 40, 40);
    const Capture cap = read_ok("mid.pcap", bytes);
    ASSERT_EQ(cap.records.size(), 80u);
    EXPECT_EQ(cap.info.packets, 80u);
    for (size_t i = 0; i < cap.records.size(); ++i)
        ASSERT_EQ(cap.records[i].t_ns / 1'000'000'000, kT0 + static_cast<int64_t>(i)) << "record " << i;
    ASSERT_EQ(cap.info.skipped.size(), 1u);
    EXPECT_EQ(cap.info.skipped[0], (SkippedRange{before.size(), before.size() + bad.size()}));
    EXPECT_THAT(cap.info.warning, HasSubstr("record 40 at byte " + std::to_string(before.size())));
    EXPECT_THAT(cap.info.warning, HasSubstr("skipped 4096 bytes to byte " + std::to_string(before.size() + 4096)));
}

TEST_P(Resync, GarbageToTheEndKeepsWhatCameBefore) {
    const Variant v = GetParam();
    const std::string before = pcap_header(1, v.nanosecond, v.big_endian) + records(v, 0, 25);
    const std::string bytes = before + test::random_bytes(4096, 11);
    const Capture cap = read_ok("tail.pcap", bytes);
    EXPECT_EQ(cap.records.size(), 25u);
    ASSERT_EQ(cap.info.skipped.size(), 1u);
    EXPECT_EQ(cap.info.skipped[0], (SkippedRange{before.size(), bytes.size()}));
    EXPECT_THAT(cap.info.warning, HasSubstr("record 25 at byte " + std::to_string(before.size())));
}

TEST_P(Resync, TruncatedLastRecordIsASkippedTail) {
    const Variant v = GetParam();
    const std::string before = pcap_header(1, v.nanosecond, v.big_endian) + records(v, 0, 5);
    const std::string bytes = before + records(v, 5, 1).substr(0, 30);
    const Capture cap = read_ok("cut.pcap", bytes);
    EXPECT_EQ(cap.records.size(), 5u);
    ASSERT_EQ(cap.info.skipped.size(), 1u);
    EXPECT_EQ(cap.info.skipped[0], (SkippedRange{before.size(), bytes.size()}));
    EXPECT_THAT(cap.info.warning, HasSubstr("file ends mid-record"));
}

TEST_P(Resync, ZeroFilledBlockIsDamageNotEmptyRecords) {
    const Variant v = GetParam();
    const std::string before = pcap_header(1, v.nanosecond, v.big_endian) + records(v, 0, 10);
    const std::string bytes = before + std::string(4096, '\0') + records(v, 10, 10);
    const Capture cap = read_ok("zeros.pcap", bytes);
    EXPECT_EQ(cap.records.size(), 20u);
    ASSERT_EQ(cap.info.skipped.size(), 1u);
    EXPECT_EQ(cap.info.skipped[0], (SkippedRange{before.size(), before.size() + 4096}));
}

TEST_P(Resync, UndamagedOddFileReadsWholeWithoutWarning) {
    const Variant v = GetParam();
    // A two-day clock jump and a record longer than the snaplen are odd, not damage: the
    // records after them chain, so they are read as they always were.
    std::string bytes = pcap_header(1, v.nanosecond, v.big_endian, 40) + records(v, 0, 5);
    bytes += pcap_record(kT0 + 2 * 86400, 0, kFrame, 0, v.big_endian);
    bytes += records(v, 2 * 86400 + 1, 5);
    const Capture cap = read_ok("odd.pcap", bytes);
    EXPECT_EQ(cap.records.size(), 11u);
    EXPECT_TRUE(cap.info.skipped.empty());
    EXPECT_EQ(cap.info.warning, "");
}

TEST_P(Resync, TwoDamagedRangesBothReported) {
    const Variant v = GetParam();
    const std::string a = pcap_header(1, v.nanosecond, v.big_endian) + records(v, 0, 10);
    const std::string b = records(v, 10, 10);
    const std::string bytes = a + test::random_bytes(100, 1) + b + test::random_bytes(333, 2) + records(v, 20, 10);
    const Capture cap = read_ok("two.pcap", bytes);
    EXPECT_EQ(cap.records.size(), 30u);
    ASSERT_EQ(cap.info.skipped.size(), 2u);
    EXPECT_EQ(cap.info.skipped[0], (SkippedRange{a.size(), a.size() + 100}));
    EXPECT_EQ(cap.info.skipped[1], (SkippedRange{a.size() + 100 + b.size(), a.size() + 100 + b.size() + 333}));
    EXPECT_THAT(cap.info.warning, HasSubstr("2 damaged ranges, 433 bytes skipped in all"));
    EXPECT_EQ(describe_skipped(cap.info.skipped),
              "2 ranges, 433 bytes at 0x" + [&] {
                  char h[32];
                  std::snprintf(h, sizeof h, "%zx, 0x%zx", a.size(), a.size() + 100 + b.size());
                  return std::string(h);
              }());
}

INSTANTIATE_TEST_SUITE_P(ByteOrderAndResolution, Resync,
                         ::testing::Values(Variant{false, false}, Variant{true, false}, Variant{false, true},
                                           Variant{true, true}),
                         [](const auto& info) {
                             return std::string(info.param.big_endian ? "Big" : "Little") +
                                    (info.param.nanosecond ? "Nano" : "Micro");
                         });

TEST(ResyncPure, ImplausibleHeaders) {
    PcapRecordLayout l = layout({false, false});
    EXPECT_EQ(implausible_header({kT0, 5, 60, 60}, l, std::nullopt), "");
    EXPECT_THAT(implausible_header({kT0, 5, 300000, 300000}, l, std::nullopt), HasSubstr("exceeds the maximum 262144"));
    EXPECT_THAT(implausible_header({kT0, 5, 70000, 70000}, l, std::nullopt), HasSubstr("exceeds the snaplen 65535"));
    EXPECT_THAT(implausible_header({kT0, 5, 61, 60}, l, std::nullopt), HasSubstr("length on the wire 60"));
    EXPECT_THAT(implausible_header({kT0, 5, 0, 0}, l, std::nullopt), HasSubstr("empty record"));
    EXPECT_THAT(implausible_header({kT0, 5, 0, kT0}, l, std::nullopt), HasSubstr("length on the wire 1700000000 exceeds 262144"));
    EXPECT_THAT(implausible_header({kT0, 1'000'000, 60, 60}, l, std::nullopt), HasSubstr("not below 1000000"));
    l.nanosecond = true;
    EXPECT_EQ(implausible_header({kT0, 1'000'000, 60, 60}, l, std::nullopt), "");
    EXPECT_THAT(implausible_header({kT0, 1'000'000'000, 60, 60}, l, std::nullopt), HasSubstr("not below 1000000000"));
    const int64_t prev = int64_t{kT0} * 1'000'000'000;
    EXPECT_EQ(implausible_header({kT0 + 3600, 0, 60, 60}, l, prev), "");
    EXPECT_EQ(implausible_header({kT0 - 3600, 0, 60, 60}, l, prev), "");  // clocks step back
    EXPECT_THAT(implausible_header({kT0 + 86401, 0, 60, 60}, l, prev), HasSubstr("more than a day"));
    EXPECT_THAT(implausible_header({kT0 - 86401, 0, 60, 60}, l, prev), HasSubstr("more than a day"));
}

TEST(ResyncPure, ChainsExactlyOrToTheEnd) {
    const Variant v{false, false};
    const std::string recs = records(v, 0, 3);
    const auto* p = reinterpret_cast<const uint8_t*>(recs.data());
    const auto whole = chain_at(p, recs.size(), 0, layout(v), 3, true);
    EXPECT_EQ(whole.records, 3u);
    EXPECT_TRUE(whole.reaches_end);
    const auto two = chain_at(p, recs.size(), 0, layout(v), 2, true);
    EXPECT_EQ(two.records, 2u);
    EXPECT_FALSE(two.reaches_end);
    EXPECT_TRUE(chain_holds(two, 2));
    // One byte off is not a chain; the last record alone ends the data exactly, which is.
    EXPECT_EQ(chain_at(p, recs.size(), 1, layout(v), 3, true).records, 0u);
    const size_t last = recs.size() - records(v, 2, 1).size();
    const auto tail = chain_at(p, recs.size(), last, layout(v), 3, true);
    EXPECT_TRUE(chain_holds(tail, 3));
    // Cut one byte short, nothing reaches the end.
    EXPECT_FALSE(chain_holds(chain_at(p, recs.size() - 1, last, layout(v), 3, true), 3));
}

TEST(ResyncPure, PlausibleHeaderThatDoesNotChainIsPassedOver) {
    const Variant v{false, false};
    // Inside the garbage, a header that is plausible on its own but whose record is
    // followed by more garbage: the scan must not resume there.
    std::string lone = pcap_record(kT0, 0, std::string(40, 'x'));
    std::string junk = test::random_bytes(64, 3) + lone + test::random_bytes(64, 4);
    const std::string good = records(v, 0, 5);
    const std::string bytes = junk + good;
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t lone_at = 64;
    EXPECT_EQ(implausible_header(load_record_header(p + lone_at, layout(v)), layout(v), std::nullopt), "");
    EXPECT_FALSE(chain_holds(chain_at(p, bytes.size(), lone_at, layout(v), kResyncChain, true), kResyncChain));
    EXPECT_EQ(find_resync(p, bytes.size(), 0, layout(v)), std::optional<size_t>(junk.size()));
    EXPECT_EQ(find_resync(p, junk.size(), 0, layout(v)), std::nullopt);
}

TEST(ResyncPure, SuspectRecordInsideGarbageIsNotRead) {
    const Variant v{false, false};
    // The damage starts with a readable header (timestamp far off) followed by garbage:
    // it is not taken for a record.
    const std::string before = pcap_header(1) + records(v, 0, 10);
    const std::string bad = pcap_record(12345, 0, std::string(40, 'x')) + test::random_bytes(500, 9);
    const Capture cap = read_ok("suspect.pcap", before + bad + records(v, 10, 10));
    EXPECT_EQ(cap.records.size(), 20u);
    ASSERT_EQ(cap.info.skipped.size(), 1u);
    EXPECT_EQ(cap.info.skipped[0], (SkippedRange{before.size(), before.size() + bad.size()}));
    EXPECT_THAT(cap.info.warning, HasSubstr("more than a day from the record before it and the records after it do not chain"));
}

TEST(ResyncPure, DescribeSkipped) {
    EXPECT_EQ(describe_skipped({}), "none");
    EXPECT_EQ(describe_skipped({{0x5d4a0, 0x5d4a0 + 4096}}), "1 range, 4096 bytes at 0x5d4a0");
    std::vector<SkippedRange> many;
    for (uint64_t i = 0; i < 10; ++i) many.push_back({i * 100, i * 100 + 1});
    EXPECT_THAT(describe_skipped(many), HasSubstr("10 ranges, 10 bytes at 0x0, 0x64"));
    EXPECT_THAT(describe_skipped(many), HasSubstr(", …"));
}

TEST(ResyncPure, PcapngDamageReportsTheTailSkipped) {
    const std::string good = test::pcapng_shb() + test::pcapng_idb(1) + test::pcapng_epb(0, 1, kFrame);
    const std::string cut = test::pcapng_epb(0, 2, kFrame).substr(0, 40);
    const Capture cap = read_ok("cut.pcapng", good + cut);
    EXPECT_EQ(cap.records.size(), 1u);
    ASSERT_EQ(cap.info.skipped.size(), 1u);
    EXPECT_EQ(cap.info.skipped[0], (SkippedRange{good.size(), good.size() + cut.size()}));
}

}  // namespace
}  // namespace dgc
