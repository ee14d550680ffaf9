// Bad input gets a precise answer: which file, where, what is wrong; never a crash.
// A damaged tail after a sane header keeps the good records and sets info.warning.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codec/capture_reader.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

using test::pcap_header;
using test::pcap_record;
using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kFrame = test::eth_ipv4_tcp_frame();

// Opening must fail; returns the message, which must name the file.
std::string rejected(const std::string& name, const std::string& bytes) {
    const std::string path = test::write_temp(name, bytes);
    auto cap = read_capture(path);
    EXPECT_FALSE(cap.ok()) << name << " was accepted";
    if (cap.ok()) return "";
    EXPECT_THAT(cap.status().message(), HasSubstr(path));
    return cap.status().message();
}

// Reading must succeed with `good` records and a warning naming the file.
std::string damaged_tail(const std::string& name, const std::string& bytes, size_t good) {
    const std::string path = test::write_temp(name, bytes);
    auto cap = read_capture(path);
    EXPECT_TRUE(cap.ok()) << cap.status().message();
    if (!cap.ok()) return "";
    EXPECT_EQ(cap->records.size(), good);
    EXPECT_EQ(cap->info.packets, good);
    EXPECT_THAT(cap->info.warning, HasSubstr(path));
    return cap->info.warning;
}

TEST(BadInput, EmptyFile) { EXPECT_THAT(rejected("empty.pcap", ""), HasSubstr("empty file")); }

TEST(BadInput, TinyFile) { EXPECT_THAT(rejected("tiny.pcap", "ab"), HasSubstr("too short")); }

TEST(BadInput, HeaderCutShort) {
    const std::string m = rejected("short.pcap", pcap_header(1).substr(0, 20));
    EXPECT_THAT(m, HasSubstr("cut short: 20 of 24 bytes"));
    EXPECT_THAT(m, HasSubstr("file ends at byte 20"));
}

TEST(BadInput, HeaderOnlyIsAnEmptyCapture) {
    auto cap = read_capture(test::write_temp("hdr.pcap", pcap_header(1)));
    ASSERT_TRUE(cap.ok());
    EXPECT_EQ(cap->records.size(), 0u);
    EXPECT_TRUE(cap->info.warning.empty());
    auto ng = read_capture(test::write_temp("hdr.pcapng", test::pcapng_shb()));
    ASSERT_TRUE(ng.ok());
    EXPECT_EQ(ng->info.packets, 0u);
    EXPECT_FALSE(ng->info.modelable);  // no interface at all
}

TEST(BadInput, WrongMagic) {
    const std::string m = rejected("magic.pcap", std::string("\x01\x02\x03\x04", 4) + std::string(40, '\0'));
    EXPECT_THAT(m, HasSubstr("unknown magic 01020304 at byte 0"));
}

TEST(BadInput, TextNamedPcap) {
    const std::string m = rejected("notes.pcap", "This is not a capture, just some text\nsecond line\n");
    EXPECT_THAT(m, HasSubstr("not a pcap or pcapng file"));
    EXPECT_THAT(m, HasSubstr("at byte 0 (the file is text)"));
}

TEST(BadInput, InvalidVersion) {
    EXPECT_THAT(rejected("v1.pcap", pcap_header(1, false, false, 65535, 1, 4)),
                HasSubstr("unsupported pcap version 1.4 at byte 4"));
    EXPECT_THAT(rejected("v2.pcapng", test::pcapng_shb(2, 0)), HasSubstr("unsupported pcapng version 2.0 at byte 12"));
}

TEST(BadInput, OversizeSnaplen) {
    EXPECT_THAT(rejected("snap.pcap", pcap_header(1, false, false, 0x7fffffff)),
                HasSubstr("snaplen 2147483647 at byte 16"));
}

TEST(BadInput, UnknownLinkType) {
    EXPECT_THAT(rejected("lt.pcap", pcap_header(65000) + pcap_record(0, 0, kFrame)),
                HasSubstr("unknown link type 65000 at byte 20"));
    const std::string shb = test::pcapng_shb();
    EXPECT_THAT(rejected("lt.pcapng", shb + test::pcapng_idb(65000)),
                HasSubstr("IDB at byte " + std::to_string(shb.size()) + ": unknown link type 65000 (interface 0)"));
}

TEST(BadInput, ReservedLinkTypeBits) {
    EXPECT_THAT(rejected("res.pcap", pcap_header(0x00300001)), HasSubstr("reserved bits set (0x00300000)"));
}

TEST(BadInput, TruncatedMidRecordHeader) {
    const std::string f = pcap_header(1) + pcap_record(1, 0, kFrame) + pcap_record(2, 0, kFrame).substr(0, 7);
    const size_t at = 24 + 16 + kFrame.size();
    EXPECT_THAT(damaged_tail("midhdr.pcap", f, 1),
                HasSubstr("file ends mid-record at byte " + std::to_string(at) + " (record 1)"));
}

TEST(BadInput, TruncatedMidRecordData) {
    const std::string f = pcap_header(1) + pcap_record(1, 0, kFrame) + pcap_record(2, 0, kFrame).substr(0, 30);
    const std::string w = damaged_tail("middata.pcap", f, 1);
    EXPECT_THAT(w, HasSubstr("record 1 at byte " + std::to_string(24 + 16 + kFrame.size())));
    EXPECT_THAT(w, HasSubstr("only 14 bytes left"));
}

TEST(BadInput, OversizeRecordCaplen) {
    std::string rec = pcap_record(1, 0, kFrame);
    rec[8] = 0; rec[9] = 0; rec[10] = 0x20; rec[11] = 0;  // caplen 2 MiB
    const std::string w = damaged_tail("bigrec.pcap", pcap_header(1) + pcap_record(0, 0, kFrame) + rec, 1);
    EXPECT_THAT(w, HasSubstr("caplen 2097152 exceeds the maximum 262144"));
}

TEST(BadInput, PcapngDamage) {
    const std::string good = test::pcapng_shb() + test::pcapng_idb(1) + test::pcapng_epb(0, 1, kFrame);
    const std::string second = test::pcapng_epb(0, 2, kFrame);
    // Every damage below is in the second packet block: the message names it, where it
    // starts and which record it would have been.
    const std::string at = "EPB at byte " + std::to_string(good.size()) + " (record 1): ";
    // Truncated block.
    EXPECT_THAT(damaged_tail("cut.pcapng", good + second.substr(0, 40), 1),
                HasSubstr("file ends mid-block at byte " + std::to_string(good.size() + 40) + " (EPB at byte " +
                          std::to_string(good.size()) + ", record 1): block length " +
                          std::to_string(second.size()) + " but only 40 bytes left"));
    // Trailing length disagrees.
    std::string bad_trailer = second;
    bad_trailer[bad_trailer.size() - 4] ^= 0x40;
    EXPECT_THAT(damaged_tail("trailer.pcapng", good + bad_trailer, 1), HasSubstr(at + "trailing length"));
    // Block length not a multiple of 4.
    std::string odd_len = second;
    odd_len[4] = static_cast<char>(odd_len[4] + 1);
    EXPECT_THAT(damaged_tail("oddlen.pcapng", good + odd_len, 1),
                HasSubstr(at + "invalid block length " + std::to_string(second.size() + 1)));
    // Packet on an interface that does not exist.
    EXPECT_THAT(damaged_tail("ifid.pcapng", good + test::pcapng_epb(3, 2, kFrame), 1),
                HasSubstr(at + "interface id 3 but the section declares 1 interfaces"));
    // caplen larger than the block.
    std::string big = second;
    big[20] = static_cast<char>(0xff);
    EXPECT_THAT(damaged_tail("epbcap.pcapng", good + big, 1),
                AllOf(HasSubstr(at + "caplen"), HasSubstr("exceeds the block's")));
}

TEST(BadInput, PcapngOptionRunsPastBlock) {
    std::string shb = test::pcapng_shb(1, 0, {{1, "comment"}});
    shb[24 + 2] = 0x30;  // option length 0x0030 > what the block holds
    EXPECT_THAT(rejected("opt.pcapng", shb),
                HasSubstr("SHB at byte 0: option 1 of length 48 at byte 24 runs past the block end"));
}

TEST(BadInput, PcapngBadByteOrderMagic) {
    std::string shb = test::pcapng_shb();
    shb[8] = 0x11;
    EXPECT_THAT(rejected("bom.pcapng", shb), HasSubstr("SHB at byte 0: bad byte-order magic"));
}

TEST(BadInput, MissingFileAndDirectory) {
    auto missing = read_capture(test::temp_dir() + "/no-such.pcap");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
    EXPECT_THAT(missing.status().message(), HasSubstr("no-such.pcap"));
    auto dir = read_capture(test::temp_dir());
    ASSERT_FALSE(dir.ok());
    EXPECT_THAT(dir.status().message(), HasSubstr("is a directory"));
}

TEST(BadInput, ReaderReportsErrorThenStaysDone) {
    const std::string f = pcap_header(1) + pcap_record(1, 0, kFrame) + std::string(5, 'x');
    auto rd = CaptureReader::open(test::write_temp("next.pcap", f));
    ASSERT_TRUE(rd.ok());
    PacketRecord r;
    auto first = (*rd)->next(r);
    ASSERT_TRUE(first.ok());
    EXPECT_TRUE(*first);
    auto second = (*rd)->next(r);
    ASSERT_FALSE(second.ok());
    EXPECT_THAT(second.status().message(), HasSubstr("record 1"));
    auto third = (*rd)->next(r);
    EXPECT_FALSE(third.ok() && *third) << "a frame after the error";
}

}  // namespace
}  // namespace dgc
