#include "fs/chunk_map.h"

#include <algorithm>

namespace dgc::fs {

ChunkMap::ChunkMap(uint64_t header_size, const std::vector<uint64_t>& chunk_sizes) : header_(header_size) {
    starts_.reserve(chunk_sizes.size() + 1);
    uint64_t pos = header_size;
    for (uint64_t s : chunk_sizes) {
        starts_.push_back(pos);
        pos += s;
    }
    starts_.push_back(pos);
}

std::vector<ChunkSlice> ChunkMap::slices(uint64_t offset, uint64_t length) const {
    std::vector<ChunkSlice> out;
    const uint64_t end = std::min(total_size(), offset + length);
    uint64_t pos = offset;
    if (pos < header_ && pos < end) {
        uint64_t take = std::min(header_, end) - pos;
        out.push_back({ChunkSlice::kHeader, pos, take, 0});
        pos += take;
    }
    if (pos >= end) return out;
    // The last chunk whose start is <= pos; empty chunks share a start with their successor
    // and upper_bound skips past them.
    size_t i = size_t(std::upper_bound(starts_.begin(), starts_.end() - 1, pos) - starts_.begin()) - 1;
    for (; pos < end && i + 1 < starts_.size(); ++i) {
        uint64_t chunk_end = starts_[i + 1];
        if (chunk_end <= pos) continue;
        uint64_t take = std::min(chunk_end, end) - pos;
        out.push_back({uint32_t(i), pos - starts_[i], take, pos - offset});
        pos += take;
    }
    return out;
}

}  // namespace dgc::fs
