#include "codec/raw_segment.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dgc {
namespace {

constexpr uint8_t kIndexVersion = 1;

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
    std::string out;
    out.reserve(1 + index.frames.size() * 8);
    out.push_back(static_cast<char>(kIndexVersion));
    for (const auto& f : index.frames) {
        put_le(out, f.raw_size, 4);
        put_le(out, f.comp_size, 4);
    }
    return out;
}

Result<RawFrameIndex> decode_frame_index(std::string_view bytes) {
    if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kIndexVersion)
        return Status::corrupt("raw frame index: unknown version or empty");
    if ((bytes.size() - 1) % 8 != 0)
        return Status::corrupt("raw frame index: length " + std::to_string(bytes.size()) + " is not 1 + 8k");
    RawFrameIndex idx;
    uint64_t raw = 0, comp = 0;
    for (size_t p = 1; p < bytes.size(); p += 8) {
        RawFrame f;
        f.raw_size = static_cast<uint32_t>(get_le(bytes.data() + p, 4));
        f.comp_size = static_cast<uint32_t>(get_le(bytes.data() + p + 4, 4));
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
        idx.frames.push_back({raw, comp, static_cast<uint32_t>(rsize), static_cast<uint32_t>(csize)});
        raw += rsize;
        comp += csize;
    }
    return idx;
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
