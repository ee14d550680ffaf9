// Invariant 5 through a mount: every file of odd/ gets a clear state; the unmodelable ones
// keep their raw bytes, say why, and never expire even under raw_ttl = 0.
#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

TEST(MountOdd, EveryOddFileGetsAClearStateAndUnmodelableKeepRaw) {
    MountedVolume v("[defaults]\nraw_ttl = 0\n[volume]\nsweep_interval = 1\n", "odd");
    v.start();
    std::vector<std::string> names;
    for (const auto& e : fsys::directory_iterator(data_path("odd"))) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    ASSERT_GT(names.size(), 10u);
    ASSERT_EQ(sh("cp " + data_path("odd") + "/* '" + v.retention().string() + "/'"), 0);

    // Settled: modelled (and so, under TTL 0, maybe already gone from retention/) or unmodelable.
    auto settled = [&](const std::string& n) {
        if (fsys::exists(v.archive() / n)) return true;
        return v.xattr(v.retention() / n, "state").rfind("unmodelable: ", 0) == 0;
    };
    bool all = wait_until(
        [&] {
            for (const auto& n : names)
                if (!settled(n)) return false;
            return true;
        },
        240);
    std::string states;
    for (const auto& n : names)
        states += n + ": " + v.xattr(v.retention() / n, "state") + (fsys::exists(v.archive() / n) ? " [archived]" : "") +
                  "\n";
    ASSERT_TRUE(all) << states << v.daemon_log();

    int unmodelable = 0, archived = 0;
    for (const auto& n : names) {
        const std::string state = v.xattr(v.retention() / n, "state");
        if (state.rfind("unmodelable: ", 0) == 0) {
            ++unmodelable;
            EXPECT_GT(state.size(), 20u) << n << ": the reason must say something";
            EXPECT_EQ(slurp(v.retention() / n), slurp(data_path("odd/" + n))) << n << ": unmodelable raw not kept";
            EXPECT_NE(v.xattr(v.retention() / n, "raw_expires").find("never"), std::string::npos) << n;
            EXPECT_FALSE(fsys::exists(v.archive() / n)) << n;
        } else {
            ++archived;
            std::string err;
            EXPECT_GE(pcap_count((v.archive() / n).string(), &err), 0) << n << ": " << err;
        }
    }
    // The corpus holds both kinds: garbage/empty/unknown link types and odd-but-valid captures.
    EXPECT_GT(unmodelable, 0) << states;
    EXPECT_GT(archived, 0) << states;
    std::this_thread::sleep_for(std::chrono::seconds(2));
    for (const auto& n : names) {
        if (!fsys::exists(v.archive() / n)) {
            EXPECT_TRUE(fsys::exists(v.retention() / n)) << n << " vanished although it is not archived";
        }
    }
}

}  // namespace
}  // namespace dgc::fs::test
