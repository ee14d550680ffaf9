// The skipped byte ranges of a trace (issue 15 finding 1): stored as an added TraceRow key
// that older rows lack, read leniently, and counted by dgcctl status and the metrics.
#include <gtest/gtest.h>

#include "fs/catalog_rows.h"
#include "fs/store_report.h"

namespace dgc::fs {
namespace {

TEST(TraceSkipped, RoundTripsAndIsAbsentWhenEmpty) {
    TraceRow t;
    t.id = 7;
    t.path = "a.pcap";
    EXPECT_EQ(encode(t).find("skipped"), std::string::npos) << "an undamaged trace's row must not change";
    t.skipped = {{100, 4196}, {9000, 9100}};
    const std::string row = encode(t);
    EXPECT_NE(row.find("\"skipped\":[[100,4196],[9000,9100]]"), std::string::npos) << row;
    auto back = decode_trace(row);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->skipped, t.skipped);
}

TEST(TraceSkipped, OldRowsAndMalformedEntries) {
    auto old = decode_trace(R"({"id":3,"path":"x.pcap","packets":971,"warning":"cut"})");
    ASSERT_TRUE(old);
    EXPECT_TRUE(old->skipped.empty());
    EXPECT_EQ(old->packets, 971u);
    // A bad entry is left out; the row and its good entries still read.
    auto odd = decode_trace(R"({"id":3,"skipped":[[5,1],[1,2,3],"x",[-1,4],[10,20]],"packets":4})");
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->skipped, (std::vector<SkippedRange>{{10, 20}}));
    EXPECT_EQ(odd->packets, 4u);
    auto not_array = decode_trace(R"({"id":3,"skipped":{"a":1}})");
    ASSERT_TRUE(not_array);
    EXPECT_TRUE(not_array->skipped.empty());
}

TEST(TraceSkipped, StatusCountsTracesWithSkippedRanges) {
    StoreStatus st;
    st.store = "/s";
    TraceRow clean, damaged, tail;
    clean.path = "clean.pcap";
    damaged.path = "d.pcap";
    damaged.skipped = {{0x5f178, 0x5f178 + 4096}};
    tail.path = "t.pcap";
    tail.skipped = {{10, 20}, {30, 45}};
    st.traces = {clean, damaged, tail};
    st.summary = summarize(st.traces, {});
    EXPECT_EQ(st.summary.skipped_traces, 2u);
    const auto j = status_json(st, 0);
    EXPECT_EQ(j["traces"]["with_skipped"], 2);
    ASSERT_EQ(j["skipped"].size(), 2u);
    EXPECT_EQ(j["skipped"][0]["path"], "d.pcap");
    EXPECT_EQ(j["skipped"][0]["summary"], "1 range, 4096 bytes at 0x5f178");
    EXPECT_EQ(j["skipped"][1]["ranges"], 2);
    EXPECT_EQ(j["skipped"][1]["bytes"], 25);
    EXPECT_NE(prometheus_metrics(j).find("dgcfs_skipped_traces 2\n"), std::string::npos);
}

}  // namespace
}  // namespace dgc::fs
