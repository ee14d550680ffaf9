// The fault-injection matrix (issue 15): for each stage a capture passes through, kill -9,
// ENOSPC and EIO are injected into the daemon's own I/O by an LD_PRELOAD shim
// (tests/fs/fault_shim.c), the fault clears, the volume remounts, and the invariants of
// ../shared/design.md are checked: every accepted file byte-exact in retention/ or
// regenerating in archive/, nothing stuck in staging, no stray raw segment, every job
// finished, no verdict of "unmodelable" for a fault of the disk. Each cell prints its row;
// running the binary on its own prints the whole matrix at the end.
#include <fcntl.h>

#include <cstdio>
#include <map>
#include <mutex>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

enum class Stage { kStagingWrite, kCloseAccept, kIngest, kTraining, kModelCommit, kSweep, kArchiveRead };
enum class Fault { kKill, kEnospc, kEio };

const char* stage_name(Stage s) {
    static const char* names[] = {"staging write", "close/accept", "ingest into segments", "chunk training",
                                  "model commit",  "sweep/expiry", "archive read"};
    return names[static_cast<int>(s)];
}
const char* fault_name(Fault f) { return f == Fault::kKill ? "kill -9" : f == Fault::kEnospc ? "ENOSPC" : "EIO"; }
const char* rule_action(Fault f) { return f == Fault::kKill ? "KILL" : f == Fault::kEnospc ? "ENOSPC" : "EIO"; }

const char* const kCapture = "dev/dnscap__dns.pcap";
const long kPackets = 133;
const char* const kName = "victim.pcap";

std::map<std::string, std::string>& matrix() {
    static std::map<std::string, std::string> m;
    return m;
}

class PrintMatrix : public ::testing::Environment {
public:
    void TearDown() override {
        if (matrix().size() < 2) return;
        std::printf("\nfault matrix (stage x fault -> outcome):\n");
        for (const auto& [cell, outcome] : matrix()) std::printf("  %-34s %s\n", cell.c_str(), outcome.c_str());
    }
};
[[maybe_unused]] const auto* const kPrinter = ::testing::AddGlobalTestEnvironment(new PrintMatrix);

size_t files_in(const fsys::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fsys::directory_iterator(dir, ec); !ec && it != fsys::directory_iterator(); it.increment(ec)) ++n;
    return n;
}

// The design's invariants over the files a test expects accepted; one line per violation.
// `wait_s` bounds how long jobs may still take to finish and staging to drain.
std::vector<std::string> violations(const MountedVolume& v, const std::map<std::string, std::string>& accepted,
                                    double wait_s = 120) {
    std::vector<std::string> out;
    size_t raw_expected = 0;
    for (const auto& [rel, bytes] : accepted) {
        if (!v.wait_archived(rel, wait_s)) out.push_back(rel + ": not in archive/ in time (a job did not finish)");
        const std::string state = v.xattr(v.archive() / rel, "state");
        if (state.rfind("unmodelable", 0) == 0) out.push_back(rel + ": " + state + " (a fault became a verdict)");
        if (fsys::exists(v.retention() / rel)) {
            ++raw_expected;
            if (slurp(v.retention() / rel) != bytes) out.push_back(rel + ": retention/ bytes differ (corrupted)");
        } else if (!fsys::exists(v.archive() / rel)) {
            out.push_back(rel + ": in neither retention/ nor archive/ (lost)");
        }
        if (fsys::exists(v.archive() / rel)) {
            std::string err;
            const long n = pcap_count((v.archive() / rel).string(), &err);
            if (n != kPackets) out.push_back(rel + ": archive/ reads " + std::to_string(n) + " packets " + err);
            if (slurp(v.archive() / rel) != slurp(v.archive() / rel)) out.push_back(rel + ": archive/ not deterministic");
        }
    }
    if (!wait_until([&] { return files_in(v.store() / "staging") == 0; }, std::min(wait_s, 15.0)))
        out.push_back(std::to_string(files_in(v.store() / "staging")) + " file(s) stuck in staging/");
    if (files_in(v.store() / "raw") != raw_expected)
        out.push_back(std::to_string(files_in(v.store() / "raw")) + " raw segment(s) for " +
                      std::to_string(raw_expected) + " file(s) with raw (a partial or orphan segment)");
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += "  " + l + "\n";
    return s;
}

// One cell: a mounted volume whose daemon runs under the shim, and the rule file it reads.
class Cell {
public:
    explicit Cell(const std::string& policy) : v_("[volume]\nsweep_interval = 1\n" + policy, "faults") {
        rules_ = v_.policy_path().parent_path() / "faults";
        clear();
    }
    MountedVolume& v() { return v_; }

    void start() {
        ::setenv("LD_PRELOAD", DGC_FAULT_SHIM, 1);
        ::setenv("DGC_FAULT_RULES", rules_.c_str(), 1);
        // Every write goes through the daemon (where the shim sees it), and close() syncs,
        // so the close/accept stage has an I/O of its own.
        v_.start({"--no-passthrough", "--sync-close"});
        ::unsetenv("LD_PRELOAD");
        ::unsetenv("DGC_FAULT_RULES");
    }
    // `times` > 0: the fault clears by itself after that many injections.
    void arm(Fault f, const std::string& ops, const std::string& where, const std::string& after = "", int times = 0) {
        write_rules(std::string(rule_action(f)) + (times > 0 ? ":" + std::to_string(times) : "") + " " + ops + " " + (v_.store() / where).string() +
                    (after.empty() ? "" : " " + (v_.store() / after).string()) + "\n");
    }
    void clear() { write_rules(""); }
    // Injected faults so far whose line contains `what`.
    int hits(const std::string& what = "") const {
        std::ifstream in(rules_.string() + ".hits");
        int n = 0;
        for (std::string line; std::getline(in, line);) n += line.find(what) != std::string::npos;
        return n;
    }
    bool wait_hit(const std::string& what = "", double s = 60) const {
        return wait_until([&] { return hits(what) > 0; }, s);
    }
    // After a KILL rule fired the daemon is dead; reap it and drop the mount.
    void reap(std::vector<std::string>& seen) {
        seen.push_back("killed, restarted");
        clear();
        v_.kill9();
    }
    void remount() {
        v_.stop();
        start();
    }
    // The fault cleared: a killed daemon is reaped and started again, a live one remounted.
    void recover(bool killed, std::vector<std::string>& seen) {
        if (killed) {
            reap(seen);
            start();
        } else {
            clear();
            remount();
        }
    }
    int cp(const std::string& rel) { return sh("cp '" + data_path(kCapture) + "' '" + (v_.retention() / rel).string() + "' 2>/dev/null"); }

private:
    void write_rules(const std::string& text) {
        const std::string tmp = rules_.string() + ".tmp";
        std::ofstream(tmp) << text;
        fsys::rename(tmp, rules_);
        std::this_thread::sleep_for(std::chrono::milliseconds(60));  // the shim looks every 20 ms
    }
    MountedVolume v_;
    fsys::path rules_;
};

using Param = std::tuple<Stage, Fault>;

class FaultMatrix : public ::testing::TestWithParam<Param> {};

TEST_P(FaultMatrix, InvariantsHoldAfterTheFaultAndARemount) {
    const auto [stage, fault] = GetParam();
    const bool kill = fault == Fault::kKill;
    Cell c("");
    c.start();
    MountedVolume& v = c.v();
    const std::string original = slurp(data_path(kCapture));
    std::vector<std::string> seen;  // what the cell observed, for its row
    auto fired = [&](const std::string& what = "") {
        ASSERT_TRUE(c.wait_hit(what)) << "the fault never fired: this cell would prove nothing\n" << v.daemon_log();
        seen.push_back(std::to_string(c.hits(what)) + " hit(s)");
    };

    switch (stage) {
        case Stage::kStagingWrite:
        case Stage::kCloseAccept: {
            c.arm(fault, stage == Stage::kStagingWrite ? "write" : "fsync", "staging/");
            const int rc = c.cp(kName);
            fired();
            EXPECT_NE(rc, 0) << "the writer must hear of the failed " << stage_name(stage);
            seen.push_back("cp failed");
            c.recover(kill, seen);
            ASSERT_EQ(c.cp(kName), 0) << "the writer's retry after the fault must succeed\n" << v.daemon_log();
            seen.push_back("retry ok");
            break;
        }
        case Stage::kIngest: {
            c.arm(fault, "write", "raw/");
            ASSERT_EQ(c.cp(kName), 0);  // accepted: ingest runs after close
            fired();
            if (!kill) {
                EXPECT_TRUE(wait_until([&] { return files_in(v.store() / "raw") == 0; }, 5))
                    << "a failed ingest must remove its partial raw segment at once";
                EXPECT_EQ(files_in(v.store() / "staging"), 1u) << "the staging file must stay for the retry";
                EXPECT_TRUE(slurp(v.retention() / kName) == original) << "the accepted bytes must stay readable";
                seen.push_back("no partial segment, staging kept");
            }
            break;
        }
        case Stage::kTraining:
        case Stage::kModelCommit: {
            if (stage == Stage::kTraining) c.arm(fault, "write,create", "staging/train-");
            // One failed commit, then the disk is fine again: the verdict must not outlive it.
            else c.arm(fault, "write,fsync", "catalog/", "staging/train-", 1);
            ASSERT_EQ(c.cp(kName), 0);
            fired(stage == Stage::kTraining ? "train-" : "catalog");
            if (!kill) {
                auto state = [&] { return v.xattr(v.retention() / kName, "state"); };
                wait_until([&] { return v.daemon_log().find("retrying in") != std::string::npos ||
                                        state().rfind("unmodelable", 0) == 0; }, 10);
                EXPECT_EQ(state().rfind("unmodelable", 0), std::string::npos) << "an I/O fault became a verdict: " << state();
                EXPECT_NE(v.daemon_log().find("retrying in"), std::string::npos) << "no retry logged";
                seen.push_back("job kept, backoff");
            }
            break;
        }
        case Stage::kSweep: {
            ASSERT_EQ(c.cp(kName), 0);
            ASSERT_TRUE(v.wait_archived(kName)) << v.daemon_log();
            // The whole store fails, status.json included; a reload makes raw due now.
            c.arm(fault, kill ? "write" : "write,fsync,unlink,create", kill ? "catalog/" : "");
            { std::ofstream(v.policy_path(), std::ios::app) << "[defaults]\nraw_ttl = 0\n"; }
            v.signal(SIGHUP);
            fired(kill ? "catalog" : "");
            if (!kill) {
                // Past status.json's 5 s freshness: only a daemon that is seen alive still counts as running.
                std::this_thread::sleep_for(std::chrono::milliseconds(6500));
                EXPECT_GT(c.hits("/catalog/"), 0) << "the sweep never reached its catalog commit";
                EXPECT_TRUE(slurp(v.retention() / kName) == original) << "raw went although the sweep could not commit";
                EXPECT_EQ(sh(std::string(DGC_BINARY_DIR) + "/tools/dgcctl status '" + v.mnt().string() +
                             "' >/dev/null 2>&1"), 0)
                    << "status.json must still say the daemon runs on a full disk";
                seen.push_back("raw kept, status ok");
            }
            break;
        }
        case Stage::kArchiveRead: {
            ASSERT_EQ(c.cp(kName), 0);
            ASSERT_TRUE(v.wait_archived(kName)) << v.daemon_log();
            const std::string first = slurp(v.archive() / kName);
            if (kill) {
                // A reader mid-stream when the daemon dies.
                int fd = ::open((v.archive() / kName).c_str(), O_RDONLY);
                ASSERT_GE(fd, 0);
                char buf[100];
                ASSERT_EQ(::read(fd, buf, sizeof buf), 100);
                c.arm(fault, "all", "");  // the next store write (status.json) kills it
                fired();
                // The page cache may still serve it; whatever comes must be the right bytes.
                const ssize_t n = ::read(fd, buf, sizeof buf);
                EXPECT_TRUE(n <= 0 || std::string(buf, static_cast<size_t>(n)) == first.substr(100, static_cast<size_t>(n)));
                seen.push_back(n < 0 ? "reader got an error" : "reader served from cache");
                ::close(fd);
            } else {
                c.arm(fault, "all", "");
                fired();
                EXPECT_TRUE(slurp(v.archive() / kName) == first) << "reads need no writes: a full disk must not change them";
                seen.push_back("reads unchanged");
            }
            c.recover(kill, seen);
            EXPECT_TRUE(slurp(v.archive() / kName) == first) << "archive/ changed across the fault and remount";
            break;
        }
    }
    // The fault clears and the volume remounts (after a kill: the restart).
    if (stage != Stage::kStagingWrite && stage != Stage::kCloseAccept && stage != Stage::kArchiveRead) {
        if (kill) {
            c.reap(seen);
            c.start();
        } else {
            c.clear();
            if (stage == Stage::kSweep) {
                EXPECT_TRUE(wait_until([&] { return !fsys::exists(v.retention() / kName); }, 20))
                    << "raw did not expire once the disk recovered\n" << v.daemon_log();
            }
            c.remount();
        }
    }
    if (stage == Stage::kSweep) {  // raw_ttl is 0 now: let it expire before counting segments
        EXPECT_TRUE(wait_until([&] { return !fsys::exists(v.retention() / kName); }, 20)) << v.daemon_log();
    }
    const auto bad = violations(v, {{kName, original}});
    EXPECT_TRUE(bad.empty()) << joined(bad) << v.daemon_log();
    std::string outcome = bad.empty() && !HasFailure() ? "pass" : "FAIL";
    for (const auto& s : seen) outcome += "; " + s;
    outcome += fsys::exists(v.retention() / kName) ? "; raw byte-exact" : "; archive regenerates";
    const std::string cell = std::string(stage_name(stage)) + " x " + fault_name(fault);
    std::printf("MATRIX %-34s -> %s\n", cell.c_str(), outcome.c_str());
    matrix()[cell] = outcome;
}

std::string cell_name(const ::testing::TestParamInfo<Param>& info) {
    std::string s = std::string(stage_name(std::get<0>(info.param))) + "_" + fault_name(std::get<1>(info.param));
    for (char& ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(Cells, FaultMatrix,
                         ::testing::Combine(::testing::Values(Stage::kStagingWrite, Stage::kCloseAccept, Stage::kIngest,
                                                              Stage::kTraining, Stage::kModelCommit, Stage::kSweep,
                                                              Stage::kArchiveRead),
                                            ::testing::Values(Fault::kKill, Fault::kEnospc, Fault::kEio)),
                         cell_name);

// A writer that never checks close(2), as the soak's did: a shell redirect into retention/.
void redirect_into(const MountedVolume& v, const std::string& name) {
    sh("sh -c \"cat '" + data_path(kCapture) + "' > '" + (v.retention() / name).string() + "'\" 2>/dev/null");
}

long staging_files(const MountedVolume& v) {
    return std::distance(fsys::directory_iterator(v.store() / "staging"), fsys::directory_iterator{});
}

// A writer that never checks close(2), as a shell redirect or tcpdump -w: a staging write
// failed under the write-back cache after its write(2) had returned. The soak found such
// files accepted as empty captures; the file must not be accepted at all.
TEST(FaultMatrixHarness, AFileWithAFailedWriteIsNeverAccepted) {
    Cell c("");
    c.start();
    MountedVolume& v = c.v();
    c.arm(Fault::kEnospc, "write", "staging/");
    redirect_into(v, "redirect.pcap");
    ASSERT_TRUE(c.wait_hit()) << "the fault never fired\n" << v.daemon_log();
    c.clear();
    std::this_thread::sleep_for(std::chrono::seconds(3));  // past the quiet time that would accept it
    const auto got = v.retention() / "redirect.pcap";
    if (fsys::exists(got)) {
        EXPECT_TRUE(slurp(got) == slurp(data_path(kCapture))) << "a file with a failed write was accepted with other bytes\n" << v.daemon_log();
    }
    EXPECT_EQ(v.daemon_log().find("empty file"), std::string::npos) << v.daemon_log();
}

// The soak found a dropped file whose staging copy could not be deleted (the disk fault hit
// unlink too) lingering until the next mount. It goes once the disk recovers, without one.
TEST(FaultMatrixHarness, AStagingFileWhoseDeleteFailedGoesOnceTheDiskRecovers) {
    Cell c("");
    c.start();
    MountedVolume& v = c.v();
    c.arm(Fault::kEnospc, "write,unlink", "staging/");
    redirect_into(v, "redirect.pcap");
    ASSERT_TRUE(c.wait_hit("unlink")) << "the unlink fault never fired\n" << v.daemon_log();
    EXPECT_GT(staging_files(v), 0) << "the fault did not leave the file behind: this test tests nothing";
    c.clear();
    EXPECT_TRUE(wait_until([&] { return staging_files(v) == 0; }, 10)) << "staging file still there\n" << v.daemon_log();
    EXPECT_FALSE(fsys::exists(v.retention() / "redirect.pcap"));
}

// The second soak found a file left in staging for good: its close failed (the catalog could
// not record it) and so it was never marked closed, while nobody held it any more.
TEST(FaultMatrixHarness, AFileWhoseCloseFailedIsNotLeftInStaging) {
    Cell c("");
    c.start();
    MountedVolume& v = c.v();
    const std::string data = slurp(data_path(kCapture));
    const auto path = v.retention() / "closing.pcap";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    c.arm(Fault::kEio, "write,fsync", "catalog/");
    const int rc = ::close(fd);
    ASSERT_TRUE(c.wait_hit("catalog", 5)) << "the fault never fired\n" << v.daemon_log();
    c.clear();
    EXPECT_NE(rc, 0) << "the writer must hear that its close failed";
    EXPECT_TRUE(wait_until([&] { return staging_files(v) == 0; }, 10)) << "still in staging\n" << v.daemon_log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_FALSE(fsys::exists(path)) << "a file whose close failed was accepted\n" << v.daemon_log();
}

// A harness that cannot see a violation proves nothing: plant some and expect each found.
TEST(FaultMatrixHarness, DetectsPlantedViolations) {
    Cell c("");
    c.start();
    MountedVolume& v = c.v();
    const std::string original = slurp(data_path(kCapture));
    ASSERT_EQ(c.cp(kName), 0);
    ASSERT_TRUE(v.wait_archived(kName)) << v.daemon_log();
    EXPECT_TRUE(violations(v, {{kName, original}}).empty()) << joined(violations(v, {{kName, original}}));

    std::string flipped = original;
    flipped[100] ^= 1;
    EXPECT_NE(joined(violations(v, {{kName, flipped}})).find("corrupted"), std::string::npos);
    EXPECT_NE(joined(violations(v, {{kName, original}, {"never.pcap", original}}, 1)).find("lost"), std::string::npos);
    std::ofstream(v.store() / "raw" / "999.zst") << "stray";
    EXPECT_NE(joined(violations(v, {{kName, original}}, 1)).find("orphan"), std::string::npos);
    fsys::remove(v.store() / "raw" / "999.zst");
    std::ofstream(v.store() / "staging" / "999") << "stuck";
    EXPECT_NE(joined(violations(v, {{kName, original}}, 1)).find("stuck"), std::string::npos);
    fsys::remove(v.store() / "staging" / "999");
    // A fault that never fires is reported as such, not passed.
    c.arm(Fault::kEnospc, "write", "no-such-dir/");
    EXPECT_FALSE(c.wait_hit("", 2));
}

}  // namespace
}  // namespace dgc::fs::test
