// Raw segment framing: a trace's original bytes stored as independent zstd frames
// plus a frame index (kept in the catalog), so any byte range reads back by
// decompressing only the frames it touches.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/status.h"

namespace dgc {

struct RawFrame {
    uint64_t raw_offset = 0;   // where the frame's bytes start in the original file
    uint64_t comp_offset = 0;  // where the compressed frame starts in the segment file
    uint32_t raw_size = 0;
    uint32_t comp_size = 0;
    uint32_t crc = 0;          // CRC-32 of the compressed frame; 0 (meaningless) in a v1 index
    bool operator==(const RawFrame&) const = default;
};

// Version 2 stores a CRC-32 per frame and one over the index; version 1 (read only) has none.
inline constexpr uint8_t kRawIndexVersion = 2;

struct RawFrameIndex {
    uint8_t version = kRawIndexVersion;  // as read; a writer's index is always the current version
    std::vector<RawFrame> frames;
    bool checksummed() const { return version >= 2; }
    uint64_t raw_size() const { return frames.empty() ? 0 : frames.back().raw_offset + frames.back().raw_size; }
    uint64_t stored_size() const {
        return frames.empty() ? 0 : frames.back().comp_offset + frames.back().comp_size;
    }
    bool operator==(const RawFrameIndex&) const = default;
};

// The catalog's `frames` value (docs/format.md §5.2), little-endian, in the index's own
// version: v2 = version byte, 12 bytes per frame (sizes, CRC), CRC-32 of all that; v1 =
// version byte, 8 bytes per frame. Decoding refuses versions newer than this build.
std::string encode_frame_index(const RawFrameIndex& index);
Result<RawFrameIndex> decode_frame_index(std::string_view bytes);

// Half-open range [first, last) of frame numbers covering bytes [offset, offset+length)
// of the original file, clipped to its size. Empty when nothing overlaps.
std::pair<size_t, size_t> frames_for_range(const RawFrameIndex& index, uint64_t offset, uint64_t length);

// Pure helpers over one frame.
std::string compress_frame(std::string_view raw, int level);
Result<std::string> decompress_frame(std::string_view comp, uint32_t raw_size);

// Rebuilds the index from a segment file's bytes alone (each frame carries its sizes),
// for verification and recovery when a catalog row is suspect. CRCs are of the bytes as found.
Result<RawFrameIndex> scan_frame_index(std::string_view segment);

// Every way `segment` disagrees with `index`, one line each naming the frame and its bytes:
// total size, frame boundaries (against scan_frame_index), each frame's CRC (v2 only) and
// that it decompresses to its recorded size. Empty when the segment is intact.
std::vector<std::string> verify_segment(const RawFrameIndex& index, std::string_view segment);

// Appends bytes, cutting a frame every `frame_size` bytes; finish() flushes the tail,
// fsyncs the file and returns the index.
class RawSegmentWriter {
public:
    static constexpr uint32_t kDefaultFrameSize = 256 * 1024;
    static Result<RawSegmentWriter> create(const std::string& path, uint32_t frame_size = kDefaultFrameSize,
                                           int level = 3);
    RawSegmentWriter(RawSegmentWriter&& o) noexcept;
    RawSegmentWriter& operator=(RawSegmentWriter&&) = delete;
    ~RawSegmentWriter();

    Status append(std::string_view bytes);
    Result<RawFrameIndex> finish();

private:
    RawSegmentWriter(std::string path, int fd, uint32_t frame_size, int level);
    Status flush_frame();
    std::string path_;
    int fd_ = -1;
    uint32_t frame_size_;
    int level_;
    std::string pending_;
    RawFrameIndex index_;
};

// Reads byte ranges of the original file. Keeps the last decompressed frame, because
// sequential readers (cp, tcpdump) ask for many small ranges inside one frame.
// Not thread-safe: one reader per open handle.
class RawSegmentReader {
public:
    static Result<RawSegmentReader> open(const std::string& path, RawFrameIndex index);
    RawSegmentReader(RawSegmentReader&& o) noexcept;
    RawSegmentReader& operator=(RawSegmentReader&&) = delete;
    ~RawSegmentReader();

    uint64_t size() const { return index_.raw_size(); }
    // Fills `out` from `offset`; returns bytes copied (short only at end of file).
    Result<size_t> read(uint64_t offset, std::span<char> out);

private:
    RawSegmentReader(std::string path, int fd, RawFrameIndex index);
    Status load_frame(size_t n);
    std::string path_;
    int fd_ = -1;
    RawFrameIndex index_;
    size_t cached_ = SIZE_MAX;
    std::string frame_;
};

// Convenience: segments a whole file (staging) into `segment_path`.
Result<RawFrameIndex> write_raw_segment(const std::string& source_path, const std::string& segment_path,
                                        uint32_t frame_size = RawSegmentWriter::kDefaultFrameSize, int level = 3);

}  // namespace dgc
