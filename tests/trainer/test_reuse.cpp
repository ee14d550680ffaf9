// Drift-aware reuse (issue 12 item 1): a chunk whose best parent, with the chunk's own side
// information, already regenerates it within the gate stores no weights; a chunk of other
// services does not reuse it. Real traces, default step budgets. (The hub's next 6,000
// packets do not pass: its hosts change ranks, and udp_pairing and macs_per_ip miss.) A
// chunk analysed ahead of its training gives the same model.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "codec/capture_reader.h"
#include "trainer/model_blob.h"
#include "trainer/pipeline.h"
#include "trainer/pipeline_policy.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

std::vector<PacketRecord> slice(const char* name, size_t first, size_t count) {
    auto c = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + name);
    EXPECT_TRUE(c.ok()) << c.status().message();
    if (!c.ok() || c->records.size() < first + count) return {};
    return {c->records.begin() + first, c->records.begin() + first + count};
}

TrainOptions cpu_options() {
    TrainOptions o;
    o.device = Device::kCpu;
    return o;
}

// The library a volume has after the first chunk of an IoT hub's week: its keyframe.
struct HubLibrary {
    PcapFormat fmt;
    ModelLibrary lib;
    HubLibrary() {
        fmt.linktype = 1;
        auto first = slice("IoT-Dataset__ultraloq-hub-01.pcap", 0, 6000);
        // A chunk's budget, not a keyframe's four times that: the SYN flood below then sits
        // between the reuse ratio and strong drift (a keyframe of 192 steps puts it past 60).
        TrainOptions o = cpu_options();
        o.steps = default_train_steps(first.size());
        auto k = train_chunk(fmt, first, lib, o);
        EXPECT_TRUE(k.ok()) << k.status().message();
        if (!k.ok()) return;
        EXPECT_EQ(k->decision, ChunkDecision::kKeyframe) << k->why;
        lib.add("hub", k->blob);
    }
};

}  // namespace

TEST(ChunkReuse, GateIsTheEvalVerdictAndThePolicyGate) {
    EXPECT_FALSE(reuse_considered(kMinReusePackets - 1));
    EXPECT_TRUE(reuse_considered(kMinReusePackets));
    EXPECT_TRUE(reuse_passes(true, 0.07, std::nullopt));
    EXPECT_FALSE(reuse_passes(false, 0.01, std::nullopt));  // the verdict decides first
    EXPECT_TRUE(reuse_passes(true, 0.03, 0.03));
    EXPECT_FALSE(reuse_passes(true, 0.0301, 0.03));  // a volume gate stricter than the verdict
    EXPECT_FALSE(reuse_passes(false, 0.01, 0.5));    // a looser one does not loosen it
}

TEST(ChunkReuse, APortPoolIsTriedOnlyWhereItCouldMendTheMiss) {
    std::array<bool, fidelity::kSemanticCount> failed{};
    EXPECT_FALSE(check_no_pool_mends(failed));
    // Which flows a port number names: exact ports can change these.
    failed[fidelity::kTcpCompleteness] = failed[fidelity::kUdpPairing] = true;
    failed[fidelity::kTcpAnomaly] = failed[fidelity::kTcpAnomalyDirs] = true;
    EXPECT_FALSE(check_no_pool_mends(failed));
    // Addresses, sizes, headers: no port changes them.
    failed[fidelity::kAddrClassPkts] = true;
    EXPECT_EQ(check_no_pool_mends(failed), fidelity::kAddrClassPkts);
    failed[fidelity::kTcpHeader] = true;
    EXPECT_EQ(check_no_pool_mends(failed), fidelity::kTcpHeader);
}

// A spoofed SYN flood against the hub's keyframe: its reuse misses on what the hub's hosts
// and packets are, so no second regeneration with a port pool is tried.
TEST(ChunkReuse, AMissNoPortCanMendSkipsThePoolTry) {
    HubLibrary h;
    // The hub's next day with a burst of 200 spoofed SYNs in its middle: close enough to the
    // parent that a reuse is tried, and the burst's addresses miss addr_class_hosts, which
    // no port value changes.
    auto day = slice("IoT-Dataset__ultraloq-hub-01.pcap", 0, 6000);
    for (auto& r : day) r.t_ns += 86'400'000'000'000;
    const int64_t middle = day.front().t_ns + (day.back().t_ns - day.front().t_ns) / 2;
    auto burst = slice("packet-captures__pkt.TCP.synflood.spoofed.pcap", 0, 200);
    for (size_t i = 0; i < burst.size(); ++i) burst[i].t_ns = middle + static_cast<int64_t>(i) * 1000;
    day.insert(day.end(), burst.begin(), burst.end());
    std::stable_sort(day.begin(), day.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; });
    auto m = train_chunk(h.fmt, day, h.lib, cpu_options());
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->decision, ChunkDecision::kDelta) << m->why;
    EXPECT_NE(m->why.find(" 0 pool ports: eval verdict fails; a port pool cannot mend "), std::string::npos) << m->why;
}

TEST(ChunkReuse, DriftThatRulesReuseOutSkipsItsRegeneration) {
    EXPECT_TRUE(reuse_plausible(14.1, 4.7));
    EXPECT_FALSE(reuse_plausible(14.2, 4.7));
    EXPECT_TRUE(reuse_plausible(1e9, std::numeric_limits<double>::quiet_NaN()));  // a base model: tried
    HubLibrary h;
    // What the parent choice compares with: the keyframe's loss on its own regenerated
    // traffic, the same whether this process trained it (kept from its measurement) or not.
    auto flood = slice("packet-captures__pkt.TCP.synflood.spoofed.pcap", 0, 6000);
    auto a = analyze_chunk(flood, h.fmt.linktype, false);
    const ParentChoice c = choose_parent(a.enc, h.lib, cpu_options().seed);
    ASSERT_EQ(c.id, "hub");
    EXPECT_EQ(c.own_loss, own_traffic_loss(*h.lib.find("hub"), h.fmt.linktype, cpu_options().seed));
    EXPECT_GT(c.own_loss, 0);
    EXPECT_GT(c.loss, kReuseMaxLossRatio * c.own_loss);
    EXPECT_FALSE(reuse_tried(c, flood.size(), true));
    // A SYN flood against an IoT hub's model: no regeneration is spent on a reuse.
    auto m = train_chunk(h.fmt, flood, h.lib, cpu_options());
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->decision, ChunkDecision::kDelta) << m->why;
    EXPECT_NE(m->why.find("reuse not tried: parent loss "), std::string::npos) << m->why;
    EXPECT_EQ(m->why.find("reuse of hub"), std::string::npos) << m->why;
}

TEST(ChunkReuse, AChunkOfTheParentsOwnTrafficReusesItAndStoresNoWeights) {
    HubLibrary h;
    // The same traffic a day later (a steady link's next hour or day): other times, hence
    // another generation seed, the same hosts and services.
    auto next = slice("IoT-Dataset__ultraloq-hub-01.pcap", 0, 6000);
    for (auto& r : next) r.t_ns += 86'400'000'000'000;
    auto m = train_chunk(h.fmt, next, h.lib, cpu_options());
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->decision, ChunkDecision::kReused) << m->why;
    EXPECT_EQ(m->parent_id, "hub");
    EXPECT_NE(m->why.find("reused hub: 17-mean"), std::string::npos) << m->why;
    EXPECT_NE(m->why.find(" 0 semantics checks over"), std::string::npos) << m->why;
    auto b = decode_blob(m->blob, "reused chunk");
    ASSERT_TRUE(b.ok()) << b.status().message();
    EXPECT_EQ(b->kind, BlobKind::kDelta);
    EXPECT_TRUE(b->params.empty());  // the parent's weights as they are
    EXPECT_EQ(b->lora_rank, 0);
    EXPECT_LT(m->blob.size(), 2000u);  // its side information, nothing more
    // A reader regenerates exactly what was measured, and the fidelity passed the gate.
    auto gen = generate_chunk(h.fmt, m->blob, h.lib);
    ASSERT_TRUE(gen.ok()) << gen.status().message();
    EXPECT_EQ(gen->size(), m->packets);
    EXPECT_EQ(pcap_records_size(h.fmt, *gen), m->synth_bytes);
    // Deterministic: the decision and its bytes are the same on a second run.
    auto again = train_chunk(h.fmt, next, h.lib, cpu_options());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->blob, m->blob);
    EXPECT_EQ(again->why, m->why);
    // Analysed ahead, as a worker waiting for a keyframe does: the same decision and bytes.
    auto ahead = analyze_chunk(next, h.fmt.linktype, true);
    ASSERT_TRUE(ahead.baseline.has_value());
    auto prepared = train_chunk(h.fmt, next, h.lib, cpu_options(), &ahead);
    ASSERT_TRUE(prepared.ok()) << prepared.status().message();
    EXPECT_EQ(prepared->blob, m->blob);
    EXPECT_EQ(prepared->why, m->why);

    // Reuse switched off, or a volume gate no chunk can meet: the chunk is fine-tuned.
    TrainOptions off = cpu_options();
    off.reuse = false;
    auto tuned = train_chunk(h.fmt, next, h.lib, off);
    ASSERT_TRUE(tuned.ok());
    EXPECT_EQ(tuned->decision, ChunkDecision::kDelta);
    EXPECT_NE(tuned->why.find("reuse off"), std::string::npos) << tuned->why;
    TrainOptions strict = cpu_options();
    strict.max_jsd = 1e-9;
    auto gated = train_chunk(h.fmt, next, h.lib, strict);
    ASSERT_TRUE(gated.ok());
    EXPECT_EQ(gated->decision, ChunkDecision::kDelta);
    EXPECT_NE(gated->why.find("over the volume's max_jsd"), std::string::npos) << gated->why;
    auto db = decode_blob(gated->blob, "tuned chunk");
    ASSERT_TRUE(db.ok());
    EXPECT_FALSE(db->params.empty());
}

TEST(ChunkReuse, AChunkOfOtherServicesDoesNotReuseTheHubsModel) {
    HubLibrary h;
    auto dns = slice("USTC-TFC2016__Tinba.pcap", 0, 6000);
    auto m = train_chunk(h.fmt, dns, h.lib, cpu_options());
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_NE(m->decision, ChunkDecision::kReused) << m->why;
    // Analysed ahead without the reuse baseline (train_chunk adds it): the same model.
    auto ahead = analyze_chunk(dns, h.fmt.linktype, false);
    auto prepared = train_chunk(h.fmt, dns, h.lib, cpu_options(), &ahead);
    ASSERT_TRUE(prepared.ok()) << prepared.status().message();
    EXPECT_EQ(prepared->blob, m->blob);
    EXPECT_EQ(prepared->fidelity, m->fidelity);
    EXPECT_EQ(prepared->why, m->why);
    auto b = decode_blob(m->blob, "chunk");
    ASSERT_TRUE(b.ok());
    if (m->decision == ChunkDecision::kDelta) {
        // Tried and missed, or ruled out by drift: either way the why says which.
        EXPECT_TRUE(m->why.find("reuse of hub") != std::string::npos ||
                    m->why.find("reuse not tried: parent loss ") != std::string::npos)
            << m->why;
        EXPECT_FALSE(b->params.empty());
    } else {
        EXPECT_EQ(b->kind, BlobKind::kKeyframe);
    }
}
