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
