// Format 15's rules: no group address sends, and the unspecified address does not talk to
// itself. ultraloq's IPv6 is the unspecified address soliciting a router (ff02::2) and its
// own address's neighbours (ff02::1:ff14:6f30); it has no unicast IPv6 host. A parent model
// reused for one of its chunks put flows between two group addresses, and between :: and
// itself, which format 14 sent as ff02::2 → ff02::1:ff14:6f30 (a multicast address behind
// a unicast MAC) and :: → ::1 (a bit flipped to tell the two ends apart), and the reuse gate
// then failed macs_per_ip and ips_per_mac.
#include <gtest/gtest.h>

#include "codec/address_class.h"
#include "tests/trainer/chunk_test_util.h"
#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/host_slots.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

struct Misfits {
    size_t group_sources = 0;  // IP packets sent from a multicast or broadcast address
    size_t loopback = 0;       // IP packets to or from a loopback address
};

Misfits misfits(std::span<const PacketRecord> recs) {
    Misfits m;
    for (const auto& r : recs) {
        if (!r.is_ip()) continue;
        const AddrClass s = classify_address(r.ip_version, r.src.data()), d = classify_address(r.ip_version, r.dst.data());
        m.group_sources += s == AddrClass::kMulticast4 || s == AddrClass::kMulticast6 || s == AddrClass::kBroadcast4;
        m.loopback += s == AddrClass::kLoopback4 || s == AddrClass::kLoopback6 || d == AddrClass::kLoopback4 ||
                      d == AddrClass::kLoopback6;
    }
    return m;
}

}  // namespace

TEST(GroupSenders, TheSlotsOfAChunkWithoutAUnicastIpv6Host) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    const EncodedChunk enc = encode_chunk(cap.records, 1);
    const int none = unspecified_slot(enc.side, 6), group = group_slot(enc.side, 6);
    ASSERT_GE(none, 0);
    ASSERT_GE(group, 0);
    EXPECT_EQ(static_cast<AddrClass>(enc.side.host_sem[none].addr_class), AddrClass::kUnspecified6);
    EXPECT_EQ(static_cast<AddrClass>(enc.side.host_sem[group].addr_class), AddrClass::kMulticast6);
    EXPECT_EQ(unicast_slot(enc.side, 6), -1);
    EXPECT_EQ(unspecified_slot(enc.side, 4), static_cast<int>(std::find_if(enc.side.host_sem.begin(), enc.side.host_sem.end(), [](const HostSemantics& h) {
                                                  return static_cast<AddrClass>(h.addr_class) == AddrClass::kUnspecified4;
                                              }) - enc.side.host_sem.begin()));
}

TEST(GroupSenders, NoGroupAddressSendsAndTheUnspecifiedAddressSolicitsAGroup) {
    Capture cap = load_dev_capture("IoT-Dataset__ultraloq-hub-01.pcap", 20000);
    EncodedChunk enc = encode_chunk(cap.records, 1);
    const Misfits real = misfits(cap.records);
    EXPECT_EQ(real.group_sources, 0u);
    EXPECT_EQ(real.loopback, 0u);
    // The flow model's mistakes, as a parent's weights made them: ICMPv6 flows between two
    // group addresses, and from :: to ::.
    const auto none = static_cast<uint8_t>(unspecified_slot(enc.side, 6));
    const size_t icmp6 = plant_mistakes(enc, 6, 58, [&](FlowTokens& f, size_t k) {
        if (k % 2 == 0) {
            f.a[kAttrCliHost] = f.a[kAttrSrvHost];  // the solicited group, as client too
        } else {
            f.a[kAttrCliHost] = f.a[kAttrSrvHost] = none;
        }
    });
    ASSERT_GT(icmp6, 20u);
    const Misfits now = misfits(regenerate_as(enc, kSideFormat)), v14 = misfits(regenerate_as(enc, 14));
    EXPECT_EQ(now.group_sources, 0u);
    EXPECT_EQ(now.loopback, 0u);
    EXPECT_GT(v14.group_sources, 5u);
    EXPECT_GT(v14.loopback, 5u);
}
