#include "fs/scrub.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "codec/raw_segment.h"
#include "fs/archive.h"
#include "fs/catalog.h"
#include "fs/scrub_repair.h"
#include "trainer/model_blob.h"

namespace dgc::fs {
namespace {

using ChunkId = std::pair<uint64_t, uint32_t>;

// Everything the checks read, from one read transaction: a consistent view of a live store.
struct Snapshot {
    std::map<uint64_t, TraceRow> traces;
    std::map<std::string, uint64_t> paths;
    std::map<uint64_t, std::string> frames;
    std::map<ChunkId, ChunkRow> chunks;
    std::map<ChunkId, std::string> models;
    std::map<std::string, std::string> library;
    std::vector<std::pair<std::string, JobRow>> jobs;   // key, row
    std::vector<StagingRow> staging;
    std::map<std::string, uint64_t> counters;           // "trace", "job", "staging"
    std::vector<RowRef> malformed;                      // rows whose key or value does not decode
};

bool chunk_key_ok(std::string_view k) { return k.size() == 12; }
ChunkId chunk_id_of(std::string_view k) { return {from_be64(k.substr(0, 8)), from_be32(k.substr(8, 4))}; }

Snapshot read_snapshot(const Txn& t) {
    Snapshot s;
    auto bad = [&](const std::string& db, std::string_view k, std::string_view v) {
        s.malformed.push_back({db, std::string(k), std::string(v)});
    };
    {
        auto c = t.cursor(db::kTraces);
        for (bool ok = c.first(); ok; ok = c.next()) {
            auto r = c.key().size() == 8 ? decode_trace(c.value()) : std::nullopt;
            if (r && r->id == from_be64(c.key())) s.traces[r->id] = std::move(*r);
            else bad(db::kTraces, c.key(), c.value());
        }
    }
    {
        auto c = t.cursor(db::kPaths);
        for (bool ok = c.first(); ok; ok = c.next()) {
            if (c.value().size() == 8) s.paths[std::string(c.key())] = from_be64(c.value());
            else bad(db::kPaths, c.key(), c.value());
        }
    }
    {
        auto c = t.cursor(db::kFrames);
        for (bool ok = c.first(); ok; ok = c.next()) {
            if (c.key().size() == 8) s.frames[from_be64(c.key())] = std::string(c.value());
            else bad(db::kFrames, c.key(), c.value());
        }
    }
    {
        auto c = t.cursor(db::kChunks);
        for (bool ok = c.first(); ok; ok = c.next()) {
            auto r = chunk_key_ok(c.key()) ? decode_chunk(c.value()) : std::nullopt;
            if (r && ChunkId{r->trace, r->index} == chunk_id_of(c.key())) s.chunks[chunk_id_of(c.key())] = *r;
            else bad(db::kChunks, c.key(), c.value());
        }
    }
    {
        auto c = t.cursor(db::kModels);
        for (bool ok = c.first(); ok; ok = c.next()) {
            if (chunk_key_ok(c.key())) s.models[chunk_id_of(c.key())] = std::string(c.value());
            else bad(db::kModels, c.key(), c.value());
        }
    }
    {
        auto c = t.cursor(db::kLibrary);
        for (bool ok = c.first(); ok; ok = c.next()) s.library[std::string(c.key())] = std::string(c.value());
    }
    {
        auto c = t.cursor(db::kJobs);
        for (bool ok = c.first(); ok; ok = c.next()) {
            auto j = c.key().size() == 8 ? decode_job(c.value()) : std::nullopt;
            if (j) s.jobs.emplace_back(std::string(c.key()), *j);
            else bad(db::kJobs, c.key(), c.value());
        }
    }
    {
        auto c = t.cursor(db::kStaging);
        for (bool ok = c.first(); ok; ok = c.next())
            if (auto r = decode_staging(c.value())) s.staging.push_back(*r);
    }
    for (const char* name : {"trace", "job", "staging"})
        if (auto v = t.get(db::kState, std::string("counter:") + name); v && v->size() == 8)
            s.counters[name] = from_be64(*v);
    return s;
}

// A read-only view of a whole file, without copying segments of hundreds of megabytes.
class MappedFile {
public:
    static Result<MappedFile> open(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return Status::io(path + ": " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            Status s = Status::io(path + ": " + std::strerror(errno));
            ::close(fd);
            return s;
        }
        MappedFile m;
        m.size_ = static_cast<size_t>(st.st_size);
        if (m.size_ > 0) {
            void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                Status s = Status::io(path + ": cannot map: " + std::strerror(errno));
                ::close(fd);
                return s;
            }
            m.data_ = static_cast<const char*>(p);
        }
        ::close(fd);
        return m;
    }
    MappedFile(MappedFile&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
    MappedFile& operator=(MappedFile&&) = delete;
    ~MappedFile() {
        if (data_) ::munmap(const_cast<char*>(data_), size_);
    }
    std::string_view bytes() const { return {data_ ? data_ : "", size_}; }

private:
    MappedFile() = default;
    const char* data_ = nullptr;
    size_t size_ = 0;
};

std::string chunk_name(const ChunkId& c) {
    return "trace " + std::to_string(c.first) + " chunk " + std::to_string(c.second);
}

class Scrubber {
public:
    Scrubber(const StoreLayout& layout, const ScrubOptions& opts, Catalog& catalog, const Snapshot& snap)
        : layout_(layout), opts_(opts), catalog_(catalog), s_(snap) {}

    ScrubReport run() {
        report_.store = layout_.root;
        check_library();
        size_t done = 0;
        for (const auto& [id, t] : s_.traces) {
            if (opts_.progress) opts_.progress(done++, s_.traces.size(), t.path);
            check_trace(t);
        }
        check_orphan_rows();
        check_raw_dir();
        check_jobs_and_counters();
        if (!opts_.daemon_live) check_staging();
        if (opts_.repair) {
            Repairer repairer(layout_, catalog_);
            for (auto& r : repairs_) repairer.add(r.action, r.ref);
            repairer.apply([&](const FindingRef& ref) { finding(ref).repaired = true; });
        }
        return std::move(report_);
    }

private:
    struct PendingRepair {
        RepairAction action;
        FindingRef ref;
    };

    ScrubFinding& finding(const FindingRef& r) {
        return r.trace < 0 ? report_.store_findings[r.index] : report_.traces[size_t(r.trace)].findings[r.index];
    }

    // Records a finding for the trace being checked (or the store when trace < 0); returns its ref.
    FindingRef add(long trace, std::string code, std::string message, bool damage = true) {
        auto& list = trace < 0 ? report_.store_findings : report_.traces[size_t(trace)].findings;
        list.push_back({std::move(code), std::move(message), damage, false});
        return {trace, list.size() - 1};
    }
    void repair(const FindingRef& ref, RepairAction a) { repairs_.push_back({std::move(a), ref}); }

    // --- library ---
    void check_library() {
        for (const auto& [id, blob] : s_.library) {
            ++report_.library;
            auto b = trainer::decode_blob(blob, "library model " + id);
            if (b) {
                library_good_.insert(id);
                continue;
            }
            auto ref = add(-1, "library-corrupt", b.status().message());
            // A chunk keyframe's library entry is a copy of its chunk's model: restore it from there.
            if (auto src = verified_model_for_keyframe(id); src && *src != blob)
                repair(ref, RepairAction::replace(db::kLibrary, id, blob, *src));
        }
    }
    const std::string* verified_model_for_keyframe(const std::string& id) const {
        for (const auto& [c, blob] : s_.models)
            if (keyframe_library_id(c.first, c.second) == id && trainer::decode_blob(blob, id)) return &blob;
        return nullptr;
    }
    bool library_ok(const std::string& id) const { return library_good_.count(id) > 0; }

    // --- one trace ---
    void check_trace(const TraceRow& t) {
        TraceScrub row;
        row.id = t.id, row.path = t.path, row.state = trace_state(t, false);
        report_.traces.push_back(std::move(row));
        const long ti = long(report_.traces.size() - 1);
        auto p = s_.paths.find(t.path);
        if (p == s_.paths.end()) {
            auto ref = add(ti, "path-missing", "trace " + std::to_string(t.id) + ": no paths row for \"" + t.path +
                                                   "\" (the file is invisible under retention/ and archive/)");
            repair(ref, RepairAction::put(db::kPaths, t.path, be64(t.id)));
        } else if (p->second != t.id) {
            add(ti, "path-conflict", "trace " + std::to_string(t.id) + ": \"" + t.path + "\" names trace " +
                                         std::to_string(p->second));
        }
        if (!t.skipped.empty())  // known at ingest, not damage to the store: a note
            add(ti, "input-skipped",
                t.path + ": the capture as written had damaged bytes its models leave out: " +
                    describe_skipped(t.skipped) + (t.raw_present ? " (raw still holds them)" : " (raw has expired)"),
                false);
        check_raw(ti, t);
        bool models_ok = check_chunks(ti, t);
        if (opts_.regenerate && models_ok && all_modelled(t)) regenerate(ti, t);
        report_.frames += report_.traces[size_t(ti)].frames;
        report_.models += report_.traces[size_t(ti)].models;
        report_.regenerated += report_.traces[size_t(ti)].regenerated;
    }

    void check_raw(long ti, const TraceRow& t) {
        const std::string seg = layout_.raw_path(t.id);
        const bool file = ::access(seg.c_str(), F_OK) == 0;
        auto idx_bytes = s_.frames.find(t.id);
        if (!t.raw_present) {
            if (!all_modelled(t))
                add(ti, "no-data", t.path + ": raw has expired but not every chunk has a model (" +
                                       std::to_string(t.chunks_done) + "/" + std::to_string(t.chunks) + ")");
            if (idx_bytes != s_.frames.end()) {
                auto ref = add(ti, "frames-orphan", t.path + ": raw has expired but its frame index is still there");
                repair(ref, RepairAction::move_row(db::kFrames, be64(t.id), idx_bytes->second));
            }
            if (file) {
                auto ref = add(ti, "raw-orphan", seg + ": raw segment of a trace whose raw has expired");
                repair(ref, RepairAction::move_file(seg));
            }
            return;
        }
        if (!file) {
            if (!changed_meanwhile(t)) add(ti, "raw-missing", seg + ": missing, but the catalog says raw is kept");
            return;
        }
        auto map = MappedFile::open(seg);
        if (!map) {
            add(ti, "raw-unreadable", map.status().message());
            return;
        }
        if (idx_bytes == s_.frames.end()) {
            auto ref = add(ti, "frames-missing", t.path + ": no frame index for " + seg);
            // Rebuilt from the file only when every frame decompresses to the sizes the trace row records.
            auto scanned = scan_frame_index(map->bytes());
            if (scanned && verify_segment(*scanned, map->bytes()).empty() && scanned->raw_size() == t.raw_size &&
                scanned->stored_size() == t.raw_stored)
                repair(ref, RepairAction::put(db::kFrames, be64(t.id), encode_frame_index(*scanned)));
            return;
        }
        auto index = decode_frame_index(idx_bytes->second);
        if (!index) {
            add(ti, "frames-corrupt", t.path + ": " + index.status().message());
            return;
        }
        auto& tr = report_.traces[size_t(ti)];
        tr.frames = index->frames.size();
        tr.checksummed = index->checksummed();
        if (index->raw_size() != t.raw_size || index->stored_size() != t.raw_stored)
            add(ti, "raw-size", t.path + ": frame index covers " + std::to_string(index->raw_size()) + " bytes in " +
                                    std::to_string(index->stored_size()) + ", trace row says " +
                                    std::to_string(t.raw_size) + " in " + std::to_string(t.raw_stored));
        for (auto& problem : verify_segment(*index, map->bytes())) add(ti, "raw-frame", seg + ": " + problem);
        if (!index->checksummed())
            add(ti, "raw-unchecksummed",
                seg + ": frame index v1 has no checksums; its " + std::to_string(index->frames.size()) +
                    " frames were verified by decompression and size only",
                false);
    }

    // Returns whether every committed chunk's model decoded (regeneration needs them all).
    bool check_chunks(long ti, const TraceRow& t) {
        bool ok = true;
        uint32_t done = 0, rows = 0;
        uint64_t model_bytes = 0, synth = 0;
        const auto first = s_.chunks.lower_bound({t.id, 0});
        for (auto it = first; it != s_.chunks.end() && it->first.first == t.id; ++it) {
            const ChunkRow& c = it->second;
            ++rows;
            if (c.index >= t.chunks) {
                auto ref = add(ti, "chunk-extra", chunk_name(it->first) + ": past the trace's " +
                                                      std::to_string(t.chunks) + " chunks");
                repair(ref, RepairAction::move_row(db::kChunks, chunk_key(t.id, c.index), encode(c)));
                --rows;
                continue;
            }
            if (c.done) {
                ++done;
                model_bytes += c.model_bytes;
                synth += c.synth_bytes;
            }
            ok &= check_model(ti, it->first, c);
        }
        for (uint32_t i = 0; i < t.chunks; ++i)
            if (!s_.chunks.count({t.id, i})) {
                add(ti, "chunk-missing", chunk_name({t.id, i}) + ": no chunk row (" + t.path + " has " +
                                             std::to_string(t.chunks) + " chunks)");
                ok = false;
            }
        if (rows == t.chunks && (done != t.chunks_done || model_bytes != t.model_bytes ||
                                 (all_modelled(t) && t.synth_size != 24 + synth)))
            add(ti, "totals", t.path + ": trace row says " + std::to_string(t.chunks_done) + " chunks done, " +
                                  std::to_string(t.model_bytes) + " model bytes, archive size " +
                                  std::to_string(t.synth_size) + "; its chunk rows add up to " +
                                  std::to_string(done) + ", " + std::to_string(model_bytes) + ", " +
                                  std::to_string(24 + synth));
        return ok;
    }

    bool check_model(long ti, const ChunkId& id, const ChunkRow& c) {
        auto m = s_.models.find(id);
        const std::string kf = keyframe_library_id(id.first, id.second);
        if (!c.done) {
            if (m != s_.models.end())
                add(ti, "model-unexpected", chunk_name(id) + ": a model is stored but the chunk is not marked done");
            return true;
        }
        // A keyframe chunk's model is also in the library under t<trace>c<chunk>: either copy restores the other.
        const bool keyframe = c.parent_id.empty();
        auto restore = [&](const FindingRef& ref, const std::string* old) {
            auto lib = s_.library.find(kf);
            if (keyframe && library_ok(kf) && lib->second.size() == c.model_bytes)
                repair(ref, old ? RepairAction::replace(db::kModels, chunk_key(id.first, id.second), *old, lib->second)
                                : RepairAction::put(db::kModels, chunk_key(id.first, id.second), lib->second));
        };
        if (m == s_.models.end()) {
            restore(add(ti, "model-missing", chunk_name(id) + ": done, but no model is stored"), nullptr);
            return false;
        }
        auto blob = trainer::decode_blob(m->second, chunk_name(id));
        if (!blob) {
            restore(add(ti, "model-corrupt", blob.status().message()), &m->second);
            return false;
        }
        ++report_.traces[size_t(ti)].models;
        bool ok = true;
        if (m->second.size() != c.model_bytes)
            add(ti, "model-size", chunk_name(id) + ": model is " + std::to_string(m->second.size()) +
                                      " bytes, chunk row says " + std::to_string(c.model_bytes));
        if (blob->parent_id != c.parent_id) {
            add(ti, "parent-mismatch", chunk_name(id) + ": model's parent is \"" + blob->parent_id +
                                           "\", chunk row says \"" + c.parent_id + "\"");
            ok = false;
        }
        if (!blob->parent_id.empty() && !s_.library.count(blob->parent_id)) {
            auto ref = add(ti, "parent-missing",
                           chunk_name(id) + ": parent model " + blob->parent_id + " is not in the library");
            if (auto src = verified_model_for_keyframe(blob->parent_id))
                repair(ref, RepairAction::put(db::kLibrary, blob->parent_id, *src));
            ok = false;
        }
        if (keyframe) {
            auto lib = s_.library.find(kf);
            if (lib == s_.library.end())
                repair(add(ti, "library-copy-missing", chunk_name(id) + ": keyframe " + kf + " is not in the library"),
                       RepairAction::put(db::kLibrary, kf, m->second));
            else if (lib->second != m->second && library_ok(kf))
                add(ti, "library-copy-differs", chunk_name(id) + ": library keyframe " + kf +
                                                    " holds other bytes than the chunk's model");
        }
        return ok;
    }

    void regenerate(long ti, const TraceRow& t) {
        if (!holder_) {
            holder_ = std::make_unique<LibraryHolder>();
            for (const auto& [id, blob] : s_.library) holder_->add(id, blob);
        }
        ArchiveCache cache(catalog_, *holder_, 0);  // nothing is read twice: keep nothing
        auto file = cache.open(t.id);
        if (!file) {
            if (!changed_meanwhile(t)) add(ti, "regenerate", t.path + ": " + file.status().message());
            return;
        }
        uint64_t offset = (*file)->header.size();
        for (uint32_t k = 0; k < (*file)->chunk_sizes.size(); ++k) {
            std::string buf((*file)->chunk_sizes[k], '\0');
            auto n = cache.read(*file, offset, buf);
            if (!n) {
                if (!changed_meanwhile(t)) add(ti, "regenerate", t.path + ": " + n.status().message());
                return;
            }
            offset += buf.size();
            ++report_.traces[size_t(ti)].regenerated;
        }
    }

    // A live daemon may expire, delete or replace a trace after the snapshot: files and
    // fresh reads then disagree with it without anything being damaged.
    bool changed_meanwhile(const TraceRow& t) const {
        if (!opts_.daemon_live) return false;
        auto now = catalog_.trace(t.id);
        return now && (!*now || (*now)->raw_present != t.raw_present || (*now)->path != t.path);
    }

    // --- rows nobody points at ---
    void check_orphan_rows() {
        for (const auto& r : s_.malformed)
            repair(add(-1, "row-malformed", r.db + " row " + hex(r.key) + ": key or value does not decode"),
                   RepairAction::move_row(r.db, r.key, r.value));
        for (const auto& [path, id] : s_.paths)
            if (auto t = s_.traces.find(id); t == s_.traces.end() || t->second.path != path)
                repair(add(-1, "path-orphan", "paths row \"" + path + "\" names trace " + std::to_string(id) +
                                                  (t == s_.traces.end() ? ", which does not exist"
                                                                        : ", which is at \"" + t->second.path + "\"")),
                       RepairAction::move_row(db::kPaths, path, be64(id)));
        for (const auto& [id, bytes] : s_.frames)
            if (!s_.traces.count(id))
                repair(add(-1, "frames-orphan", "frame index of trace " + std::to_string(id) + ", which does not exist"),
                       RepairAction::move_row(db::kFrames, be64(id), bytes));
        for (const auto& [c, row] : s_.chunks)
            if (!s_.traces.count(c.first))
                repair(add(-1, "chunk-orphan", chunk_name(c) + ": its trace does not exist"),
                       RepairAction::move_row(db::kChunks, chunk_key(c.first, c.second), encode(row)));
        for (const auto& [c, blob] : s_.models)
            if (!s_.chunks.count(c) || !s_.traces.count(c.first))
                repair(add(-1, "model-orphan", chunk_name(c) + ": a model without its chunk or trace row"),
                       RepairAction::move_row(db::kModels, chunk_key(c.first, c.second), blob));
    }

    void check_raw_dir() {
        DIR* d = ::opendir(layout_.raw_dir().c_str());
        if (!d) {
            if (errno != ENOENT) add(-1, "raw-dir", layout_.raw_dir() + ": " + std::strerror(errno));
            return;
        }
        std::vector<std::string> names;
        while (auto* e = ::readdir(d))
            if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.emplace_back(e->d_name);
        ::closedir(d);
        std::sort(names.begin(), names.end());
        std::set<std::string> owned;  // expired traces' files are reported with their trace
        for (const auto& [id, t] : s_.traces) owned.insert(std::to_string(id) + ".zst");
        for (const auto& n : names) {
            const std::string path = layout_.raw_dir() + "/" + n;
            if (owned.count(n)) continue;
            if (opts_.daemon_live)
                add(-1, "raw-pending", path + ": no trace yet (an ingest in progress, or an orphan)", false);
            else
                repair(add(-1, "raw-orphan", path + ": no trace owns this file"), RepairAction::move_file(path));
        }
    }

    void check_jobs_and_counters() {
        std::set<ChunkId> queued;
        uint64_t max_job = 0;
        for (const auto& [key, j] : s_.jobs) {
            max_job = std::max(max_job, from_be64(key));
            auto t = s_.traces.find(j.trace);
            auto c = s_.chunks.find({j.trace, j.chunk});
            std::string why;
            if (t == s_.traces.end()) why = "its trace does not exist";
            else if (c == s_.chunks.end()) why = "its chunk does not exist";
            else if (!t->second.unmodelable.empty()) why = "the trace is unmodelable";
            else if (c->second.done) why = "the chunk already has its model";
            else if (!queued.insert({j.trace, j.chunk}).second) why = "a duplicate";
            if (!why.empty())
                repair(add(-1, "job-orphan", "job " + std::to_string(from_be64(key)) + " for " +
                                                 chunk_name({j.trace, j.chunk}) + ": " + why),
                       RepairAction::drop_row(db::kJobs, key));
        }
        for (const auto& [c, row] : s_.chunks) {
            auto t = s_.traces.find(c.first);
            if (row.done || t == s_.traces.end() || !t->second.unmodelable.empty() || queued.count(c)) continue;
            long ti = trace_index(c.first);
            repair(add(ti, "job-missing", chunk_name(c) + ": not modelled and not queued for training"),
                   RepairAction::requeue(c.first, c.second));
        }
        check_counter("trace", s_.traces.empty() ? 0 : s_.traces.rbegin()->first);
        check_counter("job", max_job);
        uint64_t max_staging = 0;
        for (const auto& r : s_.staging) max_staging = std::max(max_staging, r.id);
        check_counter("staging", max_staging);
    }
    void check_counter(const std::string& name, uint64_t max_used) {
        auto it = s_.counters.find(name);
        const uint64_t v = it == s_.counters.end() ? 0 : it->second;
        if (v < max_used)
            repair(add(-1, "counter", "counter:" + name + " is " + std::to_string(v) + " but " +
                                          std::to_string(max_used) + " is in use (the next one would collide)"),
                   RepairAction::put(db::kState, "counter:" + name, be64(max_used)));
    }
    long trace_index(uint64_t id) const {
        for (size_t i = 0; i < report_.traces.size(); ++i)
            if (report_.traces[i].id == id) return long(i);
        return -1;
    }

    // Closed staging rows are accepted data not yet ingested: their files must be there.
    void check_staging() {
        for (const auto& r : s_.staging)
            if (r.closed && ::access(layout_.staging_path(r.id).c_str(), F_OK) != 0)
                add(-1, "staging-missing", layout_.staging_path(r.id) + ": accepted as \"" + r.path +
                                               "\" but the file is missing");
    }

    const StoreLayout& layout_;
    const ScrubOptions& opts_;
    Catalog& catalog_;
    const Snapshot& s_;
    ScrubReport report_;
    std::vector<PendingRepair> repairs_;
    std::unique_ptr<LibraryHolder> holder_;
    std::set<std::string> library_good_;  // library ids whose blob decoded
};

size_t count_damage(const std::vector<ScrubFinding>& f) {
    return size_t(std::count_if(f.begin(), f.end(), [](const ScrubFinding& x) { return x.damage && !x.repaired; }));
}
size_t count_repaired(const std::vector<ScrubFinding>& f) {
    return size_t(std::count_if(f.begin(), f.end(), [](const ScrubFinding& x) { return x.repaired; }));
}

}  // namespace

size_t TraceScrub::damage() const { return count_damage(findings); }

size_t ScrubReport::damage() const {
    size_t n = count_damage(store_findings);
    for (const auto& t : traces) n += t.damage();
    return n;
}

size_t ScrubReport::repaired() const {
    size_t n = count_repaired(store_findings);
    for (const auto& t : traces) n += count_repaired(t.findings);
    return n;
}

Result<ScrubReport> scrub_store(const StoreLayout& layout, const ScrubOptions& opts) {
    auto cat = Catalog::open(layout.catalog_dir(), !opts.repair);
    if (!cat) return cat.status();
    Snapshot snap;
    if (auto st = (*cat)->env().read([&](Txn& t) { snap = read_snapshot(t); }); !st) return st;
    return Scrubber(layout, opts, **cat, snap).run();
}

}  // namespace dgc::fs
