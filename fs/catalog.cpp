#include "fs/catalog.h"

#include <algorithm>
#include <set>

#include "codec/log.h"

namespace dgc::fs {

std::string chunk_key(uint64_t trace, uint32_t chunk) { return be64(trace) + be32(chunk); }

std::string keyframe_library_id(uint64_t trace, uint64_t chunk) {
    std::string id = "t";  // appended piecewise: GCC 12's -Wrestrict misreads "t" + std::to_string(...)
    id += std::to_string(trace);
    id += 'c';
    id += std::to_string(chunk);
    return id;
}

std::optional<TraceRow> get_trace(const Txn& t, uint64_t id) {
    auto v = t.get(db::kTraces, be64(id));
    if (!v) return std::nullopt;
    return decode_trace(*v);
}

std::optional<uint64_t> trace_id_at(const Txn& t, const std::string& path) {
    auto v = t.get(db::kPaths, path);
    if (!v) return std::nullopt;
    return from_be64(*v);
}

void put_trace(Txn& t, const TraceRow& r) { t.put(db::kTraces, be64(r.id), encode(r)); }

std::vector<ChunkRow> get_chunks(const Txn& t, uint64_t id) {
    std::vector<ChunkRow> out;
    auto c = t.cursor(db::kChunks);
    const std::string prefix = be64(id);
    for (bool ok = c.seek(prefix); ok && c.key().substr(0, 8) == prefix; ok = c.next())
        if (auto r = decode_chunk(c.value())) out.push_back(*r);
    return out;
}

uint64_t next_counter(Txn& t, const std::string& name) {
    uint64_t v = 0;
    if (auto cur = t.get(db::kState, "counter:" + name)) v = from_be64(*cur);
    ++v;
    t.put(db::kState, "counter:" + name, be64(v));
    return v;
}

void drop_jobs_of(Txn& t, uint64_t trace, std::optional<uint32_t> chunk) {
    std::vector<std::string> keys;
    {
        auto c = t.cursor(db::kJobs);
        for (bool ok = c.first(); ok; ok = c.next()) {
            auto j = decode_job(c.value());
            if (j && j->trace == trace && (!chunk || j->chunk == *chunk)) keys.emplace_back(c.key());
        }
    }
    for (const auto& k : keys) t.del(db::kJobs, k);
}

void delete_trace_rows(Txn& t, uint64_t id) {
    if (auto row = get_trace(t, id)) {
        if (auto at = trace_id_at(t, row->path); at && *at == id) t.del(db::kPaths, row->path);
    }
    t.del(db::kTraces, be64(id));
    t.del(db::kFrames, be64(id));
    const std::string prefix = be64(id);
    for (const auto* name : {&db::kChunks, &db::kModels}) {
        std::vector<std::string> keys;
        {
            auto c = t.cursor(*name);
            for (bool ok = c.seek(prefix); ok && c.key().substr(0, 8) == prefix; ok = c.next())
                keys.emplace_back(c.key());
        }
        for (const auto& k : keys) t.del(*name, k);
    }
    drop_jobs_of(t, id);
}

Result<std::unique_ptr<Catalog>> Catalog::open(const std::string& dir, bool read_only) {
    auto env = LmdbEnv::open(dir,
                             {db::kTraces, db::kPaths, db::kFrames, db::kChunks, db::kModels, db::kLibrary, db::kJobs,
                              db::kStaging, db::kDirs, db::kState},
                             read_only);
    if (!env) return env.status();
    auto c = std::unique_ptr<Catalog>(new Catalog());
    c->env_ = std::move(env.value());
    return c;
}

Result<uint64_t> Catalog::allocate_id(const std::string& counter) {
    uint64_t id = 0;
    if (auto st = env_->write([&](Txn& t) { id = next_counter(t, counter); }); !st) return st;
    return id;
}

Status Catalog::put_staging(const StagingRow& r) {
    return env_->write([&](Txn& t) { t.put(db::kStaging, be64(r.id), encode(r)); });
}

Status Catalog::drop_staging(uint64_t id) {
    return env_->write([&](Txn& t) { t.del(db::kStaging, be64(id)); });
}

Result<std::vector<StagingRow>> Catalog::staging_rows() const {
    std::vector<StagingRow> out;
    auto st = env_->read([&](Txn& t) {
        out.clear();
        auto c = t.cursor(db::kStaging);
        for (bool ok = c.first(); ok; ok = c.next())
            if (auto r = decode_staging(c.value())) out.push_back(*r);
    });
    if (!st) return st;
    return out;
}

Status Catalog::commit_ingest(const IngestCommit& c) {
    return env_->write([&](Txn& t) {
        if (c.replaces) delete_trace_rows(t, *c.replaces);
        if (auto old = trace_id_at(t, c.trace.path); old && *old != c.trace.id) delete_trace_rows(t, *old);
        put_trace(t, c.trace);
        t.put(db::kPaths, c.trace.path, be64(c.trace.id));
        if (!c.frame_index.empty()) t.put(db::kFrames, be64(c.trace.id), c.frame_index);
        for (const auto& ch : c.chunks) {
            t.put(db::kChunks, chunk_key(ch.trace, ch.index), encode(ch));
            if (!ch.done) t.put(db::kJobs, be64(next_counter(t, "job")), encode(JobRow{ch.trace, ch.index}));
        }
        t.del(db::kStaging, be64(c.staging_id));
    });
}

Status Catalog::commit_model(const ModelCommit& c) {
    return env_->write([&](Txn& t) {
        auto tr = get_trace(t, c.trace);
        if (!tr) return;  // deleted while training: nothing to commit
        auto old = t.get(db::kChunks, chunk_key(c.trace, c.chunk));
        bool was_done = old && decode_chunk(*old) && decode_chunk(*old)->done;
        t.put(db::kModels, chunk_key(c.trace, c.chunk), c.blob);
        t.put(db::kChunks, chunk_key(c.trace, c.chunk), encode(c.row));
        if (!c.keyframe_id.empty()) t.put(db::kLibrary, c.keyframe_id, c.blob);
        drop_jobs_of(t, c.trace, c.chunk);
        if (!was_done) {
            // Totals are recomputed from the chunk rows so a retried commit never double counts.
            auto chunks = get_chunks(t, c.trace);
            uint32_t done = 0;
            uint64_t model = 0, synth = 0, pk = 0;
            double weighted = 0, worst = 0;
            for (const auto& ch : chunks) {
                if (!ch.done) continue;
                ++done;
                model += ch.model_bytes;
                synth += ch.synth_bytes;
                pk += ch.count;
                weighted += ch.fidelity * double(ch.count);
                worst = std::max(worst, ch.fidelity);
            }
            tr->chunks_done = done;
            tr->model_bytes = model;
            tr->synth_size = 24 + synth;
            tr->fidelity = pk ? weighted / double(pk) : 0;
            tr->worst_fidelity = worst;
            put_trace(t, *tr);
        }
    });
}

Status Catalog::mark_unmodelable(uint64_t trace, const std::string& reason) {
    return env_->write([&](Txn& t) {
        auto tr = get_trace(t, trace);
        if (!tr) return;
        tr->unmodelable = reason;
        put_trace(t, *tr);
        drop_jobs_of(t, trace);
    });
}

Result<std::vector<std::string>> Catalog::requeue_unmodelable(const std::function<bool(const std::string&)>& wrong) {
    std::vector<std::string> paths;
    auto st = env_->write([&](Txn& t) {
        paths.clear();
        std::vector<TraceRow> rows;
        {
            auto c = t.cursor(db::kTraces);
            for (bool ok = c.first(); ok; ok = c.next())
                if (auto r = decode_trace(c.value()); r && !r->unmodelable.empty() && r->raw_present && wrong(r->unmodelable))
                    rows.push_back(*r);
        }
        for (auto& tr : rows) {
            tr.unmodelable.clear();
            put_trace(t, tr);
            drop_jobs_of(t, tr.id);
            for (const auto& ch : get_chunks(t, tr.id))
                if (!ch.done) t.put(db::kJobs, be64(next_counter(t, "job")), encode(JobRow{ch.trace, ch.index}));
            paths.push_back(tr.path);
        }
    });
    if (!st) return st;
    return paths;
}

Status Catalog::expire_raw(uint64_t trace, int64_t now_ns) {
    Status refused;
    auto st = env_->write([&](Txn& t) {
        auto tr = get_trace(t, trace);
        if (!tr) return;
        // Invariant 2 is re-checked inside the transaction that flips the flag.
        if (!all_modelled(*tr) || tr->hold) {
            refused = Status::invalid("trace " + tr->path + ": raw may not expire (not fully modelled or held)");
            return;
        }
        tr->raw_present = false;
        tr->raw_expired_ns = now_ns;
        put_trace(t, *tr);
        t.del(db::kFrames, be64(trace));
    });
    return st ? refused : st;
}

Status Catalog::delete_trace(uint64_t trace) {
    return env_->write([&](Txn& t) { delete_trace_rows(t, trace); });
}

Result<std::optional<TraceRow>> Catalog::trace(uint64_t id) const {
    std::optional<TraceRow> out;
    if (auto st = env_->read([&](Txn& t) { out = get_trace(t, id); }); !st) return st;
    return out;
}

Result<std::optional<TraceRow>> Catalog::trace_at(const std::string& path) const {
    std::optional<TraceRow> out;
    auto st = env_->read([&](Txn& t) {
        out.reset();
        if (auto id = trace_id_at(t, path)) out = get_trace(t, *id);
    });
    if (!st) return st;
    return out;
}

Result<std::vector<TraceRow>> Catalog::traces() const {
    std::vector<TraceRow> out;
    auto st = env_->read([&](Txn& t) {
        out.clear();
        auto c = t.cursor(db::kTraces);
        for (bool ok = c.first(); ok; ok = c.next())
            if (auto r = decode_trace(c.value())) out.push_back(std::move(*r));
    });
    if (!st) return st;
    return out;
}

Result<uint64_t> Catalog::shared_model_bytes(uint64_t trace) const {
    uint64_t bytes = 0;
    auto st = env_->read([&](Txn& t) {
        bytes = 0;
        std::set<std::string> own, parents;
        for (const auto& c : get_chunks(t, trace)) {
            if (c.parent_id.empty()) own.insert(keyframe_library_id(trace, c.index));
            else parents.insert(c.parent_id);
        }
        for (const auto& p : parents)
            if (!own.count(p))
                if (auto blob = t.get(db::kLibrary, p)) bytes += blob->size();
    });
    if (!st) return st;
    return bytes;
}

Result<std::vector<JobRow>> Catalog::jobs() const {
    std::vector<JobRow> out;
    auto st = env_->read([&](Txn& t) {
        out.clear();
        auto c = t.cursor(db::kJobs);
        for (bool ok = c.first(); ok; ok = c.next())
            if (auto j = decode_job(c.value())) out.push_back(*j);
    });
    if (!st) return st;
    return out;
}

Result<std::string> Catalog::model_blob(uint64_t trace, uint32_t chunk) const {
    std::optional<std::string> out;
    auto st = env_->read([&](Txn& t) {
        if (auto v = t.get(db::kModels, chunk_key(trace, chunk))) out = std::string(*v);
    });
    if (!st) return st;
    if (!out)
        return Status::not_found("model for trace " + std::to_string(trace) + " chunk " + std::to_string(chunk) +
                                 " is not in the catalog");
    return *out;
}

Result<std::string> Catalog::frame_index(uint64_t trace) const {
    std::optional<std::string> out;
    auto st = env_->read([&](Txn& t) {
        if (auto v = t.get(db::kFrames, be64(trace))) out = std::string(*v);
    });
    if (!st) return st;
    if (!out) return Status::not_found("raw frame index of trace " + std::to_string(trace) + " is not in the catalog");
    return *out;
}

Result<std::vector<std::pair<std::string, std::string>>> Catalog::library() const {
    std::vector<std::pair<std::string, std::string>> out;
    auto st = env_->read([&](Txn& t) {
        out.clear();
        auto c = t.cursor(db::kLibrary);
        for (bool ok = c.first(); ok; ok = c.next()) out.emplace_back(std::string(c.key()), std::string(c.value()));
    });
    if (!st) return st;
    return out;
}

Status Catalog::add_base_model(const std::string& id, const std::string& blob) {
    bool clash = false;
    auto st = env_->write([&](Txn& t) {
        auto old = t.get(db::kLibrary, id);
        clash = old && *old != blob;
        if (!old) t.put(db::kLibrary, id, blob);
    });
    if (!st) return st;
    if (clash)
        return Status::invalid(id + ": the store already holds a different base model of that name; "
                               "models trained on it need it, so give the new one another file name");
    return Status::ok();
}

}  // namespace dgc::fs
