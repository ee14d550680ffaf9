// Every dev capture: parse -> synthesize -> parse gives identical IP-level records, and
// tshark finds neither malformed packets nor bad checksums in the synthesized output.
#include <gtest/gtest.h>

#include <sstream>

#include <pcap/pcap.h>

#include "codec/byte_order.h"
#include "codec/capture_reader.h"
#include "codec/capture_writer.h"
#include "codec/checksum.h"
#include "codec/frame_parse.h"
#include "codec/frame_synth.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

const std::string kDevDir = std::string(DGC_SHARED_DATA) + "/pcaps/dev";

std::vector<std::string> dev_files() { return test::files_in(kDevDir); }

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string n = test::base_name(info.param);
    for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return n;
}

std::string synthesize(const Capture& cap, PcapFormat fmt) {
    std::string out = pcap_file_header(fmt);
    append_pcap_records(fmt, cap.records, out);
    return out;
}

// tshark's expert summary: the lines of the Errors section plus any Malformed or
// Checksum entry of lower severity. Empty means clean.
std::string tshark_expert_problems(const std::string& path) {
    const auto r = test::run_command(
        "tshark -n -r '" + path +
        "' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
        " -o tcp.analyze_sequence_numbers:FALSE -z expert,note -q");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::istringstream in(r.output);
    std::string line, problems;
    bool in_errors = false;
    while (std::getline(in, line)) {
        if (line.rfind("Errors", 0) == 0) in_errors = true;
        if (line.rfind("Warns", 0) == 0 || line.rfind("Notes", 0) == 0 || line.rfind("Chats", 0) == 0) in_errors = false;
        if (in_errors || line.find("Malformed") != std::string::npos || line.find("Checksum") != std::string::npos) {
            problems += line + "\n";
        }
    }
    return problems;
}

struct ChecksumTally {
    uint64_t good = 0, bad = 0, unverified = 0;
};

// Checksum verdicts tshark gives every IP/TCP/UDP/ICMP/ICMPv6 checksum it sees.
ChecksumTally tshark_checksums(const std::string& path) {
    const auto r = test::run_command(
        "tshark -n -r '" + path +
        "' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
        " -o tcp.analyze_sequence_numbers:FALSE -T fields"
        " -e ip.checksum.status -e tcp.checksum.status -e udp.checksum.status -e icmp.checksum.status"
        " -e icmpv6.checksum.status");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    ChecksumTally t;
    std::istringstream in(r.output);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find("Running as user") != std::string::npos) continue;
        for (char& c : line) {
            if (c == ',' || c == '\t') c = ' ';
        }
        std::istringstream words(line);
        std::string w;
        while (words >> w) {
            if (w == "0") ++t.bad;
            if (w == "1") ++t.good;
            if (w == "2") ++t.unverified;
        }
    }
    return t;
}

class DevCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(DevCorpus, RoundTripKeepsIpLevelRecords) {
    auto cap = read_capture(GetParam());
    ASSERT_TRUE(cap.ok()) << cap.status().message();
    EXPECT_TRUE(cap->info.warning.empty()) << cap->info.warning;
    ASSERT_GT(cap->info.ip_packets, 0u);
    for (uint32_t lt : {1u, 101u}) {
        PcapFormat fmt;
        fmt.linktype = lt;
        fmt.nanosecond = true;
        const std::string bytes = synthesize(*cap, fmt);
        ASSERT_EQ(bytes.size(), 24 + pcap_records_size(fmt, cap->records));
        auto back = read_capture_memory("synth", bytes);
        ASSERT_TRUE(back.ok()) << back.status().message();
        ASSERT_TRUE(back->info.warning.empty()) << back->info.warning;
        size_t j = 0, compared = 0, mismatches = 0;
        for (const PacketRecord& r : cap->records) {
            if (synth_layout(r, lt).caplen == 0) continue;  // non-IP on raw IP: left out
            ASSERT_LT(j, back->records.size());
            const PacketRecord& b = back->records[j++];
            if (!r.is_ip()) continue;
            ++compared;
            const bool same = ip_level(r) == ip_level(b) && (lt != 1 || (r.vlan_depth == b.vlan_depth &&
                                                                        r.vlan_id == b.vlan_id));
            if (!same && ++mismatches <= 3) ADD_FAILURE() << "record " << (&r - cap->records.data()) << " differs";
            EXPECT_EQ(b.t_ns, r.t_ns);
        }
        EXPECT_EQ(j, back->records.size());
        EXPECT_EQ(compared, cap->info.ip_packets);
        EXPECT_EQ(mismatches, 0u) << "linktype " << lt;
    }
}

INSTANTIATE_TEST_SUITE_P(Dev, DevCorpus, ::testing::ValuesIn(dev_files()), test_name);

// Every IGMP message of the dev captures that parses as one (queries, reports, leaves) is
// written back as its stack sent it: the IP header with its Router Alert and the message,
// byte for byte, but for a version 3 query's robustness and interval (the codec writes
// Linux's 2 and 125 s; wechat's router sends 2 and 0) and so its checksum, which must verify.
TEST(DevCorpusIgmp, MessagesAreWrittenBackAsSent) {
    size_t written = 0;
    for (const std::string& path : dev_files()) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t* p = pcap_open_offline(path.c_str(), err);
        ASSERT_NE(p, nullptr) << path << ": " << err;
        const auto lt = static_cast<uint32_t>(pcap_datalink(p));
        pcap_pkthdr* h = nullptr;
        const u_char* d = nullptr;
        while (pcap_next_ex(p, &h, &d) == 1) {
            PacketRecord r;
            parse_frame(lt, d, h->caplen, r);
            if (!(r.present & kHasIgmp)) continue;
            const uint8_t* ip = d + parse_link(lt, d, h->caplen).l3_offset;
            SCOPED_TRACE(test::base_name(path) + " IGMP type " + std::to_string(r.icmp_type));
            ASSERT_EQ(ip[0], 0x46) << "every dev capture's IGMP has a Router Alert";
            const SynthLayout L = synth_layout(r, 101);
            std::vector<uint8_t> out(L.caplen);
            synthesize_headers(r, 101, L, out.data());
            ASSERT_EQ(L.caplen, r.ip_len);
            std::vector<uint8_t> real(ip, ip + r.ip_len);
            EXPECT_EQ(checksum_finish(checksum_add(0, out.data() + 24, r.ip_len - 24)), 0);
            if (r.icmp_type == kIgmpQuery && r.ip_len >= 36) {
                real[24 + 8] = out[24 + 8], real[24 + 9] = out[24 + 9];
                real[24 + 2] = out[24 + 2], real[24 + 3] = out[24 + 3];
            }
            EXPECT_EQ(out, real);
            ++written;
        }
        pcap_close(p);
    }
    EXPECT_EQ(written, 39u) << "wechat 24, gnutella 12, alexa-app 2, netflix 1";
}

// All dev traces synthesized into one file per mode: tshark's start-up dominates its
// cost, so two runs over everything beat two per trace. A failure names the traces.
TEST(DevCorpusTshark, NoMalformedPacketsOrBadChecksums) {
    ASSERT_TRUE(test::have_tool("tshark")) << "tshark is part of the test set-up (tools/install-deps.sh)";
    PcapFormat headers_fmt;
    headers_fmt.nanosecond = true;
    PcapFormat zeros_fmt = headers_fmt;
    zeros_fmt.zero_payload = true;
    std::string headers = pcap_file_header(headers_fmt), zeros = pcap_file_header(zeros_fmt);
    std::vector<std::pair<std::string, std::string>> per_file;  // name, headers-only bytes
    uint64_t ip_packets = 0;
    for (const auto& f : dev_files()) {
        auto cap = read_capture(f);
        ASSERT_TRUE(cap.ok()) << cap.status().message();
        ip_packets += cap->info.ip_packets;
        const std::string h = synthesize(*cap, headers_fmt);
        headers += h.substr(24);
        zeros += synthesize(*cap, zeros_fmt).substr(24);
        per_file.emplace_back(test::base_name(f), h);
    }
    // As dgcfs serves traces: headers only. Nothing malformed, no bad IP/ICMP checksum.
    const std::string problems = tshark_expert_problems(test::write_temp("dev.headers.pcap", headers));
    EXPECT_EQ(problems, "");
    if (!problems.empty()) {
        for (const auto& [name, bytes] : per_file) {
            const std::string p = tshark_expert_problems(test::write_temp(name + ".headers.pcap", bytes));
            EXPECT_EQ(p, "") << name;
        }
    }
    // Payload captured as zeros, so tshark verifies the TCP/UDP checksums too. (Only the
    // checksums: application dissectors rightly call an all-zero EAP or NTP body malformed.)
    const ChecksumTally t = tshark_checksums(test::write_temp("dev.zeros.pcap", zeros));
    EXPECT_EQ(t.bad, 0u);
    EXPECT_GE(t.good, ip_packets / 2) << "tshark verified too few checksums";
}

TEST(DevCorpusSanity, CorpusIsThere) { EXPECT_GE(dev_files().size(), 10u) << kDevDir; }

// The tshark checks above can fail: a flipped TCP checksum is seen as bad.
TEST(DevCorpusSanity, TsharkCatchesABrokenChecksum) {
    ASSERT_TRUE(test::have_tool("tshark"));
    PacketRecord r;
    r.present = kHasIp | kHasPorts | kHasTcp;
    r.ethertype = 0x0800;
    r.ip_version = 4;
    r.src = {10, 0, 0, 1};
    r.dst = {10, 0, 0, 2};
    r.proto = 6;
    r.ip_len = 60;
    r.ttl = 64;
    r.sport = 40000;
    r.dport = 22;
    r.tcp_flags = 0x10;
    r.window = 100;
    PcapFormat fmt;
    fmt.zero_payload = true;
    std::string good = pcap_file_header(fmt);
    append_pcap_records(fmt, std::span<const PacketRecord>(&r, 1), good);
    EXPECT_EQ(tshark_checksums(test::write_temp("good.pcap", good)).bad, 0u);
    std::string bad = good;
    bad[24 + 16 + 14 + 20 + 16] ^= 0x5a;  // TCP checksum
    EXPECT_EQ(tshark_checksums(test::write_temp("bad.pcap", bad)).bad, 1u);
    EXPECT_NE(tshark_expert_problems(test::write_temp("bad2.pcap", bad)), "");
}

}  // namespace
}  // namespace dgc
