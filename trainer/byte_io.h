// Little helpers for the compact encodings of blobs and containers: LEB128 varints,
// zig-zag signed values, fixed-width little-endian fields, zstd, crc32.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "codec/crc32.h"

#include "codec/status.h"

namespace dgc::trainer {

class ByteWriter {
public:
    void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u16(uint16_t v) { u8(static_cast<uint8_t>(v)), u8(static_cast<uint8_t>(v >> 8)); }
    void varint(uint64_t v);
    void svarint(int64_t v) { varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
    void u32(uint32_t v);
    void u64(uint64_t v);
    void f32(float v);
    void bytes(std::string_view b) { out_.append(b); }
    void str(std::string_view s) {
        varint(s.size());
        bytes(s);
    }
    std::string& data() { return out_; }

private:
    std::string out_;
};

// Reads what ByteWriter wrote; every read checks bounds and latches a failure instead
// of throwing, so a corrupt blob yields one clear Status at the end.
class ByteReader {
public:
    explicit ByteReader(std::string_view in) : in_(in) {}
    uint8_t u8();
    uint16_t u16() {
        const uint8_t lo = u8();
        return static_cast<uint16_t>(lo | u8() << 8);
    }
    uint64_t varint();
    int64_t svarint() {
        uint64_t z = varint();
        return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
    }
    uint32_t u32();
    uint64_t u64();
    float f32();
    std::string_view bytes(size_t n);
    std::string str() { return std::string(bytes(varint())); }
    bool failed() const { return failed_; }
    bool at_end() const { return pos_ == in_.size(); }
    // A length read from the data, refused when it exceeds what the data could hold.
    uint64_t count(uint64_t max_reasonable);

private:
    std::string_view in_;
    size_t pos_ = 0;
    bool failed_ = false;
};

std::string zstd_compress(std::string_view in, int level);
// `what` names the object in the error message.
Result<std::string> zstd_decompress(std::string_view in, const std::string& what);

using dgc::crc32;  // the one CRC-32 of docs/format.md §2 (codec/crc32.h)

}  // namespace dgc::trainer
