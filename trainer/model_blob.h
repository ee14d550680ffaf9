// The stored form of a model: keyframes (every weight) and chunk deltas (low-rank adapters
// and head-bias differences against a named keyframe), int8 with one scale per row (deltas
// on five bits' worth of levels),
// zstd-compressed, with the chunk's side information. The same bytes go into LMDB and .dgc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "codec/status.h"
#include "trainer/model.h"

namespace dgc::trainer {

enum class BlobKind : uint8_t { kKeyframe = 0, kDelta = 1 };

inline constexpr uint8_t kBlobVersion = 69;  // what encode_blob writes

struct ModelBlob {
    uint8_t version = kBlobVersion;  // as read; encode_blob always writes kBlobVersion
    BlobKind kind = BlobKind::kKeyframe;
    std::string parent_id;  // deltas only
    uint64_t seed = 1;
    int lora_rank = 0;
    std::string side;       // serialize_side(); empty for a base model that generates nothing
    ParamSet params;
};

std::string encode_blob(const ModelBlob& b);
// `what` names the blob in errors (chunk id, file).
Result<ModelBlob> decode_blob(std::string_view bytes, const std::string& what);

// Symmetric quantisation into -levels..levels with one scale (max |x| / levels), stored as
// int8; pure arithmetic.
float quantise(const std::vector<float>& x, std::vector<int8_t>& q, int levels = 127);
void dequantise(const std::vector<int8_t>& q, float scale, std::vector<float>& x);
// Rows quantised with their own scale: the first dimension of a matrix, else one.
size_t quant_rows(const std::vector<int64_t>& shape);

}  // namespace dgc::trainer
