// The arithmetic behind `dgcctl status`'s backlog: load-average rates on a fake clock, the
// ETA, "not keeping up", which traces wait for their models, and how the report shows it.
#include "fs/backpressure.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fs/store_report.h"

namespace dgc::fs {
namespace {

constexpr int64_t kS = 1'000'000'000;

// `per_s` added before each of `seconds` one-second ticks.
void feed(RateMeter& m, int64_t& now, int seconds, double per_s, bool busy = true) {
    for (int i = 0; i < seconds; ++i) {
        m.add(per_s);
        now += kS;
        m.tick(now, busy);
    }
}

TEST(Backpressure, EwmaWeightIsTheLoadAverageDecay) {
    EXPECT_NEAR(ewma_weight(60, 60), 1 - std::exp(-1.0), 1e-12);
    EXPECT_EQ(ewma_weight(0, 60), 0);
    EXPECT_EQ(ewma_weight(-5, 60), 0);
    // Two 30 s ticks at the same rate move the average exactly as one 60 s tick does.
    Ewma once{60}, twice{60};
    once.update(60, 10);
    twice.update(30, 10);
    twice.update(30, 10);
    EXPECT_NEAR(once.sum, twice.sum, 1e-12);
    EXPECT_NEAR(once.weight, twice.weight, 1e-12);
}

TEST(Backpressure, IngestRateIsALoadAverageThatIdleTimeLowers) {
    RateMeter m(RateMeter::Idle::kCounts);
    int64_t now = 0;
    m.tick(now, true);  // starts the clock: nothing is known before it
    EXPECT_EQ(m.short_rate(), 0);
    feed(m, now, 60, 100);
    // One window of steady traffic: 1 - 1/e of the way there, like uptime's load average.
    EXPECT_NEAR(m.short_rate(), 100 * (1 - std::exp(-1.0)), 1e-6);
    EXPECT_NEAR(m.long_rate(), 100 * (1 - std::exp(-60.0 / 900)), 1e-6);
    feed(m, now, 3600, 100);
    EXPECT_NEAR(m.short_rate(), 100, 1e-6);
    EXPECT_NEAR(m.long_rate(), 100 * (1 - std::exp(-3660.0 / 900)), 1e-6);
    // Then nothing arrives for a minute: the rate falls, whatever `busy` says.
    const double before = m.short_rate();
    feed(m, now, 60, 0, false);
    EXPECT_NEAR(m.short_rate(), before * std::exp(-1.0), 1e-6);
}

TEST(Backpressure, ModellingRateIsThroughputWhileThereIsWork) {
    RateMeter m(RateMeter::Idle::kExcluded);
    int64_t now = 5 * kS;
    m.tick(now, false);
    // A steady 50 packets/s is 50 from the first tick on: no warm-up from zero.
    feed(m, now, 3, 50);
    EXPECT_NEAR(m.short_rate(), 50, 1e-9);
    EXPECT_NEAR(m.long_rate(), 50, 1e-9);
    // Idle (queue empty, nothing committed): the rate is what the workers can do, not 0.
    feed(m, now, 600, 0, false);
    EXPECT_NEAR(m.short_rate(), 50, 1e-9);
    // Busy without a commit lowers it; a chunk committed at once raises it again.
    feed(m, now, 20, 0, true);
    const double waiting = m.short_rate();
    EXPECT_LT(waiting, 50 * std::exp(-20.0 / 60) + 1e-6);
    m.add(2000);
    now += kS;
    m.tick(now, true);
    EXPECT_GT(m.short_rate(), waiting);
}

TEST(Backpressure, AClockThatStandsStillOrStepsBackCountsNoTime) {
    RateMeter m(RateMeter::Idle::kCounts);
    m.tick(10 * kS, true);
    m.add(500);
    m.tick(10 * kS, true);
    m.tick(9 * kS, true);
    EXPECT_EQ(m.short_rate(), 0);  // no division by a zero or negative interval
    m.tick(11 * kS, true);         // the packets are counted in the next real interval
    EXPECT_NEAR(m.short_rate(), 500 * ewma_weight(1, kShortWindowS), 1e-9);
}

TEST(Backpressure, ThroughputTicksOnTheInjectedClock) {
    int64_t now = 0;
    Throughput t([&] { return now; });
    t.tick(false);
    t.accepted(1000, 80000);
    now += 2 * kS;
    t.tick(true);
    t.modelled(400);
    now += 2 * kS;
    t.tick(true);
    const auto j = t.json();
    for (const char* k : {"ingest_packets_per_s", "ingest_bytes_per_s", "modelling_packets_per_s"})
        for (const char* w : {"1m", "15m"}) ASSERT_TRUE(j[k][w].is_number()) << k << " " << w;
    EXPECT_GT(j["ingest_packets_per_s"]["1m"].get<double>(), 0);
    EXPECT_NEAR(j["ingest_bytes_per_s"]["1m"].get<double>() / j["ingest_packets_per_s"]["1m"].get<double>(), 80, 1e-9);
    // 400 packets over the 4 busy seconds.
    EXPECT_NEAR(j["modelling_packets_per_s"]["15m"].get<double>(), 100, 1.0);
}

TEST(Backpressure, EtaAndGrowth) {
    EXPECT_EQ(backlog_eta_s(0, 0), 0.0);
    EXPECT_FALSE(backlog_eta_s(10, 0).has_value());
    EXPECT_DOUBLE_EQ(*backlog_eta_s(14000, 7000), 2.0);
    EXPECT_DOUBLE_EQ(backlog_growth_pps(10000, 7000), 3000);
    EXPECT_EQ(backlog_growth_pps(5000, 7000), 0);
}

nlohmann::json rates(double ingest15, double modelling15) {
    return {{"ingest_packets_per_s", {{"1m", ingest15}, {"15m", ingest15}}},
            {"ingest_bytes_per_s", {{"1m", 80 * ingest15}, {"15m", 80 * ingest15}}},
            {"modelling_packets_per_s", {{"1m", modelling15}, {"15m", modelling15}}}};
}

TEST(Backpressure, BacklogJsonSaysEtaOrHowFastTheBacklogGrows) {
    auto j = backlog_json({7000, 3, 2, 1}, rates(1000, 3500));
    EXPECT_EQ(j["packets"], 7000);
    EXPECT_EQ(j["chunks"], 3);
    EXPECT_EQ(j["traces"], 2);
    EXPECT_EQ(j["raw_overdue_traces"], 1);
    EXPECT_DOUBLE_EQ(j["eta_s"].get<double>(), 2.0);
    EXPECT_EQ(j["keeping_up"], true);
    EXPECT_EQ(j["growth_packets_per_s"], 0.0);
    EXPECT_EQ(j["modelling_packets_per_s"]["1m"], 3500.0);

    j = backlog_json({7000, 3, 2, 0}, rates(5000, 3500));
    EXPECT_EQ(j["keeping_up"], false);
    EXPECT_DOUBLE_EQ(j["growth_packets_per_s"].get<double>(), 1500);
    EXPECT_DOUBLE_EQ(j["eta_s"].get<double>(), 2.0);  // at today's speed, if ingest stopped

    // No chunk modelled yet: nothing is known about the speed.
    j = backlog_json({7000, 3, 2, 0}, rates(5000, 0));
    EXPECT_TRUE(j["eta_s"].is_null());
    EXPECT_TRUE(j["keeping_up"].is_null());
    // No daemon: no rates, and an ETA only when nothing is left.
    j = backlog_json({7000, 3, 2, 0}, nullptr);
    EXPECT_TRUE(j["ingest_packets_per_s"].is_null());
    EXPECT_TRUE(j["eta_s"].is_null());
    EXPECT_EQ(backlog_json({}, nullptr)["eta_s"], 0.0);
}

TEST(Backpressure, RawWaitsForModelsOnlyPastItsTtlAndWhileNotModelled) {
    auto policy = parse_policy("[defaults]\nraw_ttl = \"60s\"\n", "test.toml");
    ASSERT_TRUE(policy.ok()) << policy.status().message();
    TraceRow t;
    t.path = "a.pcap";
    t.accepted_ns = 100 * kS;
    t.chunks = 3;
    t.chunks_done = 1;
    EXPECT_FALSE(raw_waits_for_models(*policy, t, 159));
    EXPECT_TRUE(raw_waits_for_models(*policy, t, 161));
    TraceRow done = t;
    done.chunks_done = 3;
    EXPECT_FALSE(raw_waits_for_models(*policy, done, 161));  // may go: nothing waits
    TraceRow garbage = t;
    garbage.unmodelable = "not a capture";
    EXPECT_FALSE(raw_waits_for_models(*policy, garbage, 161));  // kept forever, not waiting
    TraceRow expired = t;
    expired.raw_present = false;
    EXPECT_FALSE(raw_waits_for_models(*policy, expired, 161));
    auto forever = parse_policy("", "none.toml");
    ASSERT_TRUE(forever.ok());
    EXPECT_FALSE(raw_waits_for_models(*forever, t, 1e9));  // no TTL: raw is not overdue
}

TEST(Backpressure, BacklogCountsTheChunksNotModelledOfModelableTraces) {
    TraceRow t;
    t.id = 1, t.chunks = 3, t.chunks_done = 1, t.packets = 600;
    TraceRow garbage;
    garbage.id = 2, garbage.chunks = 1, garbage.packets = 50, garbage.unmodelable = "odd link type";
    auto chunk = [](uint64_t trace, uint32_t index, uint64_t count, bool done) {
        ChunkRow c;
        c.trace = trace, c.index = index, c.count = count, c.done = done;
        return c;
    };
    auto s = summarize({t, garbage}, {chunk(1, 0, 100, true), chunk(1, 1, 200, false), chunk(1, 2, 300, false),
                                      chunk(2, 0, 50, false)});
    EXPECT_EQ(s.backlog_chunk_packets, 500u);
    EXPECT_EQ(s.backlog_chunks, 2u);
    EXPECT_EQ(s.backlog_traces, 1u);
    EXPECT_EQ(s.backlog_packets, 600u);  // the older, whole-trace figure stays as documented
}

TEST(Backpressure, StatusJsonAndMetricsCarryTheRates) {
    StoreStatus st;
    st.store = "/s";
    st.daemon_running = true;
    st.live = {{"running", true}, {"rates", rates(1000, 3500)}};
    st.summary.backlog_chunk_packets = 7000;
    st.summary.backlog_chunks = 2;
    st.summary.backlog_traces = 1;
    const auto j = status_json(st, 0);
    EXPECT_EQ(j["schema"], 1);  // new keys only
    EXPECT_DOUBLE_EQ(j["backlog"]["eta_s"].get<double>(), 2.0);
    const auto text = prometheus_metrics(j);
    for (const char* line :
         {"dgcfs_ingest_packets_per_second{window=\"1m\"} 1000\n", "dgcfs_ingest_packets_per_second{window=\"15m\"} 1000\n",
          "dgcfs_ingest_bytes_per_second{window=\"1m\"} 80000\n",
          "dgcfs_modelling_packets_per_second{window=\"15m\"} 3500\n", "dgcfs_backlog_eta_seconds 2\n",
          "dgcfs_backlog_unmodelled_packets 7000\n", "dgcfs_backlog_chunks 2\n",
          "dgcfs_backlog_growth_packets_per_second 0\n", "dgcfs_raw_overdue_traces 0\n"})
        EXPECT_NE(text.find(line), std::string::npos) << line << " missing from:\n" << text;
    // Without a daemon the rate families are there, with no samples to mislead a graph.
    st.daemon_running = false;
    const auto down = prometheus_metrics(status_json(st, 0));
    EXPECT_NE(down.find("# TYPE dgcfs_modelling_packets_per_second gauge"), std::string::npos);
    EXPECT_EQ(down.find("dgcfs_modelling_packets_per_second{"), std::string::npos) << down;
    EXPECT_EQ(down.find("\ndgcfs_backlog_eta_seconds "), std::string::npos) << down;
}

}  // namespace
}  // namespace dgc::fs
