#include "fs/store_export.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "codec/capture_writer.h"
#include "codec/log.h"
#include "trainer/blob_parent.h"
#include "trainer/pipeline.h"

namespace dgc::fs {

namespace {

std::string without_slashes(std::string s) {
    while (!s.empty() && s.front() == '/') s.erase(0, 1);
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

bool all_digits(const std::string& s) {
    return !s.empty() && s.size() <= 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string library_id(uint64_t trace, char kind, size_t n) {
    std::string id = "t";
    id += std::to_string(trace);
    id += kind;
    id += std::to_string(n);
    return id;
}

// What a trained keyframe chunk is called in the library (docs/format.md §4.6).
std::string store_keyframe_id(uint64_t trace, size_t chunk) { return library_id(trace, 'c', chunk); }

// Library models a .dgc carries under an id that is not a keyframe chunk of its own
// (`t<trace>k<n>`): no trained chunk is named so, and the trace id is never handed out twice.
std::string imported_keyframe_id(uint64_t trace, size_t n) { return library_id(trace, 'k', n); }

struct StoredChunk {
    ChunkRow row;
    std::string blob;
    std::string parent;  // the blob's own parent id; "" for a keyframe
};

}  // namespace

Result<TraceRow> find_trace(Catalog& catalog, const std::string& spec) {
    const std::string rel = without_slashes(spec);
    std::vector<std::string> candidates{rel};
    for (const std::string view : {"archive/", "retention/"})
        if (rel.rfind(view, 0) == 0) candidates.push_back(rel.substr(view.size()));
    for (const auto& c : candidates) {
        auto t = catalog.trace_at(c);
        if (!t) return t.status();
        if (*t) return **t;
    }
    if (all_digits(rel)) {
        auto t = catalog.trace(std::stoull(rel));
        if (!t) return t.status();
        if (*t) return **t;
    }
    return Status::not_found("no trace '" + spec + "' in the store (neither a path under retention/ nor a trace id)");
}

Result<trainer::DgcFile> export_trace(Catalog& catalog, const std::string& spec) {
    auto trace = find_trace(catalog, spec);
    if (!trace) return trace.status();
    const TraceRow& t = *trace;
    if (!t.unmodelable.empty())
        return Status::invalid(t.path + ": unmodelable (" + t.unmodelable + "), it has no models to export");
    if (!all_modelled(t))
        return Status::invalid(t.path + ": not fully modelled yet (" + trace_state(t, false) +
                               "); it can be exported once it appears in archive/");

    std::vector<StoredChunk> chunks;
    auto st = catalog.env().read([&](Txn& x) {
        chunks.clear();
        for (auto& row : get_chunks(x, t.id)) {
            StoredChunk c{row, {}, {}};
            if (auto v = x.get(db::kModels, chunk_key(t.id, row.index))) c.blob = std::string(*v);
            chunks.push_back(std::move(c));
        }
    });
    if (!st) return st;
    if (chunks.size() != t.chunks)
        return Status::corrupt(t.path + ": catalog lists " + std::to_string(chunks.size()) + " chunk rows, trace row says " +
                               std::to_string(t.chunks));
    for (auto& c : chunks) {
        const std::string what = t.path + " chunk " + std::to_string(c.row.index);
        if (c.blob.empty()) return Status::corrupt(what + ": model missing from the catalog");
        auto parent = trainer::blob_parent(c.blob, what);
        if (!parent) return parent.status();
        c.parent = *parent;
    }
    auto library = catalog.library();
    if (!library) return library.status();
    std::map<std::string, std::string> lib;
    for (auto& [id, blob] : *library) lib.emplace(std::move(id), std::move(blob));

    trainer::DgcFile f;
    f.format.linktype = t.out_linktype;
    f.format.nanosecond = t.nanosecond;
    f.source = t.path;
    std::map<std::string, std::string> renamed;  // store library id -> its id in the .dgc
    for (size_t i = 0; i < chunks.size(); ++i)
        if (chunks[i].parent.empty())
            for (const auto& [id, blob] : lib)
                if (blob == chunks[i].blob) renamed.emplace(id, trainer::keyframe_chunk_id(i));
    for (size_t i = 0; i < chunks.size(); ++i) {
        const StoredChunk& c = chunks[i];
        const std::string what = t.path + " chunk " + std::to_string(c.row.index);
        trainer::DgcChunk d;
        d.model.blob = c.blob;
        if (!c.parent.empty()) {
            auto it = renamed.find(c.parent);
            if (it == renamed.end()) {
                // A keyframe outside this trace (another trace's chunk, a base model) travels along.
                auto p = lib.find(c.parent);
                if (p == lib.end()) return Status::not_found(what + ": parent model '" + c.parent + "' is not in the library");
                f.keyframes.emplace_back(p->first, p->second);
                it = renamed.emplace(c.parent, c.parent).first;
            }
            d.model.parent_id = it->second;
            if (it->second != c.parent) {
                auto moved = trainer::with_parent(c.blob, it->second, what);
                if (!moved) return moved.status();
                d.model.blob = std::move(*moved);
            }
        }
        d.model.packets = c.row.packets;
        d.model.synth_bytes = c.row.synth_bytes;
        d.model.fidelity = c.row.fidelity;
        d.model.joint = c.row.joint;
        d.model.train_seconds = c.row.train_seconds;
        d.real_packets = c.row.count;
        f.chunks.push_back(std::move(d));
    }
    return f;
}

Result<std::string> import_path(const std::string& path) {
    const std::string rel = without_slashes(path);
    if (rel.empty()) return Status::invalid("'" + path + "': an empty path cannot name a trace");
    size_t start = 0;
    while (start <= rel.size()) {
        size_t end = rel.find('/', start);
        if (end == std::string::npos) end = rel.size();
        const std::string part = rel.substr(start, end - start);
        if (part.empty() || part == "." || part == "..")
            return Status::invalid("'" + path + "': every path component must be a name (no empty, '.' or '..' parts)");
        start = end + 1;
    }
    if (rel.find('\0') != std::string::npos) return Status::invalid("'" + path + "': holds a NUL byte");
    try {
        (void)nlohmann::json(rel).dump();  // catalog rows are JSON and hold valid UTF-8 only
    } catch (const nlohmann::json::exception&) {
        return Status::invalid("'" + path + "': not valid UTF-8 (docs/format.md, known gap 14)");
    }
    return rel;
}

namespace {

// Why `path` cannot take a new trace in this transaction, or "" when it can.
std::string path_conflict(const Txn& x, const std::string& path) {
    if (trace_id_at(x, path)) return path + ": a trace already exists there (choose another with --as)";
    if (x.get(db::kDirs, path)) return path + ": is a directory in retention/";
    const std::string prefix = path + "/";
    auto c = x.cursor(db::kPaths);
    if (c.seek(prefix) && c.key().substr(0, prefix.size()) == prefix) return path + ": is a directory in archive/";
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
        if (trace_id_at(x, path.substr(0, slash)))
            return path + ": " + path.substr(0, slash) + " is a trace, not a directory";
    return {};
}

}  // namespace

Result<ImportOutcome> import_dgc(Catalog& catalog, const trainer::DgcFile& f, const std::string& path_in, int64_t now_ns,
                                 const std::function<void(size_t, size_t)>& chunk_checked) {
    auto path = import_path(path_in);
    if (!path) return path.status();
    if (f.chunks.empty()) return Status::invalid("the .dgc holds no chunks");
    if (f.format.snaplen != PcapFormat{}.snaplen)
        // archive/ writes the default snaplen and stores none (docs/format.md, known gap 10).
        return Status::unsupported("the .dgc's snaplen is " + std::to_string(f.format.snaplen) + "; archive/ can only write " +
                                   std::to_string(PcapFormat{}.snaplen) + " (use dgcctl expand for this file)");
    {
        std::string clash;
        auto st = catalog.env().read([&](Txn& x) { clash = path_conflict(x, *path); });
        if (!st) return st;
        if (!clash.empty()) return Status::invalid(clash);
    }
    auto existing = catalog.library();
    if (!existing) return existing.status();
    auto held_as = [&](const std::string& blob) -> const std::string* {
        for (const auto& [id, b] : *existing)
            if (b == blob) return &id;
        return nullptr;
    };
    auto held = [&](const std::string& id) {
        return std::any_of(existing->begin(), existing->end(), [&](const auto& e) { return e.first == id; });
    };

    auto id = catalog.allocate_id("trace");
    if (!id) return id.status();
    ImportOutcome out{*id, *path, {}};
    std::map<std::string, std::string> renamed;  // .dgc library id -> store library id
    std::vector<std::pair<std::string, std::string>> added;
    trainer::ModelLibrary verify;
    for (size_t i = 0; i < f.chunks.size(); ++i)
        if (f.chunks[i].model.parent_id.empty()) {
            const std::string sid = store_keyframe_id(*id, i);
            renamed[trainer::keyframe_chunk_id(i)] = sid;
            added.emplace_back(sid, f.chunks[i].model.blob);
            verify.add(sid, f.chunks[i].model.blob);
        }
    size_t n = 0;
    for (const auto& [kid, blob] : f.keyframes) {
        std::string sid;
        if (const std::string* same = held_as(blob)) {
            sid = *same;
        } else {
            // A base model keeps its name where the store has none by it, so a later --base of
            // the same file is the same library entry.
            sid = kid.rfind("base:", 0) == 0 && !held(kid) ? kid : imported_keyframe_id(*id, n++);
            added.emplace_back(sid, blob);
        }
        renamed[kid] = sid;
        verify.add(sid, blob);
    }

    std::vector<ChunkRow> rows;
    std::vector<std::string> blobs;
    TraceRow t;
    uint64_t first = 0;
    double weighted = 0;
    for (size_t i = 0; i < f.chunks.size(); ++i) {
        const auto& c = f.chunks[i];
        const std::string what = "chunk " + std::to_string(i);
        auto parent = trainer::blob_parent(c.model.blob, what);
        if (!parent) return parent.status();
        std::string blob = c.model.blob;
        std::string store_parent;
        if (!parent->empty()) {
            auto it = renamed.find(*parent);
            if (it == renamed.end())
                return Status::not_found(what + ": parent model '" + *parent + "' is not in the .dgc");
            store_parent = it->second;
            if (store_parent != *parent) {
                auto moved = trainer::with_parent(blob, store_parent, what);
                if (!moved) return moved.status();
                blob = std::move(*moved);
            }
        }
        // The store will regenerate this on every read: prove now that it gives the recorded size.
        auto recs = trainer::generate_chunk(f.format, blob, verify);
        if (!recs) return recs.status();
        std::string bytes;
        append_pcap_records(f.format, *recs, bytes);
        if (bytes.size() != c.model.synth_bytes)
            return Status::invalid(what + ": regenerates " + std::to_string(bytes.size()) + " bytes on this build, the .dgc "
                                   "records " + std::to_string(c.model.synth_bytes) + " (written by a different build?)");
        if (chunk_checked) chunk_checked(i + 1, f.chunks.size());
        ChunkRow r;
        r.trace = *id;
        r.index = static_cast<uint32_t>(i);
        r.first = first;
        r.count = c.real_packets;
        r.done = true;
        r.packets = c.model.packets;
        r.synth_bytes = c.model.synth_bytes;
        r.model_bytes = blob.size();
        r.fidelity = c.model.fidelity;
        r.joint = c.model.joint;
        r.train_seconds = c.model.train_seconds;
        r.parent_id = store_parent;
        first += c.real_packets;
        t.model_bytes += r.model_bytes;
        t.synth_size += r.synth_bytes;
        weighted += r.fidelity * double(r.count);
        t.worst_fidelity = std::max(t.worst_fidelity, r.fidelity);
        rows.push_back(r);
        blobs.push_back(std::move(blob));
    }
    t.id = *id;
    t.path = *path;
    t.mtime_ns = t.accepted_ns = t.raw_expired_ns = now_ns;
    t.raw_present = false;
    t.linktype = t.out_linktype = f.format.linktype;
    t.nanosecond = f.format.nanosecond;
    t.packets = first;
    t.chunks = t.chunks_done = static_cast<uint32_t>(rows.size());
    t.synth_size += pcap_file_header(f.format).size();
    t.fidelity = first ? weighted / double(first) : 0;

    std::string refused;
    auto st = catalog.env().write([&](Txn& x) {
        refused = path_conflict(x, *path);
        for (const auto& [sid, blob] : added)
            if (auto v = x.get(db::kLibrary, sid); v && *v != blob) refused = sid + ": library id taken meanwhile";
        if (!refused.empty()) return;
        for (const auto& [sid, blob] : added) x.put(db::kLibrary, sid, blob);
        put_trace(x, t);
        x.put(db::kPaths, t.path, be64(t.id));
        for (size_t i = 0; i < rows.size(); ++i) {
            x.put(db::kChunks, chunk_key(t.id, rows[i].index), encode(rows[i]));
            x.put(db::kModels, chunk_key(t.id, rows[i].index), blobs[i]);
        }
    });
    if (!st) return st;
    if (!refused.empty()) return Status::busy(refused);
    for (const auto& [sid, blob] : added) out.library_ids.push_back(sid);
    logger("fs")->info("imported {} as trace {}: {} chunks, {} library models", t.path, t.id, rows.size(), added.size());
    return out;
}

}  // namespace dgc::fs
