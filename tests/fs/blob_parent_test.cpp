// Renaming a delta's parent (export and import move models between containers whose
// library ids differ): only the parent field changes; the version byte, seed, side and
// every tensor value survive, so the model regenerates what it did.
#include <gtest/gtest.h>

#include "trainer/blob_parent.h"
#include "trainer/byte_io.h"
#include "trainer/model_blob.h"

namespace dgc::trainer {
namespace {

ModelBlob delta() {
    ModelBlob b;
    b.kind = BlobKind::kDelta;
    b.parent_id = "t12c0";
    b.seed = 77;
    b.lora_rank = 17;
    b.side = std::string("side\0bytes", 10);
    b.params.push_back({"packet.gap.lora_a", {2, 3}, {0.5f, -0.25f, 0.125f, 0.f, 1e-3f, -0.5f}});
    b.params.push_back({"flow.heads.0.lin.bias", {4}, {3.f, -1.f, 0.f, 2.f}});
    return b;
}

void expect_same_model(const ModelBlob& a, const ModelBlob& b) {
    EXPECT_EQ(a.version, b.version);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.lora_rank, b.lora_rank);
    EXPECT_EQ(a.side, b.side);
    ASSERT_EQ(a.params.size(), b.params.size());
    for (size_t i = 0; i < a.params.size(); ++i) {
        EXPECT_EQ(a.params[i].name, b.params[i].name);
        EXPECT_EQ(a.params[i].shape, b.params[i].shape);
        EXPECT_EQ(a.params[i].data, b.params[i].data);  // bit for bit, not approximately
    }
}

TEST(BlobParent, RenamesOnlyTheParent) {
    const std::string blob = encode_blob(delta());
    auto before = decode_blob(blob, "before");
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(*blob_parent(blob, "b"), "t12c0");
    for (const std::string& parent : std::vector<std::string>{"chunk-0", "a-much-longer-library-id-than-before:" + std::string(200, 'x')}) {
        auto moved = with_parent(blob, parent, "blob");
        ASSERT_TRUE(moved.ok()) << moved.status().message();
        auto after = decode_blob(*moved, "after");
        ASSERT_TRUE(after.ok()) << after.status().message();
        EXPECT_EQ(after->parent_id, parent);
        expect_same_model(*before, *after);
        // And back: the same compressed bytes as the original (same body, same zstd level).
        auto back = with_parent(*moved, "t12c0", "blob");
        ASSERT_TRUE(back.ok());
        EXPECT_EQ(*back, blob);
    }
}

TEST(BlobParent, KeepsTheBlobsOwnVersion) {
    // A format-5 delta must stay format 5: its side is parsed, and regenerated, as 5.
    std::string blob = encode_blob(delta());
    blob[4] = 5;  // the version byte is outside the CRC, which covers the body only
    auto moved = with_parent(blob, "chunk-3", "v5");
    ASSERT_TRUE(moved.ok()) << moved.status().message();
    EXPECT_EQ((*moved)[4], 5);
    auto after = decode_blob(*moved, "v5");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->version, 5);
    EXPECT_EQ(after->parent_id, "chunk-3");
}

TEST(BlobParent, RefusesKeyframesEmptyIdsAndDamage) {
    ModelBlob k = delta();
    k.kind = BlobKind::kKeyframe;
    k.parent_id.clear();
    const std::string key = encode_blob(k);
    EXPECT_EQ(*blob_parent(key, "k"), "");
    EXPECT_FALSE(with_parent(key, "chunk-0", "k").ok());
    const std::string blob = encode_blob(delta());
    EXPECT_FALSE(with_parent(blob, "", "d").ok());
    std::string bad = blob;
    bad[bad.size() - 3] ^= 1;
    auto r = with_parent(bad, "chunk-0", "damaged");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("damaged: model checksum mismatch"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace dgc::trainer
