// dgcctl export / import: a trace's archive/ file leaves the store as one .dgc that expands
// byte-identically in an empty directory with no store, and comes back into another store's
// archive/ byte-identically; the failures say what and why, with exit status 1 (2: usage).
#include "tests/codec/codec_test_util.h"
#include "tests/fs/mounted_volume.h"
#include "tests/shell_quote.h"

#include <fcntl.h>
#include <sys/file.h>

#include <map>

namespace dgc::fs::test {
namespace {

using Ran = dgc::test::CommandResult;
Ran run(const std::string& cmd) { return dgc::test::run_command(cmd); }

std::string dgcctl() { return std::string(DGC_BINARY_DIR) + "/tools/dgcctl"; }
using dgc::testing::shell_quote;

// The "second machine": a new empty directory holding only the .dgc, an empty environment,
// and no store anywhere in reach of the command line.
std::string expand_alone(const fsys::path& dgc, const fsys::path& scratch) {
    fsys::remove_all(scratch);
    fsys::create_directories(scratch);
    fsys::copy_file(dgc, scratch / "trace.dgc");
    Ran r = run("cd " + shell_quote(scratch) + " && env -i HOME=" + shell_quote(scratch) + " PATH=/usr/bin:/bin " + dgcctl() +
                " expand trace.dgc -o out.pcap");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::string bytes = slurp(scratch / "out.pcap");
    fsys::remove_all(scratch);
    return bytes;
}

const std::vector<std::pair<std::string, std::string>> kTraces = {
    {"dev/dnscap__dns.pcap", "site-a/dns.pcap"},          // Ethernet, the library's first keyframe
    {"dev/NetShare__raw.pcap", "raw.pcap"},               // raw IP: archive/ link type 101
    {"dev/PcapPlusPlus__example.pcap", "example.pcap"},   // 4631 packets: two chunks
};

TEST(Export, ArchiveLeavesAsDgcExpandsAloneAndImportsIntoAnotherStore) {
    MountedVolume v("", "export");
    v.start();
    fsys::create_directories(v.retention() / "site-a");
    v.cp_in(kTraces[0].first, kTraces[0].second);
    ASSERT_TRUE(v.wait_archived(kTraces[0].second)) << v.daemon_log();  // later chunks may fine-tune its keyframe
    for (size_t i = 1; i < kTraces.size(); ++i) v.cp_in(kTraces[i].first, kTraces[i].second);
    for (const auto& [src, rel] : kTraces) ASSERT_TRUE(v.wait_archived(rel, 180)) << rel << "\n" << v.daemon_log();

    const fsys::path work = v.store().parent_path() / "exports";
    fsys::create_directories(work);
    std::map<std::string, std::string> archived;
    std::map<std::string, fsys::path> dgc;
    for (const auto& [src, rel] : kTraces) {
        archived[rel] = slurp(v.archive() / rel);
        ASSERT_GT(archived[rel].size(), 24u);
        dgc[rel] = work / (fsys::path(rel).filename().string() + ".dgc");
        Ran r = run(dgcctl() + " export " + shell_quote(v.mnt()) + " " + rel + " -o " + shell_quote(dgc[rel]));
        ASSERT_EQ(r.exit_code, 0) << r.output;
        EXPECT_EQ(expand_alone(dgc[rel], work / "alone"), archived[rel]) << rel << ": expand differs from archive/";
    }
    // The same bytes from the store directory, by trace id, and on standard output.
    const std::string first = slurp(dgc["site-a/dns.pcap"]);
    Ran by_store = run(dgcctl() + " export " + shell_quote(v.store()) + " /site-a/dns.pcap -o " + shell_quote(work / "s.dgc"));
    ASSERT_EQ(by_store.exit_code, 0) << by_store.output;
    EXPECT_EQ(slurp(work / "s.dgc"), first);
    Ran through_mount = run(dgcctl() + " export " + shell_quote(v.mnt()) + " " + shell_quote(v.archive() / "site-a/dns.pcap") + " -o " +
                            shell_quote(work / "m.dgc"));
    ASSERT_EQ(through_mount.exit_code, 0) << through_mount.output;
    EXPECT_EQ(slurp(work / "m.dgc"), first);
    Ran by_id = run(dgcctl() + " export " + shell_quote(v.store()) + " 1 -o - > " + shell_quote(work / "stdout.dgc"));
    ASSERT_EQ(by_id.exit_code, 0) << by_id.output;
    EXPECT_EQ(slurp(work / "stdout.dgc"), first);

    // Import needs the daemon stopped: a live volume is refused, its stopped store accepts.
    MountedVolume w("", "import");
    w.start();
    Ran live = run(dgcctl() + " import " + shell_quote(w.mnt()) + " " + shell_quote(dgc["raw.pcap"]));
    EXPECT_EQ(live.exit_code, 1) << live.output;
    EXPECT_NE(live.output.find("mounted dgcfs volume"), std::string::npos) << live.output;
    Ran live_store = run(dgcctl() + " import " + shell_quote(w.store()) + " " + shell_quote(dgc["raw.pcap"]));
    EXPECT_EQ(live_store.exit_code, 1) << live_store.output;
    w.stop();
    for (const auto& [src, rel] : kTraces) {
        Ran r = run(dgcctl() + " import " + shell_quote(w.store()) + " " + shell_quote(dgc[rel]));
        ASSERT_EQ(r.exit_code, 0) << r.output;
        EXPECT_NE(r.output.find("archive/" + rel), std::string::npos) << r.output;
    }
    Ran again = run(dgcctl() + " import " + shell_quote(w.store()) + " " + shell_quote(dgc["site-a/dns.pcap"]));
    EXPECT_EQ(again.exit_code, 1) << again.output;
    EXPECT_NE(again.output.find("site-a/dns.pcap: a trace already exists there"), std::string::npos) << again.output;
    Ran as = run(dgcctl() + " import " + shell_quote(w.store()) + " " + shell_quote(dgc["site-a/dns.pcap"]) + " --as copies/dns-2.pcap");
    ASSERT_EQ(as.exit_code, 0) << as.output;

    w.start();
    for (const auto& [src, rel] : kTraces) {
        EXPECT_EQ(slurp(w.archive() / rel), archived[rel]) << rel << ": imported archive/ differs";
        EXPECT_EQ(fsys::file_size(w.archive() / rel), archived[rel].size());
        EXPECT_FALSE(fsys::exists(w.retention() / rel)) << "an imported trace has no raw data";
        EXPECT_EQ(w.xattr(w.archive() / rel, "state"), "raw-expired");
    }
    EXPECT_EQ(slurp(w.archive() / "copies/dns-2.pcap"), archived["site-a/dns.pcap"]);
    // What the second store holds exports again to the same regeneration.
    Ran round = run(dgcctl() + " export " + shell_quote(w.mnt()) + " raw.pcap -o " + shell_quote(work / "round.dgc"));
    ASSERT_EQ(round.exit_code, 0) << round.output;
    EXPECT_EQ(expand_alone(work / "round.dgc", work / "alone"), archived["raw.pcap"]);
}

TEST(Export, FailuresNameTheTraceAndTheReason) {
    MountedVolume v("", "exporterr");
    // 1,000-packet chunks: blink-cam-01's 25 must still be queued when export starts.
    v.set_chunk_packets(1000);
    ASSERT_NO_FATAL_FAILURE(v.start());
    v.cp_in("dev/dnscap__dns.pcap", "dns.pcap");
    std::ofstream(v.retention() / "junk.pcap") << "not a capture at all\n";
    ASSERT_TRUE(v.wait_archived("dns.pcap")) << v.daemon_log();
    ASSERT_TRUE(wait_until([&] { return v.xattr(v.retention() / "junk.pcap", "state").rfind("unmodelable", 0) == 0; }, 30));
    const fsys::path out = v.store().parent_path() / "x.dgc";

    Ran unknown = run(dgcctl() + " export " + shell_quote(v.mnt()) + " nosuch.pcap -o " + shell_quote(out));
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.output.find("no trace 'nosuch.pcap'"), std::string::npos) << unknown.output;
    Ran junk = run(dgcctl() + " export " + shell_quote(v.mnt()) + " junk.pcap -o " + shell_quote(out));
    EXPECT_EQ(junk.exit_code, 1);
    EXPECT_NE(junk.output.find("junk.pcap: unmodelable"), std::string::npos) << junk.output;
    Ran unwritable = run(dgcctl() + " export " + shell_quote(v.mnt()) + " dns.pcap -o /nonexistent-dir/x.dgc");
    EXPECT_EQ(unwritable.exit_code, 1);
    EXPECT_NE(unwritable.output.find("/nonexistent-dir/x.dgc: cannot open for writing"), std::string::npos) << unwritable.output;
    EXPECT_FALSE(fsys::exists(out)) << "a failed export left a file";
    Ran usage = run(dgcctl() + " export " + shell_quote(v.mnt()) + " dns.pcap");
    EXPECT_EQ(usage.exit_code, 2) << usage.output;
    Ran nostore = run(dgcctl() + " export " + shell_quote(v.store().parent_path()) + " dns.pcap -o " + shell_quote(out));
    EXPECT_EQ(nostore.exit_code, 1);
    EXPECT_NE(nostore.output.find("neither a mounted dgcfs volume nor a store"), std::string::npos) << nostore.output;

    // Caught while the queue still holds its chunks.
    v.cp_in("dev/IoT-Dataset__blink-cam-01.pcap", "cam.pcap");
    ASSERT_TRUE(wait_until([&] {
        auto s = v.xattr(v.retention() / "cam.pcap", "state");
        return s.rfind("queued", 0) == 0 || s.rfind("training", 0) == 0;
    }, 30));
    Ran pending = run(dgcctl() + " export " + shell_quote(v.store()) + " cam.pcap -o " + shell_quote(out));
    EXPECT_EQ(pending.exit_code, 1);
    EXPECT_NE(pending.output.find("cam.pcap: not fully modelled yet"), std::string::npos) << pending.output;

    // A damaged .dgc is refused by import with the file's name and the reason.
    Ran good = run(dgcctl() + " export " + shell_quote(v.mnt()) + " dns.pcap -o " + shell_quote(out));
    ASSERT_EQ(good.exit_code, 0) << good.output;
    v.stop();
    {
        // Whoever holds the store lock (a daemon does, for its life) keeps import out.
        const int fd = ::open((v.store() / "dgcfs.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
        Ran locked = run(dgcctl() + " import " + shell_quote(v.store()) + " " + shell_quote(out) + " --as dns-2.pcap");
        ::close(fd);
        EXPECT_EQ(locked.exit_code, 1);
        EXPECT_NE(locked.output.find("dgcfs.lock is locked"), std::string::npos) << locked.output;
    }
    Ran badpath = run(dgcctl() + " import " + shell_quote(v.store()) + " " + shell_quote(out) + " --as ../up.pcap");
    EXPECT_EQ(badpath.exit_code, 1) << badpath.output;
    EXPECT_NE(badpath.output.find("'../up.pcap': every path component must be a name"), std::string::npos) << badpath.output;
    std::string bytes = slurp(out);
    bytes[bytes.size() / 2] ^= 0x20;
    std::ofstream(out, std::ios::binary | std::ios::trunc) << bytes;
    Ran corrupt = run(dgcctl() + " import " + shell_quote(v.store()) + " " + shell_quote(out) + " --as dns-2.pcap");
    EXPECT_EQ(corrupt.exit_code, 1);
    EXPECT_NE(corrupt.output.find(out.string() + ": checksum mismatch"), std::string::npos) << corrupt.output;
}

std::string sha256(const std::string& bytes, const fsys::path& scratch) {
    fsys::create_directories(scratch);
    std::ofstream(scratch / "bytes", std::ios::binary) << bytes;
    Ran r = run("sha256sum " + shell_quote(scratch / "bytes"));
    return r.output.substr(0, 64);
}

// Every released format: each trace of each golden store (tests/golden) exports to a .dgc
// that expands alone to the archive/ bytes its SHA256SUMS pins, and comes back the same
// after an import into another version's store (its parents renamed, its version kept).
TEST(Export, EveryGoldenTraceExpandsAloneToItsPinnedArchiveBytes) {
    const fsys::path work = fsys::temp_directory_path() / ("dgc-export-golden-" + std::to_string(::getpid()));
    fsys::remove_all(work);
    struct Exported {
        std::string fixture, path, sha;
        fsys::path dgc;
    };
    std::vector<Exported> all;
    fsys::path last_store;
    for (const auto& fixture : fsys::directory_iterator(DGC_GOLDEN_DIR)) {
        if (!fsys::exists(fixture.path() / "store" / "catalog" / "data.mdb")) continue;
        const std::string name = fixture.path().filename().string();
        const fsys::path store = work / name / "store";
        fsys::create_directories(store / "catalog");
        fsys::copy_file(fixture.path() / "store" / "catalog" / "data.mdb", store / "catalog" / "data.mdb");
        last_store = store;
        std::ifstream sums(fixture.path() / "SHA256SUMS");
        std::string sha, file;
        while (sums >> sha >> file) {
            if (file.rfind("archive/", 0) != 0) continue;
            const std::string rel = file.substr(8);
            const fsys::path dgc = work / name / (std::to_string(all.size()) + ".dgc");
            Ran r = run(dgcctl() + " export " + shell_quote(store) + " " + shell_quote(rel) + " -o " + shell_quote(dgc));
            ASSERT_EQ(r.exit_code, 0) << name << " " << rel << ": " << r.output;
            EXPECT_EQ(sha256(expand_alone(dgc, work / "alone"), work / "sum"), sha) << name << " " << rel;
            all.push_back({name, rel, sha, dgc});
        }
    }
    ASSERT_GE(all.size(), 4u) << "expected the archive/ files of at least two golden stores under " << DGC_GOLDEN_DIR;
    for (const auto& e : all) {
        const std::string as = "imported/" + e.fixture + "/" + e.path;
        Ran in = run(dgcctl() + " import " + shell_quote(last_store) + " " + shell_quote(e.dgc) + " --as " + shell_quote(as));
        ASSERT_EQ(in.exit_code, 0) << in.output;
        const fsys::path again = work / "again.dgc";
        Ran out = run(dgcctl() + " export " + shell_quote(last_store) + " " + shell_quote(as) + " -o " + shell_quote(again));
        ASSERT_EQ(out.exit_code, 0) << out.output;
        EXPECT_EQ(sha256(expand_alone(again, work / "alone"), work / "sum"), e.sha) << as;
    }
    if (!::testing::Test::HasFailure()) fsys::remove_all(work);
}

}  // namespace
}  // namespace dgc::fs::test
