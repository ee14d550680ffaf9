// dgcctl scrub on a real store: a mounted dgcfs ingests three dev captures (raw kept for
// two, expired for the third) and models them; a fourth is ingested but left queued. Then,
// on copies of that store, single bytes are flipped in every raw frame and every model,
// and every kind of catalog record is removed: scrub must notice each one, raise nothing on
// the clean store, and repair only by moving aside, never by deleting.
#include "fs/scrub.h"

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "codec/raw_segment.h"
#include "fs/catalog.h"
#include "fs/ingest.h"
#include "fs/scrub_repair.h"
#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

struct CliRun {
    int rc = -1;
    std::string out;
};

CliRun dgcctl(const std::string& args) {
    const fsys::path out = fsys::temp_directory_path() / ("scrub-cli-" + std::to_string(::getpid()));
    const int st = sh(std::string(DGC_BINARY_DIR) + "/tools/dgcctl " + args + " > '" + out.string() + "' 2>&1");
    CliRun r{WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out)};
    fsys::remove(out);
    return r;
}

using Rows = std::map<std::pair<std::string, std::string>, std::string>;  // (db, key) -> value

const std::vector<std::string> kDbs = {db::kTraces, db::kPaths, db::kFrames, db::kChunks,  db::kModels,
                                       db::kLibrary, db::kJobs,  db::kStaging, db::kDirs, db::kState};

Rows all_rows(const fsys::path& store) {
    Rows rows;
    auto cat = Catalog::open((store / "catalog").string(), true);
    EXPECT_TRUE(cat.ok()) << cat.status().message();
    if (!cat) return rows;
    EXPECT_TRUE((*cat)->env().read([&](Txn& t) {
        for (const auto& d : kDbs) {
            auto c = t.cursor(d);
            for (bool ok = c.first(); ok; ok = c.next()) rows[{d, std::string(c.key())}] = std::string(c.value());
        }
    }));
    return rows;
}

void write_rows(const fsys::path& store, const std::function<void(Txn&)>& body) {
    auto cat = Catalog::open((store / "catalog").string(), false);
    ASSERT_TRUE(cat.ok()) << cat.status().message();
    ASSERT_TRUE((*cat)->env().write(body));
}
void put_row(const fsys::path& store, const std::string& d, const std::string& k, const std::string& v) {
    write_rows(store, [&](Txn& t) { t.put(d, k, v); });
}
void del_row(const fsys::path& store, const std::string& d, const std::string& k) {
    write_rows(store, [&](Txn& t) { t.del(d, k); });
}

ScrubReport scrub(const fsys::path& store, bool regenerate = false, bool repair = false) {
    ScrubOptions o;
    o.regenerate = regenerate;
    o.repair = repair;
    auto r = scrub_store(StoreLayout{store.string()}, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r ? std::move(r.value()) : ScrubReport{};
}

// Codes of the unrepaired damage, per trace id (0: the store's own findings).
std::map<uint64_t, std::set<std::string>> damage(const ScrubReport& r) {
    std::map<uint64_t, std::set<std::string>> out;
    for (const auto& t : r.traces)
        for (const auto& f : t.findings)
            if (f.damage && !f.repaired) out[t.id].insert(f.code);
    for (const auto& f : r.store_findings)
        if (f.damage && !f.repaired) out[0].insert(f.code);
    return out;
}

std::string describe(const ScrubReport& r) {
    std::string s;
    for (const auto& t : r.traces)
        for (const auto& f : t.findings) s += t.path + ": " + f.code + ": " + f.message + "\n";
    for (const auto& f : r.store_findings) s += "store: " + f.code + ": " + f.message + "\n";
    return s.empty() ? "(no findings)" : s;
}

// Every damage tried was found, the corpus was as large as planned, and undoing it all left a clean store.
void expect_all_found(const std::string& what, size_t found, size_t tried, size_t at_least, const fsys::path& store) {
    EXPECT_GE(tried, at_least) << what;
    EXPECT_EQ(found, tried) << what;
    std::cout << "[ scrub    ] " << what << " detected: " << found << "/" << tried << "\n";
    EXPECT_TRUE(scrub(store).clean()) << what << ": not all undone";
}

class Scrub : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        base_ = fsys::temp_directory_path() / ("dgc-scrub-" + std::to_string(::getpid()));
        fsys::remove_all(base_);
        fsys::create_directories(base_);
        MountedVolume v("", "scrub");
        // Small chunks give multi-chunk traces (keyframes and deltas); "gone/" loses its raw once modelled.
        std::ofstream(v.policy_path()) << "[training]\nchunk_packets = 500\nchunk_seconds = 3600\nquiet_ms = 300\n"
                                          "[defaults]\nraw_ttl = \"30d\"\n[volume]\nsweep_interval = 1\n"
                                          "[[rule]]\npath = \"gone/*\"\nraw_ttl = 0\n";
        v.start();
        for (const char* d : {"keep", "gone"}) ASSERT_EQ(::mkdir((v.retention() / d).c_str(), 0755), 0);
        v.cp_in("dev/nDPI__teams.pcap", "keep/teams.pcap");  // 704 KB: three 256 KiB raw frames
        v.cp_in("dev/dnscap__dns.pcap", "keep/dns.pcap");
        v.cp_in("dev/NetShare__raw.pcap", "gone/caida.pcap");
        for (const char* p : {"keep/teams.pcap", "keep/dns.pcap", "gone/caida.pcap"})
            ASSERT_TRUE(v.wait_archived(p, 180)) << p << "\n" << v.daemon_log();
        ASSERT_TRUE(wait_until([&] { return !fsys::exists(v.retention() / "gone/caida.pcap"); }, 30))
            << "raw of gone/caida.pcap did not expire";
        // A live store: scrub reads beside the daemon; repair is refused.
        live_ = dgcctl("scrub '" + v.mnt().string() + "'");
        live_repair_ = dgcctl("scrub --repair '" + v.mnt().string() + "'");
        v.stop();
        ASSERT_EQ(sh("cp -a '" + v.store().string() + "' '" + (base_ / "store").string() + "'"), 0);
        // A trace ingested by the real ingest path and never trained: its jobs stay queued.
        const fsys::path store = base_ / "store";
        auto cat = Catalog::open((store / "catalog").string(), false);
        ASSERT_TRUE(cat.ok());
        auto staging = (*cat)->allocate_id("staging");
        ASSERT_TRUE(staging.ok());
        StoreLayout layout{store.string()};
        ASSERT_EQ(sh("cp '" + data_path("dev/dnscap__dns.pcap") + "' '" + layout.staging_path(*staging) + "'"), 0);
        IngestRequest req;
        req.staging_id = *staging;
        req.path = "queued/dns.pcap";
        req.chunk_packets = 500;
        req.chunk_seconds = 3600;
        auto in = ingest_staging(**cat, layout, req, nullptr);
        ASSERT_TRUE(in.ok()) << in.status().message();
        ASSERT_EQ(in->chunks, 1u);
    }
    static void TearDownTestSuite() {
        if (!::testing::Test::HasFailure()) fsys::remove_all(base_);
    }

    // A private copy of the built store.
    static fsys::path copy(const std::string& name) {
        const fsys::path dst = base_ / name;
        fsys::remove_all(dst);
        EXPECT_EQ(sh("cp -a '" + (base_ / "store").string() + "' '" + dst.string() + "'"), 0);
        return dst;
    }

    // The checks; the tests below group them so ctest builds the store three times, not nine.
    static void CleanStoreHasNoFindingsAndEveryTraceRegenerates();
    static void LiveStoreIsScrubbedThroughItsMountPointAndRepairIsRefused();
    static void UsageAndUnreadableStores();
    static void EveryFlippedRawByteIsFound();
    static void Version1FrameIndexIsANoteNotDamage();
    static void EveryFlippedModelAndFrameIndexByteIsFound();
    static void EveryRemovedCatalogRecordIsFound();
    static void RepairMovesOrphansAsideRequeuesAndRestoresCopies();
    static void ATraceWithoutItsRowIsSetAsideWhole();

    static fsys::path base_;
    static CliRun live_, live_repair_;
};

fsys::path Scrub::base_;
CliRun Scrub::live_, Scrub::live_repair_;

void Scrub::CleanStoreHasNoFindingsAndEveryTraceRegenerates() {
    const fsys::path store = copy("clean");
    ScrubReport r = scrub(store, /*regenerate=*/true);
    EXPECT_TRUE(r.clean()) << describe(r);
    EXPECT_TRUE(r.store_findings.empty()) << describe(r);
    ASSERT_EQ(r.traces.size(), 4u);
    uint64_t chunks_modelled = 0;
    for (const auto& t : r.traces) {
        EXPECT_TRUE(t.findings.empty()) << t.path << "\n" << describe(r);
        const bool expired = t.path == "gone/caida.pcap", queued = t.path == "queued/dns.pcap";
        EXPECT_EQ(t.frames == 0, expired) << t.path;
        if (!expired) {
            EXPECT_TRUE(t.checksummed) << t.path << ": new ingests write frame index v2";
        }
        EXPECT_EQ(t.models == 0, queued) << t.path;
        EXPECT_EQ(t.regenerated, t.models) << t.path;
        chunks_modelled += t.models;
    }
    EXPECT_GE(chunks_modelled, 6u) << "teams.pcap alone has 4 chunks of 500 packets";
    EXPECT_EQ(r.frames, 3u + 1u + 1u);
    EXPECT_EQ(r.regenerated, chunks_modelled);

    auto cli = dgcctl("scrub '" + store.string() + "'");
    EXPECT_EQ(cli.rc, 0) << cli.out;
    for (const char* p : {"keep/teams.pcap", "keep/dns.pcap", "gone/caida.pcap", "queued/dns.pcap"})
        EXPECT_NE(cli.out.find(std::string("ok      ") + p), std::string::npos) << cli.out;
    EXPECT_NE(cli.out.find(": clean"), std::string::npos) << cli.out;
    auto js = dgcctl("scrub --json --no-regenerate '" + store.string() + "'");
    EXPECT_EQ(js.rc, 0) << js.out;
    auto j = nlohmann::json::parse(js.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << js.out;
    EXPECT_EQ(j["clean"], true);
    EXPECT_EQ(j["traces"].size(), 4u);
    EXPECT_EQ(j["regenerated"], 0);
    EXPECT_EQ(all_rows(store), all_rows(base_ / "store")) << "a scrub without --repair changed the catalog";
}

void Scrub::LiveStoreIsScrubbedThroughItsMountPointAndRepairIsRefused() {
    EXPECT_EQ(live_.rc, 0) << live_.out;
    EXPECT_NE(live_.out.find(": clean"), std::string::npos) << live_.out;
    EXPECT_EQ(live_repair_.rc, 2) << live_repair_.out;
    EXPECT_NE(live_repair_.out.find("needs the daemon stopped"), std::string::npos) << live_repair_.out;
}

void Scrub::UsageAndUnreadableStores() {
    EXPECT_EQ(dgcctl("scrub").rc, 2);
    EXPECT_EQ(dgcctl("scrub --bogus '" + base_.string() + "'").rc, 2);
    auto missing = dgcctl("scrub '" + (base_ / "nowhere").string() + "'");
    EXPECT_EQ(missing.rc, 1);
    EXPECT_NE(missing.out.find("nowhere"), std::string::npos) << missing.out;
}

void Scrub::EveryFlippedRawByteIsFound() {
    const fsys::path store = copy("rawflip");
    const Rows rows = all_rows(store);
    size_t flips = 0, found = 0;
    for (const auto& [key, value] : rows) {
        if (key.first != db::kFrames) continue;
        const uint64_t id = from_be64(key.second);
        auto idx = decode_frame_index(value);
        ASSERT_TRUE(idx.ok());
        const fsys::path seg = store / "raw" / (std::to_string(id) + ".zst");
        const std::string original = slurp(seg);
        for (const auto& f : idx->frames) {
            // The zstd frame header (magic, descriptor, sizes), the first block header, the middle, the end.
            std::set<uint64_t> at;
            for (uint64_t i = 0; i < 12; ++i) at.insert(f.comp_offset + i);
            for (uint64_t i = 1; i <= 8; ++i) at.insert(f.comp_offset + f.comp_size * i / 9);
            at.insert(f.comp_offset + f.comp_size - 1);
            for (uint64_t pos : at) {
                std::string bad = original;
                bad[pos] = static_cast<char>(bad[pos] ^ 0xff);
                std::ofstream(seg, std::ios::binary | std::ios::trunc) << bad;
                ScrubReport r = scrub(store);
                auto d = damage(r);
                ++flips;
                found += d.size() == 1 && d[id].count("raw-frame");
                EXPECT_EQ(d.size(), 1u) << "flip at " << seg << " byte " << pos << "\n" << describe(r);
                EXPECT_TRUE(d[id].count("raw-frame")) << "flip at " << seg << " byte " << pos << "\n" << describe(r);
            }
        }
        std::ofstream(seg, std::ios::binary | std::ios::trunc) << original;
    }
    expect_all_found("raw byte flips", found, flips, 5 * 12, store);
}

// Traces ingested before frame index v2 have no CRCs: a note, never damage.
void Scrub::Version1FrameIndexIsANoteNotDamage() {
    const fsys::path store = copy("v1");
    const Rows rows = all_rows(store);
    const std::string id = rows.at({db::kPaths, "keep/teams.pcap"});
    auto idx = decode_frame_index(rows.at({db::kFrames, id}));
    ASSERT_TRUE(idx.ok());
    idx->version = 1;
    put_row(store, db::kFrames, id, encode_frame_index(*idx));
    ScrubReport r = scrub(store);
    EXPECT_TRUE(r.clean()) << describe(r);
    bool noted = false;
    for (const auto& t : r.traces)
        if (t.path == "keep/teams.pcap") {
            EXPECT_FALSE(t.checksummed);
            EXPECT_EQ(t.frames, 3u);
            for (const auto& f : t.findings) noted |= f.code == "raw-unchecksummed" && !f.damage;
        }
    EXPECT_TRUE(noted) << describe(r);
    // Without CRCs, damage that breaks a zstd frame is still found.
    const fsys::path seg = store / "raw" / (std::to_string(from_be64(id)) + ".zst");
    std::string bytes = slurp(seg);
    bytes[idx->frames[1].comp_offset] ^= 0xff;  // the frame's magic
    std::ofstream(seg, std::ios::binary | std::ios::trunc) << bytes;
    EXPECT_TRUE(damage(scrub(store))[from_be64(id)].count("raw-frame"));
}

void Scrub::EveryFlippedModelAndFrameIndexByteIsFound() {
    const fsys::path store = copy("modelflip");
    const Rows rows = all_rows(store);
    size_t flips = 0, found = 0;
    for (const auto& [key, value] : rows) {
        const auto& [d, k] = key;
        if (d != db::kModels && d != db::kLibrary && d != db::kFrames) continue;
        // Magic, version and CRC bytes of a blob (0-8), the start of its body, a spread, the end.
        std::set<size_t> at;
        for (size_t i = 0; i < std::min<size_t>(12, value.size()); ++i) at.insert(i);
        for (size_t i = 1; i <= 6; ++i) at.insert(value.size() * i / 7);
        at.insert(value.size() - 1);
        const std::string expect = d == db::kModels ? "model-corrupt" : d == db::kLibrary ? "library-corrupt"
                                                                                           : "frames-corrupt";
        const uint64_t owner = d == db::kLibrary ? 0 : from_be64(k.substr(0, 8));
        for (size_t pos : at) {
            std::string bad = value;
            bad[pos] = static_cast<char>(bad[pos] ^ 0xff);
            put_row(store, d, k, bad);
            ScrubReport r = scrub(store);
            auto dm = damage(r);
            ++flips;
            found += dm[owner].count(expect);
            EXPECT_TRUE(dm[owner].count(expect)) << d << " " << hex(k) << " byte " << pos << "\n" << describe(r);
        }
        put_row(store, d, k, value);
    }
    expect_all_found("model and index byte flips", found, flips, 100, store);
}

void Scrub::EveryRemovedCatalogRecordIsFound() {
    const fsys::path store = copy("removed");
    const Rows rows = all_rows(store);
    std::map<std::string, size_t> removed, found;
    for (const auto& [key, value] : rows) {
        const auto& [d, k] = key;
        // A dirs row keeps only a directory's mode and mtime, which nothing refers to.
        if (d == db::kDirs) continue;
        if (d == db::kState && k == "counter:staging") continue;  // the next staging id only
        del_row(store, d, k);
        ScrubReport r = scrub(store);
        ++removed[d];
        found[d] += !r.clean();
        EXPECT_FALSE(r.clean()) << "removing " << d << " row " << hex(k) << " went unnoticed";
        put_row(store, d, k, value);
    }
    for (const char* d : {"traces", "paths", "frames", "chunks", "models", "library", "jobs", "state"})
        EXPECT_GT(removed[d], 0u) << "the corpus has no " << d << " row to remove";
    for (const auto& [d, n] : removed) {
        EXPECT_EQ(found[d], n) << d;
        std::cout << "[ scrub    ] removed " << d << " rows detected: " << found[d] << "/" << n << "\n";
    }
    EXPECT_TRUE(scrub(store).clean());
}

void Scrub::RepairMovesOrphansAsideRequeuesAndRestoresCopies() {
    const fsys::path store = copy("repair");
    const Rows before = all_rows(store);
    const uint64_t queued = from_be64(before.at({db::kPaths, "queued/dns.pcap"}));
    std::string job, keyframe_chunk;
    for (const auto& [key, v] : before) {
        if (key.first == db::kJobs) job = key.second;
        if (auto c = key.first == db::kChunks ? decode_chunk(v) : std::nullopt; c && c->done && c->parent_id.empty())
            keyframe_chunk = key.second;
    }
    ASSERT_FALSE(job.empty());
    ASSERT_FALSE(keyframe_chunk.empty()) << "some chunk was trained from scratch";
    const std::string keyframe =
        "t" + std::to_string(from_be64(keyframe_chunk.substr(0, 8))) + "c" + std::to_string(from_be32(keyframe_chunk.substr(8)));
    ASSERT_TRUE(before.count({db::kLibrary, keyframe}));

    del_row(store, db::kJobs, job);                                  // job-missing: requeued
    put_row(store, db::kJobs, be64(9999), encode(JobRow{4242, 0}));  // a job for no trace: dropped
    del_row(store, db::kPaths, "keep/dns.pcap");                     // path-missing: put back
    std::string bad_model = before.at({db::kModels, keyframe_chunk});
    bad_model[bad_model.size() / 2] ^= 0x10;                         // a keyframe's model: from the library copy
    put_row(store, db::kModels, keyframe_chunk, bad_model);
    const std::string stray = slurp(store / "raw" / (std::to_string(queued) + ".zst"));
    std::ofstream(store / "raw" / "77.zst", std::ios::binary) << stray;  // a raw file nobody owns
    put_row(store, db::kModels, chunk_key(4242, 3), "orphan model bytes");

    auto first = scrub(store);
    auto d = damage(first);
    for (const char* code : {"job-orphan", "raw-orphan", "model-orphan"})
        EXPECT_TRUE(d[0].count(code)) << code << "\n" << describe(first);
    EXPECT_TRUE(d[queued].count("job-missing")) << describe(first);
    EXPECT_EQ(dgcctl("scrub --no-regenerate '" + store.string() + "'").rc, 1);

    auto cli = dgcctl("scrub --repair '" + store.string() + "'");
    EXPECT_EQ(cli.rc, 0) << cli.out;
    EXPECT_NE(cli.out.find("repaired"), std::string::npos) << cli.out;
    auto second = scrub(store, /*regenerate=*/true);
    EXPECT_TRUE(second.clean()) << describe(second);
    EXPECT_TRUE(second.store_findings.empty()) << describe(second);

    // Then the other copy: the library keyframe comes back from the chunk's model.
    del_row(store, db::kLibrary, keyframe);
    EXPECT_FALSE(scrub(store).clean());
    auto third = scrub(store, false, /*repair=*/true);
    EXPECT_TRUE(third.clean()) << describe(third);
    EXPECT_GT(third.repaired(), 0u);

    // Nothing was deleted: every row is back or set aside, and so is every raw byte.
    const Rows after = all_rows(store);
    const fsys::path lf = store / "lost+found";
    EXPECT_TRUE(slurp(lf / "raw" / "77.zst") == stray);
    EXPECT_EQ(slurp(lf / "catalog" / "models" / hex(chunk_key(4242, 3))), "orphan model bytes");
    EXPECT_TRUE(slurp(lf / "catalog" / "models" / hex(keyframe_chunk)) == bad_model) << "the damaged model is set aside";
    for (const auto& [key, v] : before) {
        if (key.first == db::kJobs || key.first == db::kState) continue;  // the queue and counters move on
        auto it = after.find(key);
        EXPECT_TRUE(it != after.end() && it->second == v) << key.first << " " << hex(key.second) << " not restored";
    }
    EXPECT_EQ(after.count({db::kJobs, be64(9999)}), 0u);
    size_t jobs = 0;
    for (const auto& [key, v] : after) jobs += key.first == db::kJobs;
    EXPECT_EQ(jobs, 1u) << "the queued trace's one chunk is queued again";
}

void Scrub::ATraceWithoutItsRowIsSetAsideWhole() {
    const fsys::path store = copy("lost-trace");
    const Rows before = all_rows(store);
    const std::string id = before.at({db::kPaths, "keep/teams.pcap"});
    const std::string seg = slurp(store / "raw" / (std::to_string(from_be64(id)) + ".zst"));
    del_row(store, db::kTraces, id);
    auto d = damage(scrub(store));
    for (const char* code : {"path-orphan", "frames-orphan", "chunk-orphan", "model-orphan", "raw-orphan"})
        EXPECT_TRUE(d[0].count(code)) << code;
    auto r = scrub(store, false, /*repair=*/true);
    EXPECT_TRUE(r.clean()) << describe(r);
    EXPECT_TRUE(scrub(store).clean());
    const fsys::path lf = store / "lost+found";
    EXPECT_TRUE(slurp(lf / "raw" / (std::to_string(from_be64(id)) + ".zst")) == seg) << "raw bytes kept, not deleted";
    EXPECT_TRUE(slurp(lf / "catalog" / "frames" / hex(id)) == before.at({db::kFrames, id}));
    for (const auto& [key, v] : before)
        if ((key.first == db::kModels || key.first == db::kChunks) && key.second.substr(0, 8) == id) {
            EXPECT_TRUE(slurp(lf / "catalog" / key.first / hex(key.second)) == v) << key.first << " " << hex(key.second);
        }
}

TEST_F(Scrub, CleanStoreLiveStoreAndUsage) {
    CleanStoreHasNoFindingsAndEveryTraceRegenerates();
    LiveStoreIsScrubbedThroughItsMountPointAndRepairIsRefused();
    UsageAndUnreadableStores();
    Version1FrameIndexIsANoteNotDamage();
}

TEST_F(Scrub, EveryFlippedByteAndRemovedRecordIsFound) {
    EveryFlippedRawByteIsFound();
    EveryFlippedModelAndFrameIndexByteIsFound();
    EveryRemovedCatalogRecordIsFound();
}

TEST_F(Scrub, RepairSetsAsideAndNeverDeletes) {
    RepairMovesOrphansAsideRequeuesAndRestoresCopies();
    ATraceWithoutItsRowIsSetAsideWhole();
}

}  // namespace
}  // namespace dgc::fs::test
