#include "codec/raw_segment.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "codec/crc32.h"

namespace dgc {
namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_le(const char* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<uint8_t>(p[i])) << (8 * i);
    return v;
}

Status write_all(int fd, const std::string& path, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return Status::io(path + ": write failed: " + std::strerror(errno));
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

}  // namespace

std::string encode_frame_index(const RawFrameIndex& index) {
    // Offsets are prefix sums of the sizes, so only sizes are stored.
    const bool v2 = index.checksummed();
    std::string out;
    out.reserve(1 + index.frames.size() * (v2 ? 12 : 8) + (v2 ? 4 : 0));
    out.push_back(static_cast<char>(v2 ? kRawIndexVersion : 1));
    for (const auto& f : index.frames) {
        put_le(out, f.raw_size, 4);
        put_le(out, f.comp_size, 4);
        if (v2) put_le(out, f.crc, 4);
    }
    if (v2) put_le(out, crc32(out), 4);
    return out;
}

Result<RawFrameIndex> decode_frame_index(std::string_view bytes) {
    if (bytes.empty()) return Status::corrupt("raw frame index: empty");
    const uint8_t version = static_cast<uint8_t>(bytes[0]);
    if (version == 0) return Status::corrupt("raw frame index: version 0 is not a version");
    if (version > kRawIndexVersion)
        return Status::unsupported("raw frame index version " + std::to_string(version) + " (this build reads 1 to " +
                                   std::to_string(kRawIndexVersion) + ")");
    const size_t per_frame = version == 1 ? 8 : 12, trailer = version == 1 ? 0 : 4;
    if (bytes.size() < 1 + trailer || (bytes.size() - 1 - trailer) % per_frame != 0)
        return Status::corrupt("raw frame index v" + std::to_string(version) + ": length " +
                               std::to_string(bytes.size()) + " is not " + std::to_string(1 + trailer) + " + " +
                               std::to_string(per_frame) + "k");
    const size_t body = bytes.size() - trailer;
    if (trailer && get_le(bytes.data() + body, 4) != crc32(bytes.substr(0, body)))
        return Status::corrupt("raw frame index v2: checksum mismatch (the index is damaged)");
    RawFrameIndex idx;
    idx.version = version;
    uint64_t raw = 0, comp = 0;
    for (size_t p = 1; p < body; p += per_frame) {
        RawFrame f;
        f.raw_size = static_cast<uint32_t>(get_le(bytes.data() + p, 4));
        f.comp_size = static_cast<uint32_t>(get_le(bytes.data() + p + 4, 4));
        if (version >= 2) f.crc = static_cast<uint32_t>(get_le(bytes.data() + p + 8, 4));
        f.raw_offset = raw;
        f.comp_offset = comp;
        raw += f.raw_size;
        comp += f.comp_size;
        idx.frames.push_back(f);
    }
    return idx;
}

std::pair<size_t, size_t> frames_for_range(const RawFrameIndex& index, uint64_t offset, uint64_t length) {
    const uint64_t size = index.raw_size();
    if (length == 0 || offset >= size) return {0, 0};
    const uint64_t end = std::min(size, offset + length);
    auto after = [](uint64_t off, const RawFrame& f) { return off < f.raw_offset + f.raw_size; };
    size_t first = std::upper_bound(index.frames.begin(), index.frames.end(), offset,
                                    [&](uint64_t off, const RawFrame& f) { return after(off, f); }) -
                   index.frames.begin();
    size_t last = std::upper_bound(index.frames.begin(), index.frames.end(), end - 1,
                                   [&](uint64_t off, const RawFrame& f) { return after(off, f); }) -
                  index.frames.begin();
    return {first, last + 1};
}

std::string compress_frame(std::string_view raw, int level) {
    std::string out(ZSTD_compressBound(raw.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
    // ZSTD_compress only fails on a too-small destination, which compressBound rules out.
    out.resize(ZSTD_isError(n) ? 0 : n);
    return out;
}

Result<std::string> decompress_frame(std::string_view comp, uint32_t raw_size) {
    std::string out(raw_size, '\0');
    size_t n = ZSTD_decompress(out.data(), out.size(), comp.data(), comp.size());
    if (ZSTD_isError(n)) return Status::corrupt(std::string("zstd frame: ") + ZSTD_getErrorName(n));
    if (n != raw_size)
        return Status::corrupt("zstd frame: " + std::to_string(n) + " bytes, index says " + std::to_string(raw_size));
    return out;
}

Result<RawFrameIndex> scan_frame_index(std::string_view segment) {
    RawFrameIndex idx;
    uint64_t raw = 0, comp = 0;
    while (comp < segment.size()) {
        std::string_view rest = segment.substr(comp);
        size_t csize = ZSTD_findFrameCompressedSize(rest.data(), rest.size());
        if (ZSTD_isError(csize))
            return Status::corrupt("raw segment: bad frame at byte " + std::to_string(comp) + ": " +
                                   ZSTD_getErrorName(csize));
        unsigned long long rsize = ZSTD_getFrameContentSize(rest.data(), rest.size());
        if (rsize == ZSTD_CONTENTSIZE_ERROR || rsize == ZSTD_CONTENTSIZE_UNKNOWN)
            return Status::corrupt("raw segment: frame at byte " + std::to_string(comp) + " has no content size");
        idx.frames.push_back({raw, comp, static_cast<uint32_t>(rsize), static_cast<uint32_t>(csize),
                              crc32(rest.substr(0, csize))});
        raw += rsize;
        comp += csize;
    }
    return idx;
}

namespace {

std::string frame_name(size_t k, const RawFrame& f) {
    return "frame " + std::to_string(k) + " (segment bytes " + std::to_string(f.comp_offset) + ".." +
           std::to_string(f.comp_offset + f.comp_size) + ")";
}

}  // namespace

std::vector<std::string> verify_segment(const RawFrameIndex& index, std::string_view segment) {
    std::vector<std::string> out;
    if (segment.size() != index.stored_size())
        out.push_back("segment is " + std::to_string(segment.size()) + " bytes, index says " +
                      std::to_string(index.stored_size()));
    // The frame headers describe the file independently of the catalog: they must agree.
    if (auto scanned = scan_frame_index(segment); !scanned) {
        out.push_back(scanned.status().message());
    } else if (scanned->frames.size() != index.frames.size()) {
        out.push_back("segment holds " + std::to_string(scanned->frames.size()) + " frames, index says " +
                      std::to_string(index.frames.size()));
    } else {
        for (size_t k = 0; k < index.frames.size(); ++k) {
            const RawFrame &a = scanned->frames[k], &b = index.frames[k];
            if (a.raw_size != b.raw_size || a.comp_size != b.comp_size)
                out.push_back(frame_name(k, b) + ": its header says " + std::to_string(a.raw_size) + " bytes in " +
                              std::to_string(a.comp_size) + ", index says " + std::to_string(b.raw_size) + " in " +
                              std::to_string(b.comp_size));
        }
    }
    for (size_t k = 0; k < index.frames.size(); ++k) {
        const RawFrame& f = index.frames[k];
        if (f.comp_offset + f.comp_size > segment.size()) {
            out.push_back(frame_name(k, f) + ": past the end of the segment");
            continue;
        }
        const std::string_view comp = segment.substr(f.comp_offset, f.comp_size);
        if (index.checksummed()) {
            if (uint32_t got = crc32(comp); got != f.crc) {
                char buf[64];
                std::snprintf(buf, sizeof buf, ": CRC-32 %08x, index says %08x", got, f.crc);
                out.push_back(frame_name(k, f) + buf);
                continue;
            }
        }
        if (auto raw = decompress_frame(comp, f.raw_size); !raw) out.push_back(frame_name(k, f) + ": " + raw.status().message());
    }
    return out;
}

// --- writer ---

RawSegmentWriter::RawSegmentWriter(std::string path, int fd, uint32_t frame_size, int level)
    : path_(std::move(path)), fd_(fd), frame_size_(frame_size), level_(level) {}

RawSegmentWriter::RawSegmentWriter(RawSegmentWriter&& o) noexcept
    : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), frame_size_(o.frame_size_), level_(o.level_),
      pending_(std::move(o.pending_)), index_(std::move(o.index_)) {}

RawSegmentWriter::~RawSegmentWriter() {
    if (fd_ >= 0) ::close(fd_);
}

Result<RawSegmentWriter> RawSegmentWriter::create(const std::string& path, uint32_t frame_size, int level) {
    if (frame_size == 0) return Status::invalid(path + ": frame size must be positive");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io(path + ": cannot create raw segment: " + std::strerror(errno));
    return RawSegmentWriter(path, fd, frame_size, level);
}

Status RawSegmentWriter::flush_frame() {
    if (pending_.empty()) return {};
    std::string comp = compress_frame(pending_, level_);
    if (comp.empty()) return Status::internal(path_ + ": zstd compression failed");
    RawFrame f;
    f.raw_offset = index_.raw_size();
    f.comp_offset = index_.stored_size();
    f.raw_size = static_cast<uint32_t>(pending_.size());
    f.comp_size = static_cast<uint32_t>(comp.size());
    f.crc = crc32(comp);
    if (auto st = write_all(fd_, path_, comp); !st) return st;
    index_.frames.push_back(f);
    pending_.clear();
    return {};
}

Status RawSegmentWriter::append(std::string_view bytes) {
    if (fd_ < 0) return Status::internal(path_ + ": append after finish");
    while (!bytes.empty()) {
        size_t take = std::min<size_t>(bytes.size(), frame_size_ - pending_.size());
        pending_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (pending_.size() == frame_size_)
            if (auto st = flush_frame(); !st) return st;
    }
    return {};
}

Result<RawFrameIndex> RawSegmentWriter::finish() {
    if (fd_ < 0) return Status::internal(path_ + ": finish called twice");
    if (auto st = flush_frame(); !st) return st;
    if (::fsync(fd_) != 0) return Status::io(path_ + ": fsync failed: " + std::strerror(errno));
    ::close(std::exchange(fd_, -1));
    return index_;
}

// --- reader ---

RawSegmentReader::RawSegmentReader(std::string path, int fd, RawFrameIndex index)
    : path_(std::move(path)), fd_(fd), index_(std::move(index)) {}

RawSegmentReader::RawSegmentReader(RawSegmentReader&& o) noexcept
    : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), index_(std::move(o.index_)), cached_(o.cached_),
      frame_(std::move(o.frame_)) {}

RawSegmentReader::~RawSegmentReader() {
    if (fd_ >= 0) ::close(fd_);
}

Result<RawSegmentReader> RawSegmentReader::open(const std::string& path, RawFrameIndex index) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::io(path + ": cannot open raw segment: " + std::strerror(errno));
    return RawSegmentReader(path, fd, std::move(index));
}

Status RawSegmentReader::load_frame(size_t n) {
    if (cached_ == n) return {};
    const RawFrame& f = index_.frames[n];
    std::string comp(f.comp_size, '\0');
    size_t got = 0;
    while (got < comp.size()) {
        ssize_t r = ::pread(fd_, comp.data() + got, comp.size() - got, static_cast<off_t>(f.comp_offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return Status::io(path_ + ": frame " + std::to_string(n) + " unreadable at byte " +
                              std::to_string(f.comp_offset + got) + (r < 0 ? std::string(": ") + std::strerror(errno)
                                                                            : std::string(": file too short")));
        got += static_cast<size_t>(r);
    }
    // Without this a damaged byte could still decompress: retention/ must read back exact or fail.
    if (index_.checksummed() && crc32(comp) != f.crc)
        return Status::corrupt(path_ + ": frame " + std::to_string(n) + " at byte " + std::to_string(f.comp_offset) +
                               ": checksum mismatch (the raw segment is damaged)");
    auto raw = decompress_frame(comp, f.raw_size);
    if (!raw) return Status::corrupt(path_ + ": frame " + std::to_string(n) + ": " + raw.status().message());
    frame_ = std::move(raw.value());
    cached_ = n;
    return {};
}

Result<size_t> RawSegmentReader::read(uint64_t offset, std::span<char> out) {
    auto [first, last] = frames_for_range(index_, offset, out.size());
    size_t copied = 0;
    for (size_t n = first; n < last; ++n) {
        if (auto st = load_frame(n); !st) return st;
        const RawFrame& f = index_.frames[n];
        uint64_t pos = offset + copied;
        uint64_t in_frame = pos - f.raw_offset;
        size_t take = std::min<uint64_t>(f.raw_size - in_frame, out.size() - copied);
        std::memcpy(out.data() + copied, frame_.data() + in_frame, take);
        copied += take;
    }
    return copied;
}

Result<RawFrameIndex> write_raw_segment(const std::string& source_path, const std::string& segment_path,
                                        uint32_t frame_size, int level) {
    int fd = ::open(source_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::io(source_path + ": cannot open for segmenting: " + std::strerror(errno));
    auto w = RawSegmentWriter::create(segment_path, frame_size, level);
    if (!w) {
        ::close(fd);
        return w.status();
    }
    std::string buf(1 << 20, '\0');
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            Status st = Status::io(source_path + ": read failed: " + std::strerror(errno));
            ::close(fd);
            return st;
        }
        if (n == 0) break;
        if (auto st = w->append(std::string_view(buf.data(), static_cast<size_t>(n))); !st) {
            ::close(fd);
            return st;
        }
    }
    ::close(fd);
    return w->finish();
}

}  // namespace dgc
