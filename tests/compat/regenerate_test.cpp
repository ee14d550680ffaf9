// dgcctl regenerate --upgrade (issue 13): format-5 chunk models reach the current generator
// only on request. Copies of the committed v5 fixture (never the fixture itself) are
// upgraded: the .dgc becomes the current format, expands to new bytes, upgrades the same way twice and
// not at all a second time; the store upgrades offline only, then mounts, reads archive/
// and scrubs clean. Listing and --dry-run change no byte.
#include "tests/fs/mounted_volume.h"
#include "tests/codec/codec_test_util.h"

#include <map>

#include "fs/catalog.h"
#include "tests/shell_quote.h"
#include "trainer/chunk_upgrade.h"
#include "trainer/dgc_container.h"

namespace dgc::fs::test {
namespace {

using Ran = dgc::test::CommandResult;
Ran run(const std::string& cmd) { return dgc::test::run_command(cmd); }

std::string dgcctl() { return std::string(DGC_BINARY_DIR) + "/tools/dgcctl"; }
using dgc::testing::shell_quote;
const fsys::path kFixture = fsys::path(DGC_GOLDEN_DIR) / "v5-2e332fa";

fsys::path scratch(const std::string& what) {
    fsys::path p = fsys::temp_directory_path() / ("dgcfs-regenerate-" + what + "-" + std::to_string(::getpid()));
    fsys::remove_all(p);
    fsys::create_directories(p);
    return p;
}

// Every chunk model's format byte, in chunk order.
std::vector<int> formats(const fsys::path& dgc) {
    auto f = trainer::read_dgc(dgc.string());
    EXPECT_TRUE(f) << f.status().message();
    std::vector<int> out;
    if (!f) return out;
    for (size_t i = 0; i < f->chunks.size(); ++i) {
        auto v = trainer::blob_format(f->chunks[i].model.blob, "chunk " + std::to_string(i));
        EXPECT_TRUE(v) << v.status().message();
        out.push_back(v ? *v : -1);
    }
    return out;
}

std::string expand(const fsys::path& dgc, const fsys::path& out) {
    Ran r = run(dgcctl() + " expand " + shell_quote(dgc) + " -o " + shell_quote(out));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return slurp(out);
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST(Regenerate, V5DgcUpgradesToTheCurrentFormatOnceAndTheSameWayTwice) {
    const fsys::path dir = scratch("dgc");
    const std::string fixture = slurp(kFixture / "trace.dgc");
    ASSERT_GT(fixture.size(), 21u);
    const fsys::path old = dir / "old.dgc";
    fsys::copy_file(kFixture / "trace.dgc", old);
    ASSERT_EQ(formats(old), (std::vector<int>{5, 5, 5}));
    const std::string now_format = std::to_string(trainer::writer_format());

    Ran listed = run(dgcctl() + " regenerate " + shell_quote(old));
    EXPECT_EQ(listed.exit_code, 0) << listed.output;
    EXPECT_NE(listed.output.find("3 of 3 chunk models older than format " + now_format), std::string::npos) << listed.output;
    EXPECT_EQ(count(listed.output, ": format 5,"), 3u) << listed.output;
    Ran dry = run(dgcctl() + " regenerate --upgrade --dry-run " + shell_quote(old) + " -o " + shell_quote(dir / "dry.dgc"));
    EXPECT_EQ(dry.exit_code, 0) << dry.output;
    EXPECT_EQ(count(dry.output, ": format 5 -> " + now_format), 3u) << dry.output;
    EXPECT_NE(dry.output.find("dry run: nothing written"), std::string::npos) << dry.output;
    EXPECT_FALSE(fsys::exists(dir / "dry.dgc"));
    EXPECT_EQ(slurp(old), fixture) << "listing or --dry-run changed the input";

    const fsys::path up = dir / "new.dgc";
    Ran r = run(dgcctl() + " regenerate --upgrade " + shell_quote(old) + " -o " + shell_quote(up));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(count(r.output, ": format 5 -> " + now_format), 3u) << r.output;
    EXPECT_EQ(count(r.output, "new regeneration against the old regeneration: 17-mean 0."), 3u) << r.output;
    EXPECT_NE(r.output.find("wrote " + up.string()), std::string::npos) << r.output;
    EXPECT_EQ(slurp(old), fixture);
    const int w = trainer::writer_format();
    EXPECT_EQ(formats(up), (std::vector<int>{w, w, w}));
    const std::string upgraded = slurp(up);
    EXPECT_NE(upgraded, fixture);

    // It expands with the current generator, to exactly the sizes it records, and not to the old bytes.
    const std::string was = expand(old, dir / "old.pcap");
    const std::string now = expand(up, dir / "new.pcap");
    ASSERT_GT(now.size(), 24u);
    EXPECT_NE(now, was);
    std::string err;
    EXPECT_GT(pcap_count((dir / "new.pcap").string(), &err), 0) << err;
    auto f = trainer::read_dgc(up.string());
    ASSERT_TRUE(f) << f.status().message();
    uint64_t recorded = 24;
    for (const auto& c : f->chunks) recorded += c.model.synth_bytes;
    EXPECT_EQ(now.size(), recorded);

    // Same input and build, same bytes; a current file is left alone.
    Ran again = run(dgcctl() + " regenerate --upgrade " + shell_quote(old) + " -o " + shell_quote(dir / "again.dgc"));
    ASSERT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(slurp(dir / "again.dgc"), upgraded) << "a second upgrade of the same input wrote other bytes";
    Ran noop = run(dgcctl() + " regenerate --upgrade " + shell_quote(up) + " -o " + shell_quote(dir / "noop.dgc"));
    EXPECT_EQ(noop.exit_code, 0) << noop.output;
    EXPECT_NE(noop.output.find("nothing to upgrade"), std::string::npos) << noop.output;
    EXPECT_FALSE(fsys::exists(dir / "noop.dgc"));
    EXPECT_EQ(slurp(up), upgraded);

    Ran no_out = run(dgcctl() + " regenerate --upgrade " + shell_quote(old));
    EXPECT_EQ(no_out.exit_code, 2) << no_out.output;
    EXPECT_NE(no_out.output.find("give -o OUT.dgc"), std::string::npos) << no_out.output;
    Ran dry_alone = run(dgcctl() + " regenerate --dry-run " + shell_quote(old));
    EXPECT_EQ(dry_alone.exit_code, 2) << dry_alone.output;
    Ran missing = run(dgcctl() + " regenerate " + shell_quote(dir / "nosuch.dgc"));
    EXPECT_EQ(missing.exit_code, 1) << missing.output;
    EXPECT_NE(missing.output.find((dir / "nosuch.dgc").string()), std::string::npos) << missing.output;
    EXPECT_EQ(slurp(kFixture / "trace.dgc"), fixture) << "the fixture itself changed";
    if (!HasFailure()) fsys::remove_all(dir);
}

// A writable copy of the fixture's store in `dst` (which may exist, empty); the fixture stays as it is.
void copy_fixture_store(const fsys::path& dst) {
    fsys::copy(kFixture / "store", dst, fsys::copy_options::recursive | fsys::copy_options::overwrite_existing);
    for (const auto& e : fsys::recursive_directory_iterator(dst))
        fsys::permissions(e.path(), fsys::perms::owner_write, fsys::perm_options::add);
}

std::map<std::string, std::string> store_files(const fsys::path& store) {
    std::map<std::string, std::string> out;
    for (const auto& e : fsys::recursive_directory_iterator(store))
        if (e.is_regular_file() && e.path().filename() != "lock.mdb")  // LMDB's reader table
            out[fsys::relative(e.path(), store).string()] = slurp(e.path());
    return out;
}

TEST(Regenerate, V5StoreUpgradesOfflineThenMountsAndScrubsClean) {
    const std::vector<std::string> traces = {"nDPI__netflix.pcap", "site-a/dnscap__dns.pcap"};
    MountedVolume v("", "regenerate");
    copy_fixture_store(v.store());
    const std::string S = shell_quote(v.store());
    const std::string now_format = std::to_string(trainer::writer_format());

    // Mounted: read the old archive/; the daemon's lock keeps the upgrade out, listing works.
    v.start();
    if (HasFatalFailure()) return;
    std::map<std::string, std::string> before;
    for (const auto& t : traces) {
        ASSERT_TRUE(v.wait_archived(t, 30)) << t << "\n" << v.daemon_log();
        before[t] = slurp(v.archive() / t);
    }
    Ran locked = run(dgcctl() + " regenerate --upgrade --store " + S);
    EXPECT_EQ(locked.exit_code, 1) << locked.output;
    EXPECT_NE(locked.output.find("dgcfs.lock"), std::string::npos) << locked.output;
    EXPECT_NE(locked.output.find("stop the daemon"), std::string::npos) << locked.output;
    Ran live_list = run(dgcctl() + " regenerate --store " + shell_quote(v.mnt()));
    EXPECT_EQ(live_list.exit_code, 0) << live_list.output;
    EXPECT_NE(live_list.output.find("2 traces, 2 with models older than format " + now_format), std::string::npos) << live_list.output;
    v.stop();

    const auto pristine = store_files(v.store());
    Ran listed = run(dgcctl() + " regenerate --store " + S);
    EXPECT_EQ(listed.exit_code, 0) << listed.output;
    EXPECT_EQ(count(listed.output, ": format 5,"), 3u) << listed.output;
    Ran dry = run(dgcctl() + " regenerate --upgrade --dry-run --store " + S);
    EXPECT_EQ(dry.exit_code, 0) << dry.output;
    EXPECT_EQ(count(dry.output, ": format 5 -> " + now_format), 3u) << dry.output;
    EXPECT_NE(dry.output.find("dry run: nothing written"), std::string::npos) << dry.output;
    EXPECT_EQ(store_files(v.store()), pristine) << "listing or --dry-run changed the store";

    // One trace by name, then the rest: the netflix deltas keep decoding against the dns
    // trace's old keyframe, which stays in the library while anything names it.
    Ran one = run(dgcctl() + " regenerate --upgrade --store " + S + " nDPI__netflix.pcap");
    ASSERT_EQ(one.exit_code, 0) << one.output;
    EXPECT_EQ(count(one.output, ": format 5 -> " + now_format), 2u) << one.output;
    EXPECT_EQ(one.output.find("dnscap__dns"), std::string::npos) << one.output;
    Ran rest = run(dgcctl() + " regenerate --upgrade --store " + S);
    ASSERT_EQ(rest.exit_code, 0) << rest.output;
    EXPECT_EQ(count(rest.output, ": format 5 -> " + now_format), 1u) << rest.output;
    EXPECT_NE(rest.output.find("site-a/dnscap__dns.pcap (trace 1)"), std::string::npos) << rest.output;
    EXPECT_NE(rest.output.find("1 upgraded"), std::string::npos) << rest.output;
    Ran scrub = run(dgcctl() + " scrub " + S);
    EXPECT_EQ(scrub.exit_code, 0) << scrub.output;
    // The same steps on a second copy give the same models (compared as exported .dgc files).
    const fsys::path twin = v.store().parent_path() / "twin";
    copy_fixture_store(twin);
    EXPECT_EQ(run(dgcctl() + " regenerate --upgrade --store " + shell_quote(twin) + " nDPI__netflix.pcap").exit_code, 0);
    EXPECT_EQ(run(dgcctl() + " regenerate --upgrade --store " + shell_quote(twin)).exit_code, 0);
    for (const auto& t : traces) {
        const fsys::path a = twin.parent_path() / "a.dgc", b = twin.parent_path() / "b.dgc";
        ASSERT_EQ(run(dgcctl() + " export " + S + " " + t + " -o " + shell_quote(a)).exit_code, 0);
        ASSERT_EQ(run(dgcctl() + " export " + shell_quote(twin) + " " + t + " -o " + shell_quote(b)).exit_code, 0);
        EXPECT_EQ(slurp(a), slurp(b)) << t << ": two upgrades of the same store differ";
    }
    Ran noop = run(dgcctl() + " regenerate --upgrade --store " + S);
    EXPECT_EQ(noop.exit_code, 0) << noop.output;
    EXPECT_NE(noop.output.find("2 traces, 0 with models older than format " + now_format), std::string::npos) << noop.output;

    v.start();
    if (HasFatalFailure()) return;
    for (const auto& t : traces) {
        ASSERT_TRUE(v.wait_archived(t, 30)) << t << "\n" << v.daemon_log();
        const fsys::path p = v.archive() / t;
        const std::string now = slurp(p);
        EXPECT_EQ(fsys::file_size(p), now.size()) << t;
        EXPECT_GT(now.size(), 24u) << t;
        EXPECT_NE(now, before[t]) << t << ": archive/ still reads the format-5 regeneration";
        EXPECT_EQ(slurp(p), now) << t << ": a second read differs";
        std::string err;
        EXPECT_GT(pcap_count(p.string(), &err), 0) << t << ": " << err;
        EXPECT_EQ(v.xattr(p, "state"), "raw-expired") << t;
        // The repointed models export as one .dgc that expands to the same bytes.
        const fsys::path dgc = v.store().parent_path() / "exported.dgc";
        Ran ex = run(dgcctl() + " export " + shell_quote(v.mnt()) + " " + t + " -o " + shell_quote(dgc));
        ASSERT_EQ(ex.exit_code, 0) << ex.output;
        Ran xp = run(dgcctl() + " expand " + shell_quote(dgc) + " -o " + shell_quote(dgc.string() + ".pcap"));
        ASSERT_EQ(xp.exit_code, 0) << xp.output;
        EXPECT_EQ(slurp(dgc.string() + ".pcap"), now) << t << ": export of the upgraded trace expands differently";
    }
    v.stop();
    Ran scrub_after = run(dgcctl() + " scrub " + S);
    EXPECT_EQ(scrub_after.exit_code, 0) << scrub_after.output;
}

// A store written since format 5 keeps raw data until policy expires it, so a v5 model may
// sit beside its raw records. No build writes v5 any more: this one puts the v5 fixture's
// dns model (a keyframe, trace 1 chunk 0 there too) over a fresh store's model of the same
// capture, with its rows, then upgrades from the raw records.
Status plant_v5_model(const fsys::path& store, const fsys::path& fixture_copy) {
    auto old = Catalog::open((fixture_copy / "catalog").string(), true);
    if (!old) return old.status();
    auto blob = (*old)->model_blob(1, 0);
    if (!blob) return blob.status();
    std::vector<ChunkRow> old_rows;
    if (auto st = (*old)->env().read([&](Txn& x) { old_rows = get_chunks(x, 1); }); !st) return st;
    if (old_rows.size() != 1) return Status::invalid("fixture trace 1 has " + std::to_string(old_rows.size()) + " chunks");
    auto cat = Catalog::open((store / "catalog").string(), false);
    if (!cat) return cat.status();
    bool fits = false;
    auto st = (*cat)->env().write([&](Txn& x) {
        auto t = get_trace(x, 1);
        auto rows = get_chunks(x, 1);
        fits = t && rows.size() == 1 && rows[0].parent_id.empty();
        if (!fits) return;
        ChunkRow r = rows[0];
        r.packets = old_rows[0].packets;
        r.synth_bytes = old_rows[0].synth_bytes;
        r.model_bytes = blob->size();
        x.put(db::kModels, chunk_key(1, 0), *blob);
        x.put(db::kLibrary, "t1c0", *blob);
        x.put(db::kChunks, chunk_key(1, 0), encode(r));
        t->model_bytes = r.model_bytes;
        t->synth_size = 24 + r.synth_bytes;
        put_trace(x, *t);
    });
    if (st && !fits) return Status::invalid("the fresh store's trace 1 is not one keyframe chunk");
    return st;
}

TEST(Regenerate, V5ModelBesideItsRawRetrainsFromTheRawRecords) {
    MountedVolume v("", "regenerate-raw");
    const fsys::path fixture_copy = v.store().parent_path() / "fixture-store";
    copy_fixture_store(fixture_copy);
    v.start();
    if (HasFatalFailure()) return;
    v.cp_in("dev/dnscap__dns.pcap", "dns.pcap");
    ASSERT_TRUE(v.wait_archived("dns.pcap")) << v.daemon_log();
    v.stop();
    auto planted = plant_v5_model(v.store(), fixture_copy);
    ASSERT_TRUE(planted) << planted.message();
    const std::string S = shell_quote(v.store());
    Ran clean = run(dgcctl() + " scrub " + S);
    ASSERT_EQ(clean.exit_code, 0) << "the planted v5 model left the store inconsistent:\n" << clean.output;

    v.start();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(v.wait_archived("dns.pcap", 30)) << v.daemon_log();
    const std::string v5 = slurp(v.archive() / "dns.pcap");
    v.stop();
    Ran up = run(dgcctl() + " regenerate --upgrade --store " + S + " dns.pcap");
    ASSERT_EQ(up.exit_code, 0) << up.output;
    EXPECT_EQ(count(up.output, ": format 5 -> " + std::to_string(trainer::writer_format())), 1u) << up.output;
    EXPECT_NE(up.output.find("new regeneration against the raw records: 17-mean 0."), std::string::npos) << up.output;
    Ran scrub = run(dgcctl() + " scrub " + S);
    EXPECT_EQ(scrub.exit_code, 0) << scrub.output;

    v.start();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(v.wait_archived("dns.pcap", 30)) << v.daemon_log();
    const std::string now = slurp(v.archive() / "dns.pcap");
    EXPECT_GT(now.size(), 24u);
    EXPECT_NE(now, v5) << "archive/ still reads the format-5 regeneration";
    EXPECT_EQ(slurp(v.retention() / "dns.pcap"), slurp(data_path("dev/dnscap__dns.pcap"))) << "raw must stay as it was";
    v.stop();
}

}  // namespace
}  // namespace dgc::fs::test
