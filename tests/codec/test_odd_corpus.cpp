// Every odd capture is either parsed (link type and packet count as capinfos reports
// them) or rejected with a message naming the file; none crashes. Files capinfos itself
// cannot read have their expected outcome listed here, so a new file must be looked at.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <map>
#include <set>
#include <sstream>

#include "codec/capture_reader.h"
#include "codec_test_util.h"

namespace dgc {
namespace {

using ::testing::HasSubstr;

const std::string kOddDir = std::string(DGC_SHARED_DATA) + "/pcaps/odd";

// Wireshark's encapsulation names (capinfos -E) as pcap LINKTYPE values.
const std::map<std::string, uint32_t> kEncapLinktype = {
    {"ether", 1},        {"rawip", 101},       {"rawip4", 228},     {"rawip6", 229},
    {"null", 0},         {"linux-sll", 113},   {"linux-sll2", 276}, {"chdlc", 104},
    {"netlink", 253},    {"ieee-802-11", 105}, {"ieee-802-11-prism", 119},
    {"ieee-802-11-radiotap", 127},             {"ppi", 192},        {"ppp", 9},
    {"arcnet_linux", 129},                     {"nflog", 239},      {"socketcan", 227},
    {"wpan-nofcs", 230}, {"ip-ib", 242},       {"vsock", 271},      {"fddi-swapped", 10},
};

enum class Outcome { kReject, kWarn, kParse };
struct Expected {
    Outcome outcome;
    std::string says;      // in the error or warning
    uint64_t packets = 0;  // kWarn / kParse
};

// Files capinfos refuses, and what dgcfs makes of them.
const std::map<std::string, Expected> kCapinfosRefuses = {
    {"aircrack-ng__wep_64_ptw_02.cap", {Outcome::kReject, "unknown magic 4f443646"}},
    {"golang-github-google-gopacket-dev__test901.pcapng", {Outcome::kWarn, "unsupported pcapng version 2.0", 1}},
    // Registered link type (DSA_TAG_BRCM) Wireshark lacks: read, non-IP, not modelable.
    {"libpcap__brcm-tag-stp.pcap", {Outcome::kParse, "", 4}},
    {"libpcap__linktype-reserved-field-not-zero.pcap", {Outcome::kReject, "reserved bits set (0x00300000)"}},
    {"libpcap__pcap-invalid-version-1.pcap", {Outcome::kReject, "unsupported pcap version 1.4"}},
    {"libpcap__pcapng-invalid-vers-1.pcapng", {Outcome::kReject, "unsupported pcapng version 0.1"}},
    {"libpcap__shb-option-too-long.pcapng", {Outcome::kReject, "trailing length"}},
    {"libtrace__10_packets.tsh", {Outcome::kReject, "unknown magic"}},
    {"libtrace__legacyatm", {Outcome::kReject, "unknown magic"}},
    {"pcapfix__test_without_pcap_header.pcap", {Outcome::kReject, "unknown magic 00000000"}},
    // An 80-byte damaged record at byte 5035; 6 records before it, 7 after (resynchronised).
    {"suricata-verify__tls_DER-incomplete-header.pcap", {Outcome::kWarn, "caplen 4325376 exceeds the maximum", 13}},
    {"tcptrace__README.pcap", {Outcome::kReject, "(the file is text)"}},
};

// Damaged files Wireshark stops reading at the first damage, where the reader resynchronises
// (pcapfix's rule) and reads the valid records after it: the records read and the ranges skipped.
struct Resynced {
    uint64_t packets;
    std::string skipped;
};
const std::map<std::string, Resynced> kResyncReadsOn = {
    // pcapfix's own example: one stray byte after record 0, then two more damaged stretches.
    {"pcapfix__test_damaged.pcap", {20, "3 ranges, 4407 bytes at 0x72, 0x61e, 0xf95"}},
};

struct Capinfos {
    bool readable = false;  // printed a result row
    bool cut_short = false;
    std::string encap;
    uint64_t packets = 0;
};

Capinfos run_capinfos(const std::string& path) {
    const auto r = test::run_command("capinfos -T -r -c -E -M '" + path + "'");
    Capinfos c;
    c.cut_short = r.output.find("cut short") != std::string::npos;
    std::istringstream in(r.output);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream cols(line);
        std::string name, encap, count;
        if (!std::getline(cols, name, '\t') || !std::getline(cols, encap, '\t') || !std::getline(cols, count)) continue;
        if (name != path || count.empty() || count.find_first_not_of("0123456789") != std::string::npos) continue;
        c.readable = true;
        c.encap = encap;
        c.packets = std::stoull(count);
    }
    return c;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string n = test::base_name(info.param);
    for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return n;
}

class OddCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(OddCorpus, ParsedLikeCapinfosOrRejectedClearly) {
    ASSERT_TRUE(test::have_tool("capinfos")) << "capinfos is part of the test set-up (tools/install-deps.sh)";
    const std::string path = GetParam();
    const std::string name = test::base_name(path);
    auto cap = read_capture(path);
    const Capinfos ref = run_capinfos(path);

    if (!ref.readable) {
        auto it = kCapinfosRefuses.find(name);
        ASSERT_NE(it, kCapinfosRefuses.end()) << "capinfos refuses " << name << "; list its expected outcome";
        const Expected& e = it->second;
        if (e.outcome == Outcome::kReject) {
            ASSERT_FALSE(cap.ok()) << name << " was read";
            EXPECT_THAT(cap.status().message(), HasSubstr(path));
            EXPECT_THAT(cap.status().message(), HasSubstr(e.says));
            return;
        }
        ASSERT_TRUE(cap.ok()) << cap.status().message();
        EXPECT_EQ(cap->info.packets, e.packets);
        if (e.outcome == Outcome::kWarn) {
            EXPECT_THAT(cap->info.warning, HasSubstr(path));
            EXPECT_THAT(cap->info.warning, HasSubstr(e.says));
        } else {
            // Read cleanly where Wireshark cannot: only a link type it lacks, which the
            // codec cannot parse down to IP either.
            EXPECT_EQ(cap->info.warning, "");
            EXPECT_FALSE(cap->info.modelable);
            EXPECT_EQ(cap->info.ip_packets, 0u);
        }
        return;
    }

    EXPECT_EQ(kCapinfosRefuses.count(name), 0u) << name << " is now readable by capinfos";
    ASSERT_TRUE(cap.ok()) << cap.status().message();
    const CaptureInfo& info = cap->info;
    if (auto rs = kResyncReadsOn.find(name); rs != kResyncReadsOn.end()) {
        EXPECT_TRUE(ref.cut_short) << name << ": capinfos no longer stops at its damage";
        EXPECT_THAT(info.warning, HasSubstr("where records chain again"));
        EXPECT_EQ(info.packets, rs->second.packets);
        EXPECT_EQ(describe_skipped(info.skipped), rs->second.skipped);
    } else if (ref.cut_short) {
        // Wireshark may count the partial last frame; dgcfs keeps only whole records.
        EXPECT_THAT(info.warning, HasSubstr(path));
        EXPECT_TRUE(info.packets == ref.packets || info.packets + 1 == ref.packets)
            << "ours " << info.packets << ", capinfos " << ref.packets;
    } else {
        EXPECT_EQ(info.warning, "");
        EXPECT_EQ(info.packets, ref.packets);
    }
    EXPECT_EQ(cap->records.size(), info.packets);
    EXPECT_EQ(info.ip_packets + info.nonip_packets, info.packets);

    std::set<uint32_t> ours;
    for (const auto& i : info.interfaces) ours.insert(i.linktype);
    if (ref.encap == "per-packet") {
        EXPECT_GE(ours.size(), 2u) << "capinfos sees mixed link types";
    } else if (ref.encap == "unknown") {
        EXPECT_EQ(info.packets, 0u);  // no interface, no packets
    } else {
        auto lt = kEncapLinktype.find(ref.encap);
        ASSERT_NE(lt, kEncapLinktype.end()) << "map capinfos encapsulation '" << ref.encap << "'";
        EXPECT_EQ(ours, std::set<uint32_t>{lt->second});
    }
    // Records carry their own interface's link type.
    for (const auto& r : cap->records) EXPECT_TRUE(ours.count(r.linktype)) << r.linktype;
}

INSTANTIATE_TEST_SUITE_P(Odd, OddCorpus, ::testing::ValuesIn(test::files_in(kOddDir)), test_name);

TEST(OddCorpusSanity, CorpusIsThere) { EXPECT_GE(test::files_in(kOddDir).size(), 20u) << kOddDir; }

}  // namespace
}  // namespace dgc
