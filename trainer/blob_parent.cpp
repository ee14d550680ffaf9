#include "trainer/blob_parent.h"

#include "trainer/byte_io.h"
#include "trainer/model_blob.h"

namespace dgc::trainer {

namespace {
constexpr size_t kHeader = 9;   // magic, version, CRC (docs/format.md §6.1)
constexpr int kZstdLevel = 19;  // what encode_blob uses
}  // namespace

Result<std::string> blob_parent(std::string_view blob, const std::string& what) {
    auto b = decode_blob(blob, what);
    if (!b) return b.status();
    return b->kind == BlobKind::kDelta ? b->parent_id : std::string();
}

Result<std::string> with_parent(std::string_view blob, const std::string& parent, const std::string& what) {
    // Decoding first refuses what this build cannot read, so only a valid body is rewritten.
    auto decoded = decode_blob(blob, what);
    if (!decoded) return decoded.status();
    if (decoded->kind != BlobKind::kDelta) return Status::invalid(what + ": a keyframe names no parent to rename");
    if (parent.empty()) return Status::invalid(what + ": a delta needs a parent id");
    auto body = zstd_decompress(blob.substr(kHeader), what);
    if (!body) return body.status();
    // The body opens with the kind byte and the parent as a `str` (varint length, bytes).
    const std::string_view b(*body);
    size_t pos = 1;
    uint64_t len = 0;
    for (int shift = 0; pos < b.size() && shift < 64; shift += 7) {
        const auto byte = static_cast<uint8_t>(b[pos++]);
        len |= uint64_t(byte & 0x7f) << shift;
        if (!(byte & 0x80)) break;
    }
    if (len != decoded->parent_id.size() || pos + len > b.size())
        return Status::corrupt(what + ": model body does not open with its parent id");
    const uint8_t kind = static_cast<uint8_t>(b[0]);
    const size_t tail = pos + len;
    ByteWriter w;
    w.u8(kind);
    w.str(parent);
    w.bytes(b.substr(tail));
    std::string packed = zstd_compress(w.data(), kZstdLevel);
    ByteWriter out;
    out.bytes(blob.substr(0, 5));  // magic and the blob's own version
    out.u32(crc32(packed));
    out.bytes(packed);
    auto check = decode_blob(out.data(), what);
    if (!check || check->parent_id != parent || check->seed != decoded->seed || check->side != decoded->side ||
        check->params.size() != decoded->params.size())
        return Status::internal(what + ": renaming the parent did not round-trip");
    return std::move(out.data());
}

}  // namespace dgc::trainer
