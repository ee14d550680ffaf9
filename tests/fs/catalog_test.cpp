#include "fs/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

namespace dgc::fs {
namespace {

struct TempDir {
    std::filesystem::path p = std::filesystem::temp_directory_path() /
                              ("dgc-catalog-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    TempDir() { std::filesystem::create_directories(p); }
    ~TempDir() { std::filesystem::remove_all(p); }
};

IngestCommit ingest_of(uint64_t id, const std::string& path, uint32_t chunks, uint64_t staging) {
    IngestCommit c;
    c.trace.id = id;
    c.trace.path = path;
    c.trace.chunks = chunks;
    c.trace.raw_size = 1000;
    c.frame_index = std::string("\x01", 1);
    c.staging_id = staging;
    for (uint32_t i = 0; i < chunks; ++i) c.chunks.push_back({id, i, i * 10ull, 10});
    return c;
}

ModelCommit model_of(uint64_t id, uint32_t chunk, double fid) {
    ModelCommit m;
    m.trace = id;
    m.chunk = chunk;
    m.blob = "blob-" + std::to_string(chunk);
    m.row = ChunkRow{id, chunk, chunk * 10ull, 10, true, 10, 1000 + chunk, m.blob.size(), fid, 0, 1.5, ""};
    return m;
}

TEST(Catalog, IngestIsOneTransactionWithOneJobPerChunk) {
    TempDir d;
    auto cat = Catalog::open(d.p.string(), false);
    ASSERT_TRUE(cat.ok()) << cat.status().message();
    auto& c = **cat;
    ASSERT_TRUE(c.put_staging({7, "a/x.pcap", 0644, 1, true}));
    ASSERT_EQ(c.staging_rows()->size(), 1u);
    ASSERT_TRUE(c.commit_ingest(ingest_of(1, "a/x.pcap", 3, 7)));
    EXPECT_TRUE(c.staging_rows()->empty());
    auto jobs = c.jobs();
    ASSERT_EQ(jobs->size(), 3u);
    EXPECT_EQ((*jobs)[0].chunk, 0u);
    EXPECT_EQ((*jobs)[2].chunk, 2u);
    auto t = c.trace_at("a/x.pcap");
    ASSERT_TRUE(t.ok() && t->has_value());
    EXPECT_EQ(trace_state(**t, false), "queued");
}

TEST(Catalog, ModelCommitsAccumulateAndSurviveReopen) {
    TempDir d;
    {
        auto c = std::move(Catalog::open(d.p.string(), false).value());
        ASSERT_TRUE(c->commit_ingest(ingest_of(1, "x.pcap", 2, 1)));
        auto m = model_of(1, 0, 0.1);
        m.keyframe_id = "k1";
        ASSERT_TRUE(c->commit_model(m));
        ASSERT_TRUE(c->commit_model(m));  // a retried commit does not double count
        auto t = c->trace(1);
        EXPECT_EQ((*t)->chunks_done, 1u);
        EXPECT_EQ(trace_state(**t, true), "training 1/2");
        EXPECT_EQ(c->jobs()->size(), 1u);
    }
    auto c = std::move(Catalog::open(d.p.string(), false).value());
    ASSERT_TRUE(c->commit_model(model_of(1, 1, 0.3)));
    auto t = **c->trace(1);
    EXPECT_TRUE(all_modelled(t));
    EXPECT_EQ(t.synth_size, 24u + 1000 + 1001);
    EXPECT_DOUBLE_EQ(t.worst_fidelity, 0.3);
    EXPECT_NEAR(t.fidelity, 0.2, 1e-12);
    EXPECT_EQ(*c->model_blob(1, 1), "blob-1");
    EXPECT_EQ(c->library()->size(), 1u);
    EXPECT_TRUE(c->jobs()->empty());
}

TEST(Catalog, RawExpiryRefusesUnmodelledOrHeldTraces) {
    TempDir d;
    auto c = std::move(Catalog::open(d.p.string(), false).value());
    ASSERT_TRUE(c->commit_ingest(ingest_of(1, "x.pcap", 1, 1)));
    EXPECT_FALSE(c->expire_raw(1, 5));  // invariant 2: not modelled yet
    EXPECT_TRUE((*c->trace(1))->raw_present);
    ASSERT_TRUE(c->commit_model(model_of(1, 0, 0.1)));
    ASSERT_TRUE(c->env().write([](Txn& t) {
        auto r = *get_trace(t, 1);
        r.hold = true;
        put_trace(t, r);
    }));
    EXPECT_FALSE(c->expire_raw(1, 5));
    ASSERT_TRUE(c->env().write([](Txn& t) {
        auto r = *get_trace(t, 1);
        r.hold = false;
        put_trace(t, r);
    }));
    ASSERT_TRUE(c->expire_raw(1, 5));
    auto t = **c->trace(1);
    EXPECT_FALSE(t.raw_present);
    EXPECT_EQ(trace_state(t, false), "raw-expired");
    EXPECT_FALSE(c->frame_index(1).ok());
}

TEST(Catalog, UnmodelableDropsJobsAndReplacementDropsTheOldTrace) {
    TempDir d;
    auto c = std::move(Catalog::open(d.p.string(), false).value());
    ASSERT_TRUE(c->commit_ingest(ingest_of(1, "x.pcap", 2, 1)));
    ASSERT_TRUE(c->mark_unmodelable(1, "linktype 105 (ieee802_11) is not modelled"));
    EXPECT_TRUE(c->jobs()->empty());
    EXPECT_EQ(trace_state(**c->trace(1), false), "unmodelable: linktype 105 (ieee802_11) is not modelled");
    ASSERT_TRUE(c->commit_ingest(ingest_of(2, "x.pcap", 1, 2)));
    EXPECT_FALSE(c->trace(1)->has_value());
    EXPECT_EQ((*c->trace_at("x.pcap"))->id, 2u);
    EXPECT_EQ(c->jobs()->size(), 1u);
    ASSERT_TRUE(c->delete_trace(2));
    EXPECT_TRUE(c->traces()->empty());
    EXPECT_TRUE(c->jobs()->empty());
}

TEST(Catalog, VerdictsOfIoFaultsAreRequeuedDataVerdictsStay) {
    TempDir d;
    auto c = std::move(Catalog::open(d.p.string(), false).value());
    ASSERT_TRUE(c->commit_ingest(ingest_of(1, "io.pcap", 3, 1)));
    ASSERT_TRUE(c->commit_ingest(ingest_of(2, "wifi.pcap", 1, 2)));
    ASSERT_TRUE(c->commit_model(model_of(1, 0, 0.1)));
    ASSERT_TRUE(c->mark_unmodelable(1, "chunk 1: mdb_txn_commit: Input/output error"));
    ASSERT_TRUE(c->mark_unmodelable(2, "linktype 105 (ieee802_11) is not modelled"));
    ASSERT_TRUE(c->jobs()->empty());
    auto again = c->requeue_unmodelable([](const std::string& r) { return r.find("Input/output error") != std::string::npos; });
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, std::vector<std::string>{"io.pcap"});
    EXPECT_TRUE((*c->trace(1))->unmodelable.empty());
    EXPECT_EQ((*c->trace(2))->unmodelable, "linktype 105 (ieee802_11) is not modelled");
    // Only the chunks not yet modelled are queued again, once each.
    std::set<uint32_t> queued;
    const auto jobs = c->jobs();
    ASSERT_TRUE(jobs.ok());
    for (const auto& j : *jobs) {
        EXPECT_EQ(j.trace, 1u);
        EXPECT_TRUE(queued.insert(j.chunk).second);
    }
    EXPECT_EQ(queued, (std::set<uint32_t>{1, 2}));
    EXPECT_TRUE(c->requeue_unmodelable([](const std::string&) { return true; })->size() == 1);  // wifi.pcap only now
}

TEST(Catalog, MapGrowsWhenFull) {
    TempDir d;
    auto env = LmdbEnv::open(d.p.string(), {"big"}, false, 1 << 20);
    ASSERT_TRUE(env.ok());
    std::string value(64 * 1024, 'v');
    for (int i = 0; i < 100; ++i)  // 6.4 MB into a 1 MiB map
        ASSERT_TRUE((*env)->write([&](Txn& t) { t.put("big", be64(i), value); })) << i;
    EXPECT_GE((*env)->map_size(), size_t(6) << 20);
    int n = 0;
    ASSERT_TRUE((*env)->read([&](Txn& t) {
        auto c = t.cursor("big");
        for (bool ok = c.first(); ok; ok = c.next()) ++n;
    }));
    EXPECT_EQ(n, 100);
}

TEST(Catalog, ReadOnlyOpenSeesCommittedRowsAndRefusesWrites) {
    TempDir d;
    auto w = std::move(Catalog::open(d.p.string(), false).value());
    ASSERT_TRUE(w->commit_ingest(ingest_of(1, "x.pcap", 1, 1)));
    auto r = Catalog::open(d.p.string(), true);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)->traces()->size(), 1u);
    EXPECT_FALSE((*r)->put_staging({1, "y", 0644, 0, false}));
}

// Each committed chunk records its decision (issue 12 item 1); rows written before that key
// existed read as what their parent says.
TEST(Catalog, ChunkDecisionsAreRecordedAndOldRowsReadByTheirParent) {
    ChunkRow r{1, 0, 0, 10, true, 10, 1000, 600, 0.02, 0.1, 0.1, "t1c0", "reused", "reused t1c0: 17-mean 0.020"};
    auto back = decode_chunk(encode(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->decision, "reused");
    EXPECT_EQ(back->why, r.why);
    // As a build before issue 12's reuse wrote them: no decision key.
    auto old_delta = decode_chunk(R"({"done":true,"index":1,"parent_id":"t1c0","trace":1})");
    auto old_key = decode_chunk(R"({"done":true,"index":0,"parent_id":"","trace":1})");
    ASSERT_TRUE(old_delta && old_key);
    EXPECT_EQ(chunk_decision(*old_delta), "delta");
    EXPECT_EQ(chunk_decision(*old_key), "keyframe");
    ChunkRow queued{1, 3, 30, 10};
    EXPECT_EQ(describe_decisions({*old_key, *old_delta, r, r, queued}), "reused 2, delta 1, keyframe 1, queued 1");
    EXPECT_EQ(describe_decisions({r}), "reused 1, delta 0, keyframe 0");
}

}  // namespace
}  // namespace dgc::fs
