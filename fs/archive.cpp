#include "fs/archive.h"

#include <cstring>
#include <tuple>

#include "codec/log.h"
#include "trainer/pipeline.h"

namespace dgc::fs {

std::vector<uint32_t> chunks_ahead(uint32_t current, std::span<const uint64_t> sizes, unsigned threads, uint64_t budget) {
    std::vector<uint32_t> out;
    uint64_t bytes = 0;
    for (uint64_t c = uint64_t(current) + 1; c < sizes.size() && out.size() < kAheadPerThread * threads; ++c) {
        bytes += sizes[c];
        if (out.size() >= threads && bytes > budget) break;
        out.push_back(uint32_t(c));
    }
    return out;
}

ArchiveCache::ArchiveCache(Catalog& catalog, LibraryHolder& library, size_t max_bytes, unsigned ahead)
    : catalog_(catalog), library_(library), max_bytes_(max_bytes), ahead_(ahead) {
    for (unsigned i = 0; i < ahead_; ++i) threads_.emplace_back([this] { read_ahead_loop(); });
}

ArchiveCache::~ArchiveCache() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
        queue_.clear();
    }
    queue_cv_.notify_all();
    for (auto& t : threads_) t.join();
}

Result<std::shared_ptr<const ArchiveFile>> ArchiveCache::open(uint64_t trace) {
    std::optional<TraceRow> t;
    std::vector<ChunkRow> chunks;
    auto st = catalog_.env().read([&](Txn& x) {
        t = get_trace(x, trace);
        if (t) chunks = get_chunks(x, trace);
    });
    if (!st) return st;
    if (!t || !all_modelled(*t)) return Status::not_found("trace " + std::to_string(trace) + " is not fully modelled");
    auto f = std::make_shared<ArchiveFile>();
    f->trace = trace;
    f->fmt.linktype = t->out_linktype;
    f->fmt.nanosecond = t->nanosecond;
    f->header = pcap_file_header(f->fmt);
    for (const auto& c : chunks) f->chunk_sizes.push_back(c.synth_bytes);
    f->map = ChunkMap(f->header.size(), f->chunk_sizes);
    if (f->map.total_size() != t->synth_size)
        return Status::corrupt(t->path + ": chunk sizes add up to " + std::to_string(f->map.total_size()) +
                               " bytes, catalog says " + std::to_string(t->synth_size));
    return std::shared_ptr<const ArchiveFile>(std::move(f));
}

Result<size_t> ArchiveCache::read(const std::shared_ptr<const ArchiveFile>& f, uint64_t offset, std::span<char> out) {
    size_t done = 0;
    for (const auto& s : f->map.slices(offset, out.size())) {
        if (s.chunk == ChunkSlice::kHeader) {
            std::memcpy(out.data() + s.out_offset, f->header.data() + s.offset, s.length);
        } else {
            schedule_ahead(f, s.chunk);
            auto bytes = chunk_bytes(*f, s.chunk);
            if (!bytes) return bytes.status();
            std::memcpy(out.data() + s.out_offset, (*bytes)->data() + s.offset, s.length);
        }
        done = s.out_offset + s.length;
    }
    return done;
}

void ArchiveCache::schedule_ahead(const std::shared_ptr<const ArchiveFile>& f, uint32_t current) {
    if (ahead_ == 0) return;
    {
        std::lock_guard lk(mu_);
        for (uint32_t c : chunks_ahead(current, f->chunk_sizes, ahead_, max_bytes_ / 2)) {
            const Key k{f->trace, c};
            if (index_.count(k) || inflight_.count(k)) continue;
            bool queued = false;
            for (const auto& [qf, qc] : queue_) queued = queued || (qf->trace == f->trace && qc == c);
            if (!queued) queue_.emplace_back(f, c);
        }
        // A reader that jumped elsewhere leaves stale work: keep the newest only.
        while (queue_.size() > 2 * kAheadPerThread * size_t(ahead_)) queue_.pop_front();
    }
    queue_cv_.notify_all();
}

void ArchiveCache::read_ahead_loop() {
    for (;;) {
        std::shared_ptr<const ArchiveFile> f;
        uint32_t chunk = 0;
        {
            std::unique_lock lk(mu_);
            queue_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            std::tie(f, chunk) = queue_.front();
            queue_.pop_front();
        }
        try {
            // A failure is not cached: the reader that needs the chunk meets it itself.
            (void)chunk_bytes(*f, chunk);
        } catch (const std::exception& e) {
            logger("fs")->warn("read-ahead of trace {} chunk {}: {}", f->trace, chunk, e.what());
        }
    }
}

Result<ArchiveCache::Bytes> ArchiveCache::chunk_bytes(const ArchiveFile& f, uint32_t chunk) {
    const Key k{f.trace, chunk};
    std::shared_future<Result<Bytes>> fut;
    std::promise<Result<Bytes>> mine;
    bool owner = false;
    {
        std::lock_guard lk(mu_);
        if (auto it = index_.find(k); it != index_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second);
            return it->second->second;
        }
        if (auto it = inflight_.find(k); it != inflight_.end()) {
            fut = it->second;
        } else {
            fut = mine.get_future().share();
            inflight_.emplace(k, fut);
            owner = true;
        }
    }
    if (!owner) return fut.get();
    Result<Bytes> r = generate(f, chunk);
    {
        std::lock_guard lk(mu_);
        if (r) insert(k, *r);
        inflight_.erase(k);
    }
    mine.set_value(r);
    return r;
}

Result<ArchiveCache::Bytes> ArchiveCache::generate(const ArchiveFile& f, uint32_t chunk) {
    auto blob = catalog_.model_blob(f.trace, chunk);
    if (!blob) return blob.status();
    auto lib = library_.snapshot();
    auto recs = trainer::generate_chunk(f.fmt, *blob, *lib);
    if (!recs) return recs.status();
    auto bytes = std::make_shared<std::string>();
    bytes->reserve(f.chunk_sizes[chunk]);
    append_pcap_records(f.fmt, *recs, *bytes);
    if (bytes->size() != f.chunk_sizes[chunk]) {
        // st_size was promised from synth_bytes; a different size would corrupt every reader.
        return Status::corrupt("trace " + std::to_string(f.trace) + " chunk " + std::to_string(chunk) +
                               ": generated " + std::to_string(bytes->size()) + " bytes, model promised " +
                               std::to_string(f.chunk_sizes[chunk]));
    }
    return Bytes(std::move(bytes));
}

void ArchiveCache::insert(const Key& k, Bytes b) {
    bytes_ += b->size();
    lru_.emplace_front(k, std::move(b));
    index_[k] = lru_.begin();
    while (bytes_ > max_bytes_ && lru_.size() > 1) {
        bytes_ -= lru_.back().second->size();
        index_.erase(lru_.back().first);
        lru_.pop_back();
    }
}

size_t ArchiveCache::cached_bytes() const {
    std::lock_guard lk(mu_);
    return bytes_;
}

}  // namespace dgc::fs
