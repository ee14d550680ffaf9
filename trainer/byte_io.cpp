#include "trainer/byte_io.h"

#include <zstd.h>

#include <array>
#include <cstring>

namespace dgc::trainer {

void ByteWriter::varint(uint64_t v) {
    while (v >= 0x80) {
        out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
}

void ByteWriter::u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void ByteWriter::u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void ByteWriter::f32(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    u32(u);
}

uint8_t ByteReader::u8() {
    if (pos_ >= in_.size()) {
        failed_ = true;
        return 0;
    }
    return static_cast<uint8_t>(in_[pos_++]);
}

uint64_t ByteReader::varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = u8();
        if (failed_) return 0;
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    failed_ = true;
    return 0;
}

uint32_t ByteReader::u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(u8()) << (8 * i);
    return v;
}

uint64_t ByteReader::u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
}

float ByteReader::f32() {
    uint32_t u = u32();
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

std::string_view ByteReader::bytes(size_t n) {
    if (failed_ || n > in_.size() - pos_) {
        failed_ = true;
        return {};
    }
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
}

uint64_t ByteReader::count(uint64_t max_reasonable) {
    uint64_t n = varint();
    if (n > max_reasonable) {
        failed_ = true;
        return 0;
    }
    return n;
}

std::string zstd_compress(std::string_view in, int level) {
    std::string out(ZSTD_compressBound(in.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
    out.resize(ZSTD_isError(n) ? 0 : n);
    return out;
}

Result<std::string> zstd_decompress(std::string_view in, const std::string& what) {
    unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 31))
        return Status::corrupt(what + ": compressed section is not a valid zstd frame");
    std::string out(size, '\0');
    size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(n) || n != size)
        return Status::corrupt(what + ": zstd section does not decompress (" +
                               std::string(ZSTD_getErrorName(n)) + ")");
    return out;
}

}  // namespace dgc::trainer
