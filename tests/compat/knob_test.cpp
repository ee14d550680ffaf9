// The storage knob's effect through the real binary (issue 12 item 3): `dgcctl compress`
// of a real dev trace at 0.05 and 0.5 B/packet stores chunk models ordered accordingly,
// each within the knob's budget or, where the side information and the head biases every
// delta carries are over it, within those; and bad knob values are usage errors. Reuse is
// off: a reused chunk stores no weights whatever the knob.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tests/codec/codec_test_util.h"
#include "trainer/pipeline_policy.h"

namespace {

using dgc::test::run_command;
using dgc::test::temp_dir;

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";
const std::string kTinba = std::string(DGC_SHARED_DATA) + "/pcaps/dev/USTC-TFC2016__Tinba.pcap";

struct DeltaLine {
    unsigned long long packets = 0, bytes = 0, side = 0, budget = 0;
    int rank = 0;
    bool says_side_over = false;
};

struct Compressed {
    std::vector<DeltaLine> deltas;
    double per_chunk_bpp = 0;
};

Compressed compress(double knob) {
    char k[32];
    std::snprintf(k, sizeof k, "%g", knob);
    const std::string cmd = "'" + kDgcctl + "' compress '" + kTinba + "' -o '" + temp_dir() + "/t" + k +
                            ".dgc' --chunk-packets 5000 --steps 16 --no-reuse --bytes-per-packet " + k;
    const auto r = run_command(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    Compressed c;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
        DeltaLine d;
        char parent[64];
        if (auto at = line.find("chunk "); at != std::string::npos &&
            std::sscanf(line.c_str() + at, "chunk %*u/%*u: %llu packets, %llu bytes (delta vs %63[^,], rank %d, side %llu of budget %llu)",
                        &d.packets, &d.bytes, parent, &d.rank, &d.side, &d.budget) == 6) {
            d.says_side_over = line.find("side alone") != std::string::npos;
            c.deltas.push_back(d);
        }
        std::sscanf(line.c_str(), "bytes/packet %lf per-chunk", &c.per_chunk_bpp);
    }
    EXPECT_GE(c.deltas.size(), 3u) << r.output;  // 22,000 packets: a keyframe and four deltas
    return c;
}

TEST(StorageKnob, CompressSpendsWhatTheKnobAllows) {
    const Compressed lo = compress(0.05), hi = compress(0.5);
    EXPECT_LT(lo.per_chunk_bpp, hi.per_chunk_bpp);
    EXPECT_GT(lo.per_chunk_bpp, 0);
    ASSERT_EQ(lo.deltas.size(), hi.deltas.size());
    for (const auto* c : {&lo, &hi}) {
        const double knob = c == &lo ? 0.05 : 0.5;
        for (const auto& d : c->deltas) {
            EXPECT_EQ(d.budget, static_cast<unsigned long long>(knob * d.packets));
            EXPECT_EQ(d.says_side_over, d.side > d.budget);
            // Side information and head biases are every delta's floor; the knob bounds the rest.
            EXPECT_LE(d.bytes, std::max<double>(d.budget, d.side + dgc::trainer::kHeadBiasBytes));
            if (d.side > d.budget) {
                EXPECT_EQ(d.rank, 0);  // no adapter and no pool
            }
            if (d.rank > 0) {
                EXPECT_LE(d.bytes, d.budget);
            }
        }
    }
    // Tinba's 5,000-packet chunks carry ~0.1 B/packet of side: over 0.05, well under 0.5.
    EXPECT_TRUE(lo.deltas.front().says_side_over);
    EXPECT_FALSE(hi.deltas.front().says_side_over);
    EXPECT_GT(hi.deltas.front().rank, 0);
    // Where the high knob leaves room above the floor (Tinba's last chunk, 2,000 packets, has
    // none at 0.5 since formats 65 and 66 placed its gaps: 1,014 bytes against 1,000).
    size_t compared = 0;
    for (size_t i = 0; i < lo.deltas.size(); ++i) {
        if (hi.deltas[i].side + dgc::trainer::kHeadBiasBytes >= hi.deltas[i].budget) continue;
        EXPECT_LT(lo.deltas[i].bytes, hi.deltas[i].bytes) << "chunk " << i;
        ++compared;
    }
    EXPECT_GE(compared, 3u);
}

TEST(StorageKnob, OutOfRangeIsAUsageError) {
    for (const char* v : {"0", "-1", "4.5", "lots"}) {
        const auto r = run_command("'" + kDgcctl + "' compress '" + kTinba + "' -o '" + temp_dir() +
                                   "/bad.dgc' --bytes-per-packet " + v);
        EXPECT_EQ(r.exit_code, 2) << v << "\n" << r.output;
        EXPECT_NE(r.output.find("--bytes-per-packet"), std::string::npos) << r.output;
    }
}

}  // namespace
