// Containers built byte by byte in the test: classic pcap in both byte orders and
// resolutions, pcapng with mixed interfaces, sections and simple packet blocks.
#include <gtest/gtest.h>

#include <fstream>

#include "codec/capture_reader.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

using test::pcap_header;
using test::pcap_record;

const std::string kFrame = test::eth_ipv4_tcp_frame();

Capture read_ok(const std::string& name, const std::string& bytes) {
    const std::string path = test::write_temp(name, bytes);
    auto cap = read_capture(path);
    EXPECT_TRUE(cap.ok()) << cap.status().message();
    return cap.ok() ? *cap : Capture{};
}

TEST(ClassicPcap, BothByteOrdersAndResolutions) {
    for (bool be : {false, true}) {
        for (bool ns : {false, true}) {
            const std::string f = pcap_header(1, ns, be) + pcap_record(100, 7, kFrame, 200, be) +
                                  pcap_record(99, 8, kFrame, 0, be);
            Capture c = read_ok("c.pcap", f);
            ASSERT_EQ(c.records.size(), 2u);
            EXPECT_EQ(c.info.format, "pcap");
            EXPECT_EQ(c.info.big_endian, be);
            EXPECT_EQ(c.info.nanosecond, ns);
            EXPECT_EQ(c.records[0].t_ns, 100'000'000'000 + (ns ? 7 : 7000));
            EXPECT_EQ(c.records[0].caplen, kFrame.size());
            EXPECT_EQ(c.records[0].wirelen, 200u);
            EXPECT_EQ(c.records[0].dport, 80);
            EXPECT_EQ(c.info.first_ns, c.records[1].t_ns);  // not monotonic in the file
            EXPECT_EQ(c.info.last_ns, c.records[0].t_ns);
            EXPECT_TRUE(c.info.warning.empty());
            EXPECT_TRUE(c.info.modelable);
            ASSERT_EQ(c.info.interfaces.size(), 1u);
            EXPECT_EQ(c.info.interfaces[0].ticks_per_sec, ns ? 1'000'000'000u : 1'000'000u);
        }
    }
}

TEST(ClassicPcap, CountsAndModelability) {
    const std::string arp = test::hex("ff ff ff ff ff ff 66 77 88 99 aa bb 08 06 00 01");
    const std::string f = pcap_header(1) + pcap_record(1, 0, kFrame) + pcap_record(1, 1, arp) +
                          pcap_record(1, 2, kFrame.substr(0, 40));
    Capture c = read_ok("counts.pcap", f);
    EXPECT_EQ(c.info.packets, 3u);
    EXPECT_EQ(c.info.ip_packets, 2u);
    EXPECT_EQ(c.info.nonip_packets, 1u);
    EXPECT_EQ(c.info.truncated_packets, 1u);
    Capture wifi = read_ok("wifi.pcap", pcap_header(105) + pcap_record(1, 0, kFrame));
    EXPECT_FALSE(wifi.info.modelable);
    EXPECT_EQ(wifi.info.nonip_packets, 1u);
    Capture raw12 = read_ok("raw12.pcap", pcap_header(12) + pcap_record(1, 0, kFrame.substr(14)));
    EXPECT_EQ(raw12.info.linktype, 101u);
    EXPECT_EQ(raw12.records[0].linktype, 101);
    EXPECT_TRUE(raw12.records[0].is_ip());
}

TEST(ClassicPcap, InMemoryOpenMatchesFile) {
    const std::string f = pcap_header(1) + pcap_record(5, 5, kFrame);
    auto cap = read_capture_memory("mem", f);
    ASSERT_TRUE(cap.ok());
    EXPECT_EQ(cap->records, read_ok("mem.pcap", f).records);
}

TEST(Pcapng, InterfacesWithOwnLinkTypeAndResolution) {
    const std::string ip = kFrame.substr(14);
    const std::string f = test::pcapng_shb() + test::pcapng_idb(1, 65535) +
                          test::pcapng_idb(101, 0, {{9, std::string(1, '\x09')}}) +        // ns
                          test::pcapng_idb(0, 0, {{9, std::string(1, '\x83')}, {14, std::string("\x0a\0\0\0\0\0\0\0", 8)}}) +
                          test::pcapng_epb(0, 1'000'000, kFrame) + test::pcapng_epb(1, 5, ip) +
                          test::pcapng_epb(2, 4, test::hex("02 00 00 00") + ip) + test::pcapng_block(5, std::string(8, 'x'));
    Capture c = read_ok("multi.pcapng", f);
    ASSERT_EQ(c.records.size(), 3u);
    EXPECT_EQ(c.info.format, "pcapng");
    ASSERT_EQ(c.info.interfaces.size(), 3u);
    EXPECT_EQ(c.info.interfaces[1].linktype, 101u);
    EXPECT_EQ(c.info.interfaces[1].ticks_per_sec, 1'000'000'000u);
    EXPECT_EQ(c.info.interfaces[2].ticks_per_sec, 8u);
    EXPECT_TRUE(c.info.modelable);
    EXPECT_EQ(c.records[0].linktype, 1);
    EXPECT_EQ(c.records[0].t_ns, 1'000'000'000);
    EXPECT_EQ(c.records[1].linktype, 101);
    EXPECT_EQ(c.records[1].t_ns, 5);
    EXPECT_EQ(c.records[2].linktype, 0);
    EXPECT_EQ(c.records[2].t_ns, 10'500'000'000);  // 4/8 s + 10 s offset
    for (const auto& r : c.records) EXPECT_EQ(r.dport, 80);
}

TEST(Pcapng, SectionsRestartInterfaceIds) {
    const std::string f = test::pcapng_shb() + test::pcapng_idb(1) + test::pcapng_epb(0, 1, kFrame) +
                          test::pcapng_shb() + test::pcapng_idb(105) + test::pcapng_epb(0, 2, kFrame) +
                          test::pcapng_spb(kFrame, 1514);
    Capture c = read_ok("sections.pcapng", f);
    ASSERT_EQ(c.records.size(), 3u);
    EXPECT_TRUE(c.records[0].is_ip());
    EXPECT_EQ(c.records[1].linktype, 105);
    EXPECT_FALSE(c.records[1].is_ip());
    EXPECT_EQ(c.records[2].wirelen, 1514u);
    // An SPB has no caplen field: when the frame was cut, its padding counts as captured.
    EXPECT_EQ(c.records[2].caplen, (kFrame.size() + 3) & ~size_t{3});
    EXPECT_FALSE(c.info.modelable);
    EXPECT_EQ(c.info.interfaces.size(), 2u);
}

TEST(Pcapng, BigEndianSectionAlsoAfterALittleEndianOne) {
    // SHB, IDB(ethernet), EPB written big-endian by hand.
    std::string f = test::hex(
        "0a 0d 0d 0a 00 00 00 1c 1a 2b 3c 4d 00 01 00 00 ff ff ff ff ff ff ff ff 00 00 00 1c"
        "00 00 00 01 00 00 00 14 00 01 00 00 00 00 ff ff 00 00 00 14");
    const uint32_t len = static_cast<uint32_t>(32 + ((kFrame.size() + 3) & ~size_t{3}));
    std::string epb = test::hex("00 00 00 06");
    auto be32 = [](uint32_t v) {
        std::string s(4, '\0');
        for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
        return s;
    };
    epb += be32(len) + be32(0) + be32(0) + be32(3) + be32(static_cast<uint32_t>(kFrame.size())) +
           be32(static_cast<uint32_t>(kFrame.size())) + kFrame;
    while (epb.size() % 4) epb.push_back('\0');
    epb += be32(len);
    Capture c = read_ok("be.pcapng", f + epb);
    ASSERT_EQ(c.records.size(), 1u);
    EXPECT_EQ(c.records[0].t_ns, 3000);
    EXPECT_EQ(c.records[0].dport, 80);
    // Each section header says its own byte order.
    const std::string le = test::pcapng_shb() + test::pcapng_idb(1) + test::pcapng_epb(0, 1, kFrame);
    Capture flip = read_ok("flip.pcapng", le + f + epb);
    ASSERT_EQ(flip.records.size(), 2u);
    EXPECT_EQ(flip.records[0].t_ns, 1000);
    EXPECT_EQ(flip.records[1].t_ns, 3000);
    EXPECT_EQ(flip.records[1].dport, 80);
    EXPECT_EQ(flip.info.interfaces.size(), 2u);
}

// The file-backed pages this process has mapped (RssFile in /proc/self/status), in bytes.
int64_t mapped_file_bytes() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("RssFile:", 0) == 0) return std::stoll(line.substr(8)) * 1024;
    return -1;
}

// A training worker reads whole traces through a mapping: the pages it has passed go back,
// so reading a 48 MiB file leaves about the 16 MiB window mapped, not the file.
TEST(CaptureReader, PagesBehindTheReaderAreHandedBack) {
    const std::string frame = kFrame + std::string(1400 - kFrame.size(), '\0');
    constexpr int kRecords = 48 * 1024 * 1024 / 1416;
    std::string classic = pcap_header(1), ng = test::pcapng_shb() + test::pcapng_idb(1);
    for (int i = 0; i < kRecords; ++i) {
        classic += pcap_record(1, static_cast<uint32_t>(i), frame);
        ng += test::pcapng_epb(0, static_cast<uint64_t>(i), frame);
    }
    for (const auto& [name, bytes] : {std::pair<std::string, const std::string*>{"big.pcap", &classic},
                                      std::pair<std::string, const std::string*>{"big.pcapng", &ng}}) {
        const std::string path = test::write_temp(name, *bytes);
        const int64_t before = mapped_file_bytes();
        ASSERT_GE(before, 0) << "/proc/self/status has no RssFile line";
        auto r = CaptureReader::open(path);
        ASSERT_TRUE(r.ok()) << r.status().message();
        PacketRecord rec;
        int n = 0;
        while (true) {
            auto more = (*r)->next(rec);
            ASSERT_TRUE(more.ok()) << more.status().message();
            if (!*more) break;
            ++n;
        }
        EXPECT_EQ(n, kRecords) << name;
        const int64_t held = mapped_file_bytes() - before;
        EXPECT_LT(held, 24 << 20) << name << ": " << held / 1024 << " KiB of a " << bytes->size() / 1024
                                  << " KiB file still mapped after reading it";
    }
}

}  // namespace
}  // namespace dgc
