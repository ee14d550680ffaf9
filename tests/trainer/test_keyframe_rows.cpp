// A chunk's keyframe stores the rows its chunk never exercises as zeros (zero_unused_rows):
// embedding rows no token looks up and the packet heads' rows of classes no packet has.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/model.h"
#include "trainer/model_blob.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

const ParamTensor& named(const ParamSet& p, const std::string& name) {
    auto it = std::find_if(p.begin(), p.end(), [&](const ParamTensor& t) { return t.name == name; });
    EXPECT_NE(it, p.end()) << name;
    return *it;
}

bool row_is_zero(const ParamTensor& t, int64_t row) {
    const int64_t width = t.shape.at(1);
    return std::all_of(t.data.begin() + row * width, t.data.begin() + (row + 1) * width, [](float x) { return x == 0.f; });
}

size_t chunk_blob_bytes(const ParamSet& params, const EncodedChunk& enc) {
    ModelBlob b;
    b.side = serialize_side(enc.side);  // a chunk's keyframe: written at five bits
    b.params = params;
    return encode_blob(b).size();
}

}  // namespace

TEST(KeyframeRows, RowsTheChunkNeverUsesAreStoredAsZeros) {
    const EncodedChunk enc = encode_chunk(load_dev_capture("nDPI__netflix.pcap").records, 1);
    FitOptions fo;
    fo.steps = 16;
    const ParamSet kept = fit_keyframe({&enc}, fo).params;
    fo.zero_unused = true;
    const ParamSet zeroed = fit_keyframe({&enc}, fo).params;

    std::set<int64_t> lens;
    for (const PacketTokens& p : enc.packets) lens.insert(p.len);
    ASSERT_GT(lens.size(), 5u);
    ASSERT_LT(lens.size(), static_cast<size_t>(kLenClasses) / 2) << "netflix's lengths leave most classes unused";
    const ParamTensor& in = named(zeroed, "packet.e_len.weight");
    const ParamTensor& out = named(zeroed, "packet.len.lin.weight");
    for (int64_t v = 0; v < kLenClasses; ++v) {
        const bool used = lens.count(v) > 0;
        // Row 0 of a previous-step table pads short segments; the start token is its own row.
        if (v != 0) {
            EXPECT_EQ(row_is_zero(in, v), !used) << "e_len row " << v;
        }
        EXPECT_EQ(row_is_zero(out, v), !used) << "len head row " << v;
    }
    EXPECT_FALSE(row_is_zero(in, kLenClasses)) << "the start token";

    // Only rows change: the same training, every other value as it was. The flow heads keep
    // every row (a keyframe must still serve chunks with other hosts and ports).
    ASSERT_EQ(kept.size(), zeroed.size());
    for (size_t i = 0; i < kept.size(); ++i) {
        ASSERT_EQ(kept[i].name, zeroed[i].name);
        ASSERT_EQ(kept[i].data.size(), zeroed[i].data.size());
        for (size_t k = 0; k < kept[i].data.size(); ++k) {
            if (zeroed[i].data[k] != 0.f) {
                ASSERT_EQ(zeroed[i].data[k], kept[i].data[k]) << kept[i].name;
            }
        }
        if (kept[i].name.starts_with("flow.heads.")) {
            EXPECT_EQ(kept[i].data, zeroed[i].data) << kept[i].name;
        }
    }
    EXPECT_LT(chunk_blob_bytes(zeroed, enc), chunk_blob_bytes(kept, enc) * 85 / 100);
}
