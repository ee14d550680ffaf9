#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "trainer/byte_io.h"
#include "trainer/dgc_container.h"
#include "trainer/model_blob.h"

using namespace dgc;
using namespace dgc::trainer;

static ParamSet some_params() {
    ParamSet ps;
    ParamTensor a{"packet.gap.lora_a", {2, 3}, {0.5f, -0.25f, 0.125f, 0.f, 1e-3f, -0.5f}};
    ParamTensor b{"flow.heads.0.lin.bias", {4}, {3.f, -1.f, 0.f, 2.f}};
    ps.push_back(a);
    ps.push_back(b);
    return ps;
}

TEST(ModelBlob, QuantisationErrorIsWithinHalfAStep) {
    std::vector<float> x = {0.f, 1.f, -2.54f, 0.3f, 1e-6f};
    std::vector<int8_t> q;
    float scale = quantise(x, q);
    std::vector<float> y;
    dequantise(q, scale, y);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_LE(std::fabs(x[i] - y[i]), scale / 2 + 1e-7f);
    EXPECT_FLOAT_EQ(y[2], -2.54f);
}

TEST(ModelBlob, DeltaRoundTrip) {
    ModelBlob b;
    b.kind = BlobKind::kDelta;
    b.parent_id = "base:test";
    b.seed = 42;
    b.lora_rank = 2;
    b.side = "side-bytes";
    b.params = some_params();
    std::string bytes = encode_blob(b);
    auto back = decode_blob(bytes, "t");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->kind, BlobKind::kDelta);
    EXPECT_EQ(back->parent_id, "base:test");
    EXPECT_EQ(back->seed, 42u);
    EXPECT_EQ(back->lora_rank, 2);
    EXPECT_EQ(back->side, "side-bytes");
    ASSERT_EQ(back->params.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(back->params[i].name, b.params[i].name);
        EXPECT_EQ(back->params[i].shape, b.params[i].shape);
        // A delta keeps 15 levels either side of zero: within half a step of the tensor's largest value.
        float top = 0;
        for (float v : b.params[i].data) top = std::max(top, std::fabs(v));
        for (size_t k = 0; k < b.params[i].data.size(); ++k)
            EXPECT_NEAR(back->params[i].data[k], b.params[i].data[k], top / 30 + 1e-6);
    }
    // Encoding what was decoded gives the same bytes: quantisation is idempotent.
    EXPECT_EQ(encode_blob(*back), bytes);
}

TEST(ModelBlob, KeyframesKeepEightBitsAndDeltasFive) {
    ModelBlob b;
    b.params = {{"w", {32}, {}}};
    for (int i = 0; i < 32; ++i) b.params[0].data.push_back(static_cast<float>(i) / 31.0f);
    auto steps = [&](BlobKind kind) {
        b.kind = kind;
        b.parent_id = kind == BlobKind::kDelta ? "base:x" : "";
        auto back = decode_blob(encode_blob(b), "t");
        EXPECT_TRUE(back.ok()) << back.status().message();
        std::set<float> distinct(back->params[0].data.begin(), back->params[0].data.end());
        return distinct.size();
    };
    EXPECT_EQ(steps(BlobKind::kKeyframe), 32u);  // every value its own level
    EXPECT_EQ(steps(BlobKind::kDelta), 16u);     // 0..15
}

// Base models from earlier builds stay usable (they carry no side information); chunk
// models from before the current side format are refused with what to do.
TEST(ModelBlob, OlderBaseModelsAreReadOlderChunkModelsRefused) {
    ModelBlob b;
    b.params = some_params();
    std::string base = encode_blob(b);
    base[4] = 4;
    EXPECT_TRUE(decode_blob(base, "base").ok());
    b.side = "side-bytes";
    std::string chunk = encode_blob(b);
    chunk[4] = 4;
    auto r = decode_blob(chunk, "chunk 7");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("compress the trace again"), std::string::npos) << r.status().message();
    chunk[4] = static_cast<char>(kBlobVersion + 1);  // a format from a later build
    EXPECT_FALSE(decode_blob(chunk, "chunk 7").ok());
}

TEST(ModelBlob, CorruptOrForeignBlobsAreRejected) {
    ModelBlob b;
    b.params = some_params();
    std::string bytes = encode_blob(b);
    std::string flipped = bytes;
    flipped[flipped.size() / 2] ^= 0x40;
    auto r = decode_blob(flipped, "chunk 7");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("chunk 7"), std::string::npos);
    EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
    EXPECT_FALSE(decode_blob("hello world", "x").ok());
    EXPECT_FALSE(decode_blob(bytes.substr(0, bytes.size() - 3), "x").ok());
    ModelBlob delta_without_parent;
    delta_without_parent.kind = BlobKind::kDelta;
    EXPECT_FALSE(decode_blob(encode_blob(delta_without_parent), "x").ok());
}

TEST(DgcContainer, RoundTripAndRejections) {
    DgcFile f;
    f.format.linktype = 101;
    f.format.nanosecond = true;
    f.source = "x.pcap";
    f.keyframes.emplace_back("base:a", "blob-a");
    DgcChunk c;
    c.model.blob = "chunk-blob";
    c.model.parent_id = "base:a";
    c.model.packets = 10;
    c.model.synth_bytes = 1234;
    c.model.fidelity = 0.125;
    c.real_packets = 10;
    f.chunks.push_back(c);
    std::string bytes = serialize_dgc(f);
    auto back = parse_dgc(bytes, "t.dgc");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->format.linktype, 101u);
    EXPECT_TRUE(back->format.nanosecond);
    EXPECT_EQ(back->chunks[0].model.synth_bytes, 1234u);
    EXPECT_DOUBLE_EQ(back->chunks[0].model.fidelity, 0.125);
    EXPECT_NE(back->library().find("base:a"), nullptr);

    std::string corrupt = bytes;
    corrupt[bytes.size() - 10] ^= 1;
    auto r1 = parse_dgc(corrupt, "t.dgc");
    ASSERT_FALSE(r1.ok());
    EXPECT_NE(r1.status().message().find("checksum"), std::string::npos);
    auto r2 = parse_dgc(bytes.substr(0, bytes.size() - 1), "t.dgc");
    ASSERT_FALSE(r2.ok());
    EXPECT_NE(r2.status().message().find("truncated"), std::string::npos);
    auto r3 = parse_dgc(std::string("\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8) + std::string(40, '\0'), "capture.pcap");
    ASSERT_FALSE(r3.ok());
    EXPECT_NE(r3.status().message().find("not a .dgc"), std::string::npos);
    std::string newer = bytes;
    newer[8] = 99;
    EXPECT_EQ(parse_dgc(newer, "t.dgc").status().code(), Status::Code::kUnsupported);
}

TEST(ByteIo, VarintsAndCrc) {
    ByteWriter w;
    w.varint(0), w.varint(300), w.svarint(-5), w.svarint(1ll << 40), w.u32(0xdeadbeef);
    ByteReader r(w.data());
    EXPECT_EQ(r.varint(), 0u);
    EXPECT_EQ(r.varint(), 300u);
    EXPECT_EQ(r.svarint(), -5);
    EXPECT_EQ(r.svarint(), 1ll << 40);
    EXPECT_EQ(r.u32(), 0xdeadbeefu);
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(r.u8(), 0);
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(crc32("123456789"), 0xcbf43926u);  // the standard check value
}
