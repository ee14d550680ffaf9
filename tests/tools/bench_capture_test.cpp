// The bench-ingest capture recipe (tools/bench_capture.h): hours aligned and cut, steady hours
// keeping a different three quarters of the flows, changing hours mixing different traces,
// time order, and the same bytes from the same inputs.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "codec/capture_reader.h"
#include "tools/bench_capture.h"

namespace dgc::tools::bench {
namespace {

constexpr int64_t kSec = 1'000'000'000;

Frame frame(int64_t t_ns, uint64_t flow) { return {t_ns, 60, flow, std::string(60, char(flow & 0xff))}; }

// `flows` flows, each with a frame every `every` seconds from `start` over `span` seconds.
Trace synthetic(const std::string& name, int64_t start, int flows, int64_t every, int64_t span) {
    Trace t{name, 1, {}};
    for (int64_t s = 0; s < span; s += every)
        for (int f = 0; f < flows; ++f) t.frames.push_back(frame(start + s * kSec + f, 1000 * uint64_t(name[0]) + f));
    return t;
}

std::string pcap_of(std::span<const Trace> traces, std::span<const Pick> picks) {
    std::ostringstream out;
    write_pcap(traces, picks, out);
    return out.str();
}

std::set<uint64_t> flows_in_hour(std::span<const Trace> traces, std::span<const Pick> picks, int hour) {
    std::set<uint64_t> out;
    for (const Pick& p : picks)
        if ((p.t_ns - kCaptureStartNs) / kHourNs == hour) out.insert(traces[p.trace].frames[p.frame].flow);
    return out;
}

TEST(BenchCapture, FirstHourStartsAtTheEarliestFrameAndCutsAtOneHour) {
    Trace t{"t", 1, {frame(500 * kSec, 1), frame(100 * kSec, 2), frame(100 * kSec, 3), frame(3700 * kSec, 4),
                     frame(3699 * kSec, 5)}};
    const auto h = first_hour(t);
    ASSERT_EQ(h.size(), 4u);  // 3700 s is 3600 s after the earliest frame: the next hour's
    EXPECT_EQ(h[0].frame, 1u);
    EXPECT_EQ(h[0].offset_ns, 0);
    EXPECT_EQ(h[1].frame, 2u);  // a tie keeps file order
    EXPECT_EQ(h[2].frame, 0u);
    EXPECT_EQ(h[2].offset_ns, 400 * kSec);
    EXPECT_EQ(h[3].frame, 4u);
    EXPECT_EQ(h[3].offset_ns, 3599 * kSec);
}

TEST(BenchCapture, SteadyHoursKeepADifferentThreeQuartersOfTheFlows) {
    std::vector<std::set<uint64_t>> kept(12);
    for (int h = 0; h < 12; ++h) {
        for (uint64_t f = 0; f < 20000; ++f)
            if (steady_keeps(f * 0x9e3779b97f4a7c15ULL, h)) kept[h].insert(f);
        EXPECT_NEAR(kept[h].size() / 20000.0, 0.75, 0.02) << "hour " << h;
        EXPECT_EQ(steady_keeps(12345, h), steady_keeps(12345, h));
    }
    for (int h = 1; h < 12; ++h) {
        size_t both = 0;
        for (uint64_t f : kept[h]) both += kept[h - 1].count(f);
        // Independent quarters share 9/16 of all flows; the same quarter would share 3/4.
        EXPECT_NEAR(both / 20000.0, 9.0 / 16, 0.02) << "hours " << h - 1 << " and " << h;
    }
}

TEST(BenchCapture, ChangingHoursMixDifferentTraces) {
    std::set<std::set<uint32_t>> seen;
    for (int h = 0; h < 12; ++h) {
        const auto which = changing_traces(h, 20);
        ASSERT_EQ(which.size(), 3u);
        for (uint32_t i : which) EXPECT_LT(i, 20u);
        EXPECT_TRUE(seen.insert({which.begin(), which.end()}).second) << "hour " << h << " repeats an earlier mix";
    }
    EXPECT_EQ(changing_traces(5, 2).size(), 2u);  // a small pool: each trace once
}

TEST(BenchCapture, SteadyCaptureIsAlignedMonotoneAndSubsetPerHour) {
    // Two traces starting far apart in time, one longer than an hour.
    const std::vector<Trace> traces = {synthetic("a", 1000 * kSec, 40, 7, 5000),
                                       synthetic("b", 99'000 * kSec, 40, 11, 600)};
    auto picks = build_capture(traces, Variant::kSteady, 4);
    ASSERT_TRUE(picks.ok()) << picks.status().message();
    ASSERT_FALSE(picks->empty());
    EXPECT_EQ(picks->front().t_ns, kCaptureStartNs);
    for (size_t i = 1; i < picks->size(); ++i) ASSERT_LE((*picks)[i - 1].t_ns, (*picks)[i].t_ns) << i;
    EXPECT_LT(picks->back().t_ns, kCaptureStartNs + 4 * kHourNs);
    for (const Pick& p : *picks) {
        const int hour = int((p.t_ns - kCaptureStartNs) / kHourNs);
        const Frame& f = traces[p.trace].frames[p.frame];
        EXPECT_TRUE(steady_keeps(f.flow, hour));
        // Each trace's first frame sits at its hour's start: the offset is the trace's own.
        EXPECT_EQ(p.t_ns - hour * kHourNs - kCaptureStartNs, f.t_ns - traces[p.trace].frames[0].t_ns);
    }
    for (int h = 1; h < 4; ++h) EXPECT_NE(flows_in_hour(traces, *picks, h), flows_in_hour(traces, *picks, 0));
    // Every frame of an hour whose flow it keeps is there: 80 flows, a frame every 7 / 11 s.
    size_t hour0 = 0;
    for (const Trace& t : traces)
        for (const Offset& o : first_hour(t)) hour0 += steady_keeps(t.frames[o.frame].flow, 0);
    EXPECT_EQ(hour0, size_t(std::count_if(picks->begin(), picks->end(),
                                           [](const Pick& p) { return p.t_ns < kCaptureStartNs + kHourNs; })));
}

TEST(BenchCapture, ChangingCaptureUsesEachHoursTracesWholly) {
    const std::vector<Trace> traces = {synthetic("a", 0, 3, 60, 600), synthetic("b", 0, 5, 60, 600),
                                       synthetic("c", 0, 7, 60, 600), synthetic("d", 0, 9, 60, 600),
                                       synthetic("e", 0, 11, 60, 600)};
    auto picks = build_capture(traces, Variant::kChanging, 3);
    ASSERT_TRUE(picks.ok());
    for (int h = 0; h < 3; ++h) {
        std::set<uint32_t> used;
        size_t frames = 0;
        for (const Pick& p : *picks)
            if ((p.t_ns - kCaptureStartNs) / kHourNs == h) used.insert(p.trace), ++frames;
        const auto which = changing_traces(h, 5);
        EXPECT_EQ(used, std::set<uint32_t>(which.begin(), which.end())) << "hour " << h;
        size_t expected = 0;
        for (uint32_t t : which) expected += traces[t].frames.size();
        EXPECT_EQ(frames, expected) << "hour " << h;
    }
}

TEST(BenchCapture, RefusesMixedLinkTypesNamingBoth) {
    std::vector<Trace> traces = {synthetic("eth", 0, 1, 1, 2), synthetic("raw", 0, 1, 1, 2)};
    traces[1].linktype = 101;
    auto picks = build_capture(traces, Variant::kSteady, 1);
    ASSERT_FALSE(picks.ok());
    EXPECT_NE(picks.status().message().find("raw"), std::string::npos);
    EXPECT_NE(picks.status().message().find("eth"), std::string::npos);
}

TEST(BenchCapture, DevTracesGiveTheSameBytesTwiceAndReadBack) {
    std::vector<Trace> traces;
    for (const char* n : {"dnscap__dns.pcap", "nDPI__teams.pcap", "nDPI__reddit.pcap"}) {
        auto t = load_trace(std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + n);
        ASSERT_TRUE(t.ok()) << t.status().message();
        EXPECT_EQ(t->linktype, 1u);
        traces.push_back(std::move(*t));
    }
    auto picks = build_capture(traces, Variant::kSteady, 3);
    ASSERT_TRUE(picks.ok());
    const std::string bytes = pcap_of(traces, *picks);
    auto again = build_capture(traces, Variant::kSteady, 3);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *picks);
    EXPECT_EQ(pcap_of(traces, *again), bytes);
    for (int h = 1; h < 3; ++h) EXPECT_NE(flows_in_hour(traces, *picks, h), flows_in_hour(traces, *picks, 0));

    auto back = read_capture_memory("built.pcap", bytes);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_EQ(back->records.size(), picks->size());
    EXPECT_TRUE(back->info.warning.empty()) << back->info.warning;
    EXPECT_EQ(back->records.front().t_ns, kCaptureStartNs);
    for (size_t i = 0; i < picks->size(); ++i) {
        ASSERT_EQ(back->records[i].t_ns, (*picks)[i].t_ns) << i;  // the dev traces are in microseconds
        const Frame& f = traces[(*picks)[i].trace].frames[(*picks)[i].frame];
        ASSERT_EQ(back->records[i].caplen, f.bytes.size()) << i;
        ASSERT_EQ(back->records[i].wirelen, f.wirelen) << i;
    }
    // Three quarters of three hours of the three traces, within the hash's spread.
    const double whole = 133 + 1540 + 1942;
    EXPECT_NEAR(picks->size() / (3 * whole), 0.75, 0.1);
}

}  // namespace
}  // namespace dgc::tools::bench
