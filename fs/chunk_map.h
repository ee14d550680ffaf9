// Offset -> chunk arithmetic for archive/ files: a 24-byte pcap header followed by
// each chunk's synthesized records, in chunk order, with sizes known before generation.
#pragma once

#include <cstdint>
#include <vector>

namespace dgc::fs {

struct ChunkSlice {
    static constexpr uint32_t kHeader = UINT32_MAX;
    uint32_t chunk = kHeader;  // kHeader: the slice lies in the pcap file header
    uint64_t offset = 0;       // inside the chunk's bytes (or the header)
    uint64_t length = 0;
    uint64_t out_offset = 0;   // where it lands in the caller's buffer
    bool operator==(const ChunkSlice&) const = default;
};

class ChunkMap {
public:
    ChunkMap(uint64_t header_size, const std::vector<uint64_t>& chunk_sizes);
    uint64_t total_size() const { return starts_.back(); }
    // The pieces covering [offset, offset+length) clipped to the file; chunks of size 0 never appear.
    std::vector<ChunkSlice> slices(uint64_t offset, uint64_t length) const;

private:
    uint64_t header_;
    std::vector<uint64_t> starts_;  // starts_[i] = first byte of chunk i; back() = total size
};

}  // namespace dgc::fs
