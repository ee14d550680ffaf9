// dgcfs --base: a warm-up model joins the store's library, the first trace's chunks
// fine-tune it (small deltas, no keyframe of their own), and it stays in the store.
#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

TEST(MountBase, FirstChunksFineTuneTheBaseInsteadOfTrainingAKeyframe) {
    MountedVolume v("", "base");
    // Trained here, on a different trace, like an operator's `dgcctl warmup` over old captures.
    const fsys::path base = v.store().parent_path() / "lan.model";
    const std::string dgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
    ASSERT_EQ(sh(dgcctl + " warmup '" + data_path("dev/PcapPlusPlus__example.pcap") + "' --steps 160 -o '" +
                 base.string() + "' >/dev/null"),
              0);
    const auto base_bytes = fsys::file_size(base);
    v.start({"--base", base.string()});
    v.cp_in("dev/dnscap__dns.pcap", "dns.pcap");
    ASSERT_TRUE(v.wait_archived("dns.pcap")) << v.daemon_log();
    const uint64_t model_bytes = std::stoull(v.xattr(v.retention() / "dns.pcap", "model_bytes"));
    EXPECT_LT(model_bytes, base_bytes / 4) << "the chunk trained a keyframe instead of a delta on the base";
    // The base is shared, not the trace's own: counted apart (issue 14's accounting).
    EXPECT_EQ(std::stoull(v.xattr(v.retention() / "dns.pcap", "shared_model_bytes")), base_bytes);
    const fsys::path status_file = v.store().parent_path() / "status.out";
    sh(dgcctl + " status --json '" + v.mnt().string() + "' >'" + status_file.string() + "'");
    const std::string status = slurp(status_file);
    EXPECT_NE(status.find("\"shared_models\": " + std::to_string(base_bytes)), std::string::npos) << status;
    EXPECT_NE(v.daemon_log().find("in the library as base:lan"), std::string::npos) << v.daemon_log();

    // Without --base the next mount still generates: the store kept the base model.
    const std::string first = slurp(v.archive() / "dns.pcap");
    v.stop();
    v.start();
    EXPECT_EQ(slurp(v.archive() / "dns.pcap"), first);
    EXPECT_EQ(pcap_count((v.archive() / "dns.pcap").string()), 133);
}

TEST(MountBase, ADifferentBaseUnderAKnownNameIsRefused) {
    MountedVolume v("", "baseclash");
    const fsys::path base = v.store().parent_path() / "site.model";
    const std::string dgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
    auto warmup = [&](const std::string& trace, int seed) {
        return sh(dgcctl + " warmup '" + data_path(trace) + "' --steps 60 --seed " + std::to_string(seed) + " -o '" +
                  base.string() + "' >/dev/null");
    };
    ASSERT_EQ(warmup("dev/PcapPlusPlus__example.pcap", 1), 0);
    v.start({"--base", base.string()});
    v.stop();
    ASSERT_EQ(warmup("dev/dnscap__dns.pcap", 2), 0);
    const std::string bin = std::string(DGC_BINARY_DIR) + "/tools/dgcfs";
    const std::string cmd = bin + " -f --store '" + v.store().string() + "' --base '" + base.string() + "' '" +
                            v.mnt().string() + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    const int status = ::pclose(p);
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("different base model"), std::string::npos) << out;
}

}  // namespace
}  // namespace dgc::fs::test
