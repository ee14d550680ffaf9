// archive/ reads: map an offset to the chunks it touches, generate only those, and keep
// recently generated chunk bytes in an LRU cache. Generation is deterministic, so the
// cache is only a speed-up: evicting and regenerating yields the same bytes (invariant 3).
// Read-ahead threads generate the chunks after the one a reader is in, each on its own
// core, so a sequential reader waits on several generations at once instead of one by one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

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

// The chunks to generate ahead of a reader in chunk `current` of a file whose chunks hold
// `sizes` bytes: the next kAheadPerThread per read-ahead thread, as far as their bytes stay
// within `budget` (the next `threads` whatever their size). Chunks differ in size: while the
// reader waits on a large one, a thread that finished a small one goes on with the next
// instead of idling (the changing bench-ingest capture, 4.6K- to 48K-packet hours, read
// cold: median 1.60 s with one chunk per thread, 1.45 s with three; BENCHMARKS.md).
inline constexpr unsigned kAheadPerThread = 3;
std::vector<uint32_t> chunks_ahead(uint32_t current, std::span<const uint64_t> sizes, unsigned threads, uint64_t budget);

class ArchiveCache {
public:
    // `ahead`: threads generating chunks ahead of a reader (0: none), within half of
    // `max_bytes`.
    ArchiveCache(Catalog& catalog, LibraryHolder& library, size_t max_bytes, unsigned ahead = 0);
    ~ArchiveCache();

    // Fails unless every chunk of the trace has a committed model.
    Result<std::shared_ptr<const ArchiveFile>> open(uint64_t trace);
    Result<size_t> read(const std::shared_ptr<const ArchiveFile>& f, uint64_t offset, std::span<char> out);
    size_t cached_bytes() const;

private:
    using Key = std::pair<uint64_t, uint32_t>;
    using Bytes = std::shared_ptr<const std::string>;
    Result<Bytes> chunk_bytes(const ArchiveFile& f, uint32_t chunk);
    Result<Bytes> generate(const ArchiveFile& f, uint32_t chunk);
    void insert(const Key& k, Bytes b);
    void schedule_ahead(const std::shared_ptr<const ArchiveFile>& f, uint32_t current);
    void read_ahead_loop();

    Catalog& catalog_;
    LibraryHolder& library_;
    size_t max_bytes_;
    mutable std::mutex mu_;
    std::list<std::pair<Key, Bytes>> lru_;  // front = most recent
    std::map<Key, std::list<std::pair<Key, Bytes>>::iterator> index_;
    std::map<Key, std::shared_future<Result<Bytes>>> inflight_;  // one generation per chunk at a time
    size_t bytes_ = 0;
    // Read-ahead: chunks waiting for a thread (guarded by mu_), the threads.
    const unsigned ahead_;
    std::deque<std::pair<std::shared_ptr<const ArchiveFile>, uint32_t>> queue_;
    std::condition_variable queue_cv_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace dgc::fs
