#include "trainer/dgc_container.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "trainer/byte_io.h"

namespace dgc::trainer {

namespace {
constexpr std::string_view kMagic("DGCF\r\n\x1a\n", 8);
constexpr uint8_t kVersion = 1;

void put_double(ByteWriter& w, double d) { w.u64(std::bit_cast<uint64_t>(d)); }
double get_double(ByteReader& r) { return std::bit_cast<double>(r.u64()); }
}  // namespace

std::string keyframe_chunk_id(size_t chunk) { return "chunk-" + std::to_string(chunk); }

ModelLibrary DgcFile::library() const {
    ModelLibrary lib;
    for (const auto& [id, blob] : keyframes) lib.add(id, blob);
    for (size_t i = 0; i < chunks.size(); ++i)
        if (chunks[i].model.parent_id.empty()) lib.add(keyframe_chunk_id(i), chunks[i].model.blob);
    return lib;
}

std::string serialize_dgc(const DgcFile& f) {
    ByteWriter p;
    p.varint(f.format.linktype);
    p.u8(f.format.nanosecond ? 1 : 0);
    p.varint(f.format.snaplen);
    p.str(f.source);
    p.varint(f.keyframes.size());
    for (const auto& [id, blob] : f.keyframes) p.str(id), p.str(blob);
    p.varint(f.chunks.size());
    for (const auto& c : f.chunks) {
        p.str(c.model.blob);
        p.str(c.model.parent_id);
        p.varint(c.model.packets);
        p.varint(c.model.synth_bytes);
        put_double(p, c.model.fidelity);
        put_double(p, c.model.joint);
        put_double(p, 0.0);  // train_seconds: not recorded, so the same inputs give the same bytes
        p.varint(c.real_packets);
        p.svarint(c.real_t0);
        p.svarint(c.real_t1);
    }
    ByteWriter out;
    out.bytes(kMagic);
    out.u8(kVersion);
    out.u64(p.data().size());
    out.bytes(p.data());
    out.u32(crc32(p.data()));
    return std::move(out.data());
}

Result<DgcFile> parse_dgc(std::string_view bytes, const std::string& what) {
    if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
        return Status::invalid(what + ": not a .dgc file (bad magic)");
    ByteReader h(bytes.substr(kMagic.size()));
    uint8_t version = h.u8();
    uint64_t len = h.u64();
    if (h.failed()) return Status::corrupt(what + ": truncated header");
    if (version != kVersion)
        return Status::unsupported(what + ": .dgc version " + std::to_string(version) + " (this build reads " +
                                   std::to_string(kVersion) + ")");
    const size_t head = kMagic.size() + 9;
    if (bytes.size() != head + len + 4)
        return Status::corrupt(what + ": size " + std::to_string(bytes.size()) + " does not match the header (" +
                               std::to_string(head + len + 4) + "): truncated or padded");
    std::string_view payload = bytes.substr(head, len);
    ByteReader tail(bytes.substr(head + len));
    if (crc32(payload) != tail.u32()) return Status::corrupt(what + ": checksum mismatch (the file is corrupt)");

    ByteReader r(payload);
    DgcFile f;
    f.format.linktype = static_cast<uint32_t>(r.varint());
    f.format.nanosecond = r.u8() != 0;
    f.format.snaplen = static_cast<uint32_t>(r.varint());
    f.source = r.str();
    f.keyframes.resize(r.count(1 << 20));
    for (auto& [id, blob] : f.keyframes) id = r.str(), blob = r.str();
    f.chunks.resize(r.count(1 << 24));
    for (auto& c : f.chunks) {
        c.model.blob = r.str();
        c.model.parent_id = r.str();
        c.model.packets = r.varint();
        c.model.synth_bytes = r.varint();
        c.model.fidelity = get_double(r);
        c.model.joint = get_double(r);
        c.model.train_seconds = get_double(r);
        c.real_packets = r.varint();
        c.real_t0 = r.svarint();
        c.real_t1 = r.svarint();
        if (r.failed()) break;
    }
    if (r.failed() || !r.at_end()) return Status::corrupt(what + ": malformed payload");
    return f;
}

Status write_dgc(const std::string& path, const DgcFile& f) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status::io(path + ": cannot open for writing: " + std::strerror(errno));
    std::string bytes = serialize_dgc(f);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return Status::io(path + ": write failed: " + std::strerror(errno));
    return Status::ok();
}

Result<DgcFile> read_dgc(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io(path + ": cannot open: " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_dgc(ss.str(), path);
}

}  // namespace dgc::trainer
