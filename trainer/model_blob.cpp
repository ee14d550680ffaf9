#include "trainer/model_blob.h"

#include <cmath>

#include "trainer/byte_io.h"

namespace dgc::trainer {

namespace {
constexpr char kMagic[4] = {'D', 'G', 'C', 'M'};
// 2: one quantisation scale per row; 3: side information carries host ids; 4: and the
// count of unranked hosts; 5: a port pool and time buckets on the spec's flow_start grid.
// A base model carries no side information, so its bytes are the same in every version
// from 2 on and any of them is read; a chunk model must be this version.
constexpr uint8_t kVersion = 5;
constexpr int kZstdLevel = 19;
// Quantisation levels either side of zero. A delta is fine-tuned on one chunk and read by
// nothing else, and five bits of it lose no measured fidelity (see BENCHMARKS.md) while
// leaving more of the chunk's bytes to its exact port pool; a keyframe is the parent of
// many chunks and keeps eight.
constexpr int kKeyframeLevels = 127;
constexpr int kDeltaLevels = 15;
}  // namespace

float quantise(const std::vector<float>& x, std::vector<int8_t>& q, int levels) {
    float m = 0;
    for (float v : x) m = std::max(m, std::fabs(v));
    float scale = m > 0 ? m / static_cast<float>(levels) : 1.0f;
    q.resize(x.size());
    for (size_t i = 0; i < x.size(); ++i)
        q[i] = static_cast<int8_t>(std::clamp<long>(std::lround(x[i] / scale), -levels, levels));
    return scale;
}

void dequantise(const std::vector<int8_t>& q, float scale, std::vector<float>& x) {
    x.resize(q.size());
    for (size_t i = 0; i < q.size(); ++i) x[i] = static_cast<float>(q[i]) * scale;
}

size_t quant_rows(const std::vector<int64_t>& shape) {
    if (shape.empty()) return 1;
    size_t numel = 1;
    for (int64_t d : shape) numel *= static_cast<size_t>(std::max<int64_t>(d, 0));
    // Narrow rows (a low-rank factor [out, r]) would spend more on scales than they save.
    const bool per_row = shape.size() >= 2 && numel > 0 && numel / static_cast<size_t>(shape[0]) >= 16;
    return per_row ? static_cast<size_t>(shape[0]) : 1;
}

std::string encode_blob(const ModelBlob& b) {
    ByteWriter w;
    w.u8(static_cast<uint8_t>(b.kind));
    w.str(b.parent_id);
    w.varint(b.seed);
    w.u8(static_cast<uint8_t>(b.lora_rank));
    w.str(b.side);
    w.varint(b.params.size());
    // Tensor bytes go after all the headers so zstd sees long runs of similar values.
    std::string data;
    for (const auto& p : b.params) {
        w.str(p.name);
        w.u8(static_cast<uint8_t>(p.shape.size()));
        for (int64_t d : p.shape) w.varint(static_cast<uint64_t>(d));
        // One scale per row: an outlier row (a frequent token's embedding) must not flatten
        // the others to zero.
        const size_t rows = quant_rows(p.shape), cols = rows ? p.data.size() / rows : 0;
        for (size_t i = 0; i < rows; ++i) {
            std::vector<float> row(p.data.begin() + i * cols, p.data.begin() + (i + 1) * cols);
            std::vector<int8_t> q;
            w.f32(quantise(row, q, b.kind == BlobKind::kDelta ? kDeltaLevels : kKeyframeLevels));
            data.append(reinterpret_cast<const char*>(q.data()), q.size());
        }
    }
    w.bytes(data);
    std::string body = zstd_compress(w.data(), kZstdLevel);
    ByteWriter out;
    out.bytes(std::string_view(kMagic, 4));
    out.u8(kVersion);
    out.u32(crc32(body));
    out.bytes(body);
    return std::move(out.data());
}

Result<ModelBlob> decode_blob(std::string_view bytes, const std::string& what) {
    if (bytes.size() < 9 || bytes.substr(0, 4) != std::string_view(kMagic, 4))
        return Status::corrupt(what + ": not a dgcfs model (bad magic)");
    ByteReader head(bytes.substr(4, 5));
    uint8_t version = head.u8();
    uint32_t crc = head.u32();
    if (version < 2 || version > kVersion)
        return Status::unsupported(what + ": model format version " + std::to_string(version) + " (this build reads " +
                                   std::to_string(kVersion) + ")");
    std::string_view body = bytes.substr(9);
    if (crc32(body) != crc) return Status::corrupt(what + ": model checksum mismatch");
    auto raw = zstd_decompress(body, what);
    if (!raw) return raw.status();
    ByteReader r(*raw);
    ModelBlob b;
    uint8_t kind = r.u8();
    if (kind > 1) return Status::corrupt(what + ": unknown model kind " + std::to_string(kind));
    b.kind = static_cast<BlobKind>(kind);
    b.parent_id = r.str();
    b.seed = r.varint();
    b.lora_rank = r.u8();
    b.side = r.str();
    size_t n = r.count(4096);
    std::vector<std::vector<float>> scales(n);
    b.params.resize(n);
    for (size_t i = 0; i < n && !r.failed(); ++i) {
        auto& p = b.params[i];
        p.name = r.str();
        p.shape.resize(r.count(8));
        for (auto& d : p.shape) d = static_cast<int64_t>(r.count(1u << 24));
        const size_t rows = quant_rows(p.shape);
        if (rows > (1u << 24)) return Status::corrupt(what + ": tensor " + p.name + " is implausibly large");
        for (size_t k = 0; k < rows && !r.failed(); ++k) scales[i].push_back(r.f32());
    }
    for (size_t i = 0; i < n && !r.failed(); ++i) {
        auto& p = b.params[i];
        uint64_t numel = 1;
        for (int64_t d : p.shape) numel *= static_cast<uint64_t>(d);
        if (numel > (1u << 26)) return Status::corrupt(what + ": tensor " + p.name + " is implausibly large");
        const size_t rows = scales[i].size(), cols = rows ? numel / rows : 0;
        auto q = r.bytes(numel);
        if (r.failed()) break;
        p.data.resize(numel);
        for (size_t k = 0; k < rows; ++k) {
            std::vector<int8_t> qi(q.begin() + k * cols, q.begin() + (k + 1) * cols);
            std::vector<float> x;
            dequantise(qi, scales[i][k], x);
            std::copy(x.begin(), x.end(), p.data.begin() + k * cols);
        }
    }
    if (r.failed() || !r.at_end()) return Status::corrupt(what + ": model payload is truncated or malformed");
    if (version != kVersion && !b.side.empty())
        return Status::unsupported(what + ": chunk model format version " + std::to_string(version) +
                                   " (this build reads " + std::to_string(kVersion) + "; compress the trace again)");
    if (b.kind == BlobKind::kDelta && b.parent_id.empty()) return Status::corrupt(what + ": delta without a parent");
    return b;
}

}  // namespace dgc::trainer
