// archive/ reads: map an offset to the chunks it touches, generate only those, and keep
// recently generated chunk bytes in an LRU cache. Generation is deterministic, so the
// cache is only a speed-up: evicting and regenerating yields the same bytes (invariant 3).
#pragma once

#include <cstdint>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "codec/capture_writer.h"
#include "fs/catalog.h"
#include "fs/chunk_map.h"
#include "fs/library_holder.h"

namespace dgc::fs {

struct ArchiveFile {
    uint64_t trace = 0;
    PcapFormat fmt;
    std::string header;  // the 24-byte pcap file header
    ChunkMap map{24, {}};
    std::vector<uint64_t> chunk_sizes;
};

class ArchiveCache {
public:
    ArchiveCache(Catalog& catalog, LibraryHolder& library, size_t max_bytes)
        : catalog_(catalog), library_(library), max_bytes_(max_bytes) {}

    // Fails unless every chunk of the trace has a committed model.
    Result<std::shared_ptr<const ArchiveFile>> open(uint64_t trace);
    Result<size_t> read(const ArchiveFile& f, uint64_t offset, std::span<char> out);
    size_t cached_bytes() const;

private:
    using Key = std::pair<uint64_t, uint32_t>;
    using Bytes = std::shared_ptr<const std::string>;
    Result<Bytes> chunk_bytes(const ArchiveFile& f, uint32_t chunk);
    Result<Bytes> generate(const ArchiveFile& f, uint32_t chunk);
    void insert(const Key& k, Bytes b);

    Catalog& catalog_;
    LibraryHolder& library_;
    size_t max_bytes_;
    mutable std::mutex mu_;
    std::list<std::pair<Key, Bytes>> lru_;  // front = most recent
    std::map<Key, std::list<std::pair<Key, Bytes>>::iterator> index_;
    std::map<Key, std::shared_future<Result<Bytes>>> inflight_;  // one generation per chunk at a time
    size_t bytes_ = 0;
};

}  // namespace dgc::fs
