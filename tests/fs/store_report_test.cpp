#include "fs/store_report.h"

#include <gtest/gtest.h>

#include "fs/ingest.h"

namespace dgc::fs {
namespace {

TEST(StoreReport, CountsStatesBytesAndSaving) {
    TraceRow queued;
    queued.chunks = 2;
    queued.raw_size = 1000;
    queued.raw_stored = 400;
    TraceRow expired = queued;
    expired.chunks_done = 2;
    expired.raw_present = false;
    expired.model_bytes = 50;
    TraceRow garbage;
    garbage.unmodelable = "not a capture";
    garbage.raw_size = 100;
    garbage.raw_stored = 100;
    ChunkRow done;
    done.done = true;
    done.train_seconds = 3;
    auto s = summarize({queued, expired, garbage}, {done, done, ChunkRow{}});
    EXPECT_EQ(s.traces, 3u);
    EXPECT_EQ(s.by_state["queued"], 1u);
    EXPECT_EQ(s.by_state["raw-expired"], 1u);
    EXPECT_EQ(s.by_state["unmodelable"], 1u);
    EXPECT_EQ(s.original_bytes, 2100u);
    EXPECT_EQ(s.raw_stored_bytes, 500u);
    EXPECT_EQ(s.model_bytes, 50u);
    EXPECT_NEAR(s.saving(), 1.0 - 550.0 / 2100.0, 1e-12);
    EXPECT_DOUBLE_EQ(s.seconds_per_chunk(), 3.0);
    EXPECT_EQ(human_bytes(1536), "1.5 KiB");
}

// A keyframe chunk's blob is also its library entry, so it counts once, as the trace's own;
// a base model and a keyframe whose chunk is still training count as shared.
TEST(StoreReport, SharedModelsAreLibraryEntriesNoDoneChunkHolds) {
    ChunkRow keyframe;
    keyframe.trace = 7, keyframe.index = 1, keyframe.done = true;
    ChunkRow delta = keyframe;
    delta.index = 2, delta.parent_id = "base:site";
    ChunkRow pending;
    pending.trace = 8, pending.index = 0;
    const std::vector<std::pair<std::string, uint64_t>> library = {{"base:site", 1000}, {"t7c1", 300}, {"t8c0", 40}};
    EXPECT_EQ(shared_library_bytes(library, {keyframe, delta, pending}), 1040u);
    EXPECT_EQ(shared_library_bytes(library, {}), 1340u);
    auto s = summarize({}, {});
    s.original_bytes = 10000, s.model_bytes = 300, s.shared_model_bytes = 1040;
    EXPECT_NEAR(s.saving(), 1.0 - 1340.0 / 10000.0, 1e-12);  // the store holds the shared models too
}

TEST(StoreReport, BacklogCountsOnlyModelableTracesNotModelledYet) {
    TraceRow waiting;
    waiting.chunks = 2;
    waiting.chunks_done = 1;
    waiting.packets = 700;
    TraceRow done = waiting;
    done.chunks_done = 2;
    TraceRow garbage = waiting;
    garbage.unmodelable = "not a capture";
    auto s = summarize({waiting, done, garbage}, {});
    EXPECT_EQ(s.packets, 2100u);
    EXPECT_EQ(s.backlog_packets, 700u);
}

TEST(StoreReport, PrometheusMetricsCarryTheStatusFigures) {
    StoreStatus st;
    st.store = "/s";
    TraceRow t;
    t.chunks = 1;
    t.packets = 5;
    t.raw_size = 1000;
    t.raw_stored = 250;
    st.traces = {t};
    st.summary = summarize(st.traces, {});
    st.jobs = 1;
    const auto text = prometheus_metrics(status_json(st, 0));
    for (const char* line : {"dgcfs_up 0\n", "dgcfs_traces{state=\"queued\"} 1\n", "dgcfs_traces{state=\"staging\"} 0\n",
                             "dgcfs_raw_bytes 250\n", "dgcfs_accepted_bytes 1000\n", "dgcfs_backlog_packets 5\n",
                             "dgcfs_queue_jobs 1\n", "dgcfs_saving_ratio 0.75\n", "# TYPE dgcfs_model_bytes gauge\n"})
        EXPECT_NE(text.find(line), std::string::npos) << line << " missing from:\n" << text;
}

TEST(StoreReport, ResolveStoreRejectsPlainDirectories) {
    auto r = resolve_store("/tmp");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("/tmp"), std::string::npos);
}

TEST(Ingest, UnmodelableReasonsNameTheProblem) {
    CaptureInfo info;
    info.modelable = false;
    info.linktype = 105;
    info.interfaces.push_back({});
    info.interfaces.back().linktype = 105;
    auto why = unmodelable_reason(info, 10);
    EXPECT_NE(why.find("105"), std::string::npos) << why;
    info.modelable = true;
    EXPECT_EQ(unmodelable_reason(info, 0), "the capture holds no packets");
    info.ip_packets = 0;
    EXPECT_EQ(unmodelable_reason(info, 3), "the capture holds no IP packets");
    info.ip_packets = 3;
    EXPECT_EQ(unmodelable_reason(info, 3), "");
    EXPECT_EQ(output_linktype(1), 1u);
    EXPECT_EQ(output_linktype(113), 101u);
}

}  // namespace
}  // namespace dgc::fs
