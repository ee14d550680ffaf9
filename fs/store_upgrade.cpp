#include "fs/store_upgrade.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "codec/capture_reader.h"
#include "codec/log.h"
#include "codec/raw_segment.h"
#include "fs/store_export.h"

namespace dgc::fs {

namespace {

using trainer::in_context;
using ChunkRef = std::pair<uint64_t, uint32_t>;
using Refs = std::set<ChunkRef>;

std::string describe(const Refs& refs) {
    std::string s;
    size_t n = 0;
    for (const auto& [trace, chunk] : refs) {
        if (n++ == 3) return s + " and " + std::to_string(refs.size() - 3) + " more";
        if (!s.empty()) s += ", ";
        s += "trace " + std::to_string(trace) + " chunk " + std::to_string(chunk);
    }
    return s;
}

struct StoredTrace {
    std::vector<ChunkRow> rows;
    std::vector<std::string> blobs;  // by chunk index
    std::map<std::string, Refs> refs;  // every parent id named by a chunk row of the store
};

Result<StoredTrace> load(Catalog& catalog, const TraceRow& t) {
    StoredTrace s;
    auto st = catalog.env().read([&](Txn& x) {
        s = {};
        s.rows = get_chunks(x, t.id);
        for (const auto& r : s.rows) {
            auto v = x.get(db::kModels, chunk_key(t.id, r.index));
            s.blobs.emplace_back(v ? std::string(*v) : std::string());
        }
        auto c = x.cursor(db::kChunks);
        for (bool ok = c.first(); ok; ok = c.next()) {
            auto row = decode_chunk(c.value());
            if (row && !row->parent_id.empty()) s.refs[row->parent_id].insert({row->trace, row->index});
        }
    });
    if (!st) return st;
    if (s.rows.size() != t.chunks)
        return Status::corrupt(t.path + ": catalog lists " + std::to_string(s.rows.size()) + " chunk rows, trace row says " +
                               std::to_string(t.chunks));
    for (size_t i = 0; i < s.rows.size(); ++i)
        if (s.rows[i].index != i || s.blobs[i].empty())
            return Status::corrupt(t.path + " chunk " + std::to_string(i) + ": model missing from the catalog (run dgcctl scrub)");
    return s;
}

// The trace's original records from its raw segment, in file order.
Result<std::vector<PacketRecord>> raw_records(Catalog& catalog, const StoreLayout& layout, const TraceRow& t) {
    auto enc = catalog.frame_index(t.id);
    if (!enc) return enc.status();
    auto index = decode_frame_index(*enc);
    if (!index) return in_context(index.status(), t.path);
    auto reader = RawSegmentReader::open(layout.raw_path(t.id), *index);
    if (!reader) return reader.status();
    std::string bytes(reader->size(), '\0');
    for (uint64_t off = 0; off < bytes.size();) {
        auto n = reader->read(off, std::span<char>(bytes.data() + off, bytes.size() - off));
        if (!n) return n.status();
        if (*n == 0) return Status::corrupt(layout.raw_path(t.id) + ": raw segment shorter than its index");
        off += *n;
    }
    auto cap = read_capture_memory(t.path, std::move(bytes));
    if (!cap) return cap.status();
    return std::move(cap->records);
}

// The trace row's totals from its chunk rows, as Catalog::commit_model derives them.
void retotal(TraceRow& t, const std::vector<ChunkRow>& rows) {
    uint64_t model = 0, synth = 0, packets = 0;
    double weighted = 0, worst = 0;
    for (const auto& r : rows) {
        model += r.model_bytes;
        synth += r.synth_bytes;
        packets += r.count;
        weighted += r.fidelity * double(r.count);
        worst = std::max(worst, r.fidelity);
    }
    t.model_bytes = model;
    t.synth_size = 24 + synth;
    t.fidelity = packets ? weighted / double(packets) : 0;
    t.worst_fidelity = worst;
}

class TraceUpgrader {
public:
    TraceUpgrader(Catalog& catalog, const StoreLayout& layout, const StoreUpgradeOptions& opts, const TraceRow& t)
        : catalog_(catalog), layout_(layout), opts_(opts), t_(t) {
        u_.id = t.id;
        u_.path = t.path;
        u_.chunks = t.chunks;
    }

    Result<TraceUpgrade> run() {
        if (!t_.unmodelable.empty()) return leave("unmodelable (" + t_.unmodelable + "): it has no models");
        if (!all_modelled(t_))
            return leave("not fully modelled yet (" + trace_state(t_, false) + "); the daemon trains it with this build");
        auto s = load(catalog_, t_);
        if (!s) return s.status();
        s_ = std::move(*s);
        for (size_t i = 0; i < s_.rows.size(); ++i) {
            const std::string name = t_.path + " chunk " + std::to_string(i);
            auto format = trainer::blob_format(s_.blobs[i], name);
            if (!format) return format.status();
            if (!trainer::needs_upgrade(*format)) continue;
            trainer::ChunkChange c;
            c.index = i;
            c.old_format = *format;
            c.old_parent = s_.rows[i].parent_id;
            c.old_model_bytes = s_.blobs[i].size();
            c.old_synth_bytes = s_.rows[i].synth_bytes;
            c.old_packets = s_.rows[i].packets;
            c.from_raw = t_.raw_present;
            u_.changes.push_back(std::move(c));
        }
        if (u_.changes.empty() || opts_.mode == UpgradeMode::kReport) return u_;
        if (auto st = retrain(); !st) return st;
        if (!u_.left_as_is.empty() || opts_.mode == UpgradeMode::kDryRun) return u_;
        if (auto st = commit(); !st) return st;
        return u_;
    }

private:
    TraceUpgrade leave(std::string why) {
        u_.left_as_is = std::move(why);
        return u_;
    }

    // Chunks that name `id` once this trace's retrained chunks are repointed.
    Refs users(const std::string& id) const {
        Refs r;
        if (auto it = s_.refs.find(id); it != s_.refs.end())
            for (const auto& ref : it->second)
                if (ref.first != t_.id || !replaced(ref.second)) r.insert(ref);
        for (const auto& [k, m] : new_models_)
            if (m.parent_id == id) r.insert({t_.id, k});
        return r;
    }
    bool replaced(uint32_t chunk) const {
        return std::any_of(u_.changes.begin(), u_.changes.end(), [&](const auto& c) { return c.index == chunk; });
    }

    // The records chunk i is retrained on: its range of the raw records while raw is kept,
    // else what its old model regenerates.
    Result<std::vector<PacketRecord>> source_of(uint32_t i, const std::string& name) {
        if (!t_.raw_present) {
            auto g = trainer::generate_chunk(fmt_, s_.blobs[i], old_library_);
            if (!g) return in_context(g.status(), name);
            return g;
        }
        if (!raw_) {
            auto r = raw_records(catalog_, layout_, t_);
            if (!r) return r.status();
            raw_ = std::move(*r);
        }
        const ChunkRow& row = s_.rows[i];
        if (row.first + row.count > raw_->size())
            return Status::corrupt(name + ": ends past the " + std::to_string(raw_->size()) + " records of its raw segment");
        return std::vector<PacketRecord>(raw_->begin() + long(row.first), raw_->begin() + long(row.first + row.count));
    }

    // A new keyframe of chunk i takes the library id t<trace>c<i>; false, and the trace is
    // refused, where another chunk still decodes against the model under that id.
    bool take_keyframe_id(uint32_t i, const std::string& blob) {
        const std::string id = keyframe_library_id(t_.id, i);
        if (library_.find(id)) {
            if (Refs r = users(id); !r.empty()) {
                u_.left_as_is = "chunk " + std::to_string(i) + " retrains as a keyframe, which must take library id " + id +
                                ", but " + describe(r) + " decode against the model stored there; replacing it would "
                                "change what they regenerate";
                u_.refused = true;
                return false;
            }
        }
        library_.add(id, blob);
        u_.library_added.push_back(id);
        return true;
    }

    Status retrain() {
        auto lib = catalog_.library();
        if (!lib) return lib.status();
        for (auto& [id, blob] : *lib) library_.add(id, std::move(blob));
        old_library_ = library_;
        fmt_.linktype = t_.out_linktype;
        fmt_.nanosecond = t_.nanosecond;
        for (auto& change : u_.changes) {
            const uint32_t i = static_cast<uint32_t>(change.index);
            const std::string name = t_.path + " chunk " + std::to_string(i);
            auto source = source_of(i, name);
            if (!source) return source.status();
            if (source->empty()) return Status::invalid(name + ": no records to train on");
            auto seed = trainer::blob_seed(s_.blobs[i], name);
            if (!seed) return seed.status();
            auto m = trainer::retrain_chunk(fmt_, *source, library_, *seed, opts_.train.steps, opts_.train.device, change);
            if (!m) return in_context(m.status(), name);
            if (m->parent_id.empty() && !take_keyframe_id(i, m->blob)) return Status::ok();
            new_models_.emplace(i, std::move(*m));
        }
        // An old keyframe of this trace stays while anything names it.
        for (const auto& change : u_.changes)
            if (change.old_parent.empty() && !new_models_.at(uint32_t(change.index)).parent_id.empty()) {
                const std::string id = keyframe_library_id(t_.id, change.index);
                if (Refs r = users(id); r.empty()) u_.library_dropped.push_back(id);
                else u_.library_kept.push_back(id + ", named by " + describe(r));
            }
        return Status::ok();
    }

    Status commit() {
        std::vector<ChunkRow> rows = s_.rows;
        for (const auto& [i, m] : new_models_) {
            ChunkRow& r = rows[i];
            r.packets = m.packets;
            r.synth_bytes = m.synth_bytes;
            r.model_bytes = m.blob.size();
            r.fidelity = m.fidelity;
            r.joint = m.joint;
            r.train_seconds = 0;  // as in a .dgc: equal inputs give equal rows
            r.parent_id = m.parent_id;
        }
        TraceRow t = t_;
        retotal(t, rows);
        std::string moved;
        auto st = catalog_.env().write([&](Txn& x) {
            for (const auto& [i, m] : new_models_) {
                auto v = x.get(db::kModels, chunk_key(t.id, i));
                if (!v || *v != s_.blobs[i]) moved = t.path + " chunk " + std::to_string(i) + ": model changed meanwhile";
            }
            if (!moved.empty()) return;
            for (const auto& [i, m] : new_models_) {
                x.put(db::kModels, chunk_key(t.id, i), m.blob);
                x.put(db::kChunks, chunk_key(t.id, i), encode(rows[i]));
            }
            for (const auto& id : u_.library_added) x.put(db::kLibrary, id, *library_.find(id));
            for (const auto& id : u_.library_dropped) x.del(db::kLibrary, id);
            put_trace(x, t);
        });
        if (!st) return st;
        if (!moved.empty()) return Status::busy(moved);
        u_.committed = true;
        logger("fs")->info("upgraded {}: {} chunk models to format {}", t.path, new_models_.size(),
                           u_.changes.front().new_format);
        return Status::ok();
    }

    Catalog& catalog_;
    const StoreLayout& layout_;
    const StoreUpgradeOptions& opts_;
    const TraceRow t_;
    TraceUpgrade u_;
    StoredTrace s_;
    PcapFormat fmt_;
    trainer::ModelLibrary library_;      // parent candidates, with this trace's new keyframes
    trainer::ModelLibrary old_library_;  // as the store holds it: what the old models decode against
    std::optional<std::vector<PacketRecord>> raw_;
    std::map<uint32_t, trainer::ChunkModel> new_models_;
};

}  // namespace

Result<std::vector<TraceUpgrade>> upgrade_store(Catalog& catalog, const StoreLayout& layout,
                                                const std::vector<std::string>& names, const StoreUpgradeOptions& opts) {
    std::vector<TraceRow> traces;
    if (names.empty()) {
        auto all = catalog.traces();
        if (!all) return all.status();
        traces = std::move(*all);
    }
    for (const auto& n : names) {
        auto t = find_trace(catalog, n);
        if (!t) return t.status();
        traces.push_back(std::move(*t));
    }
    std::vector<TraceUpgrade> out;
    for (const auto& t : traces) {
        // Each trace sees the library as the traces before it left it.
        auto u = TraceUpgrader(catalog, layout, opts, t).run();
        if (!u) return u.status();
        out.push_back(std::move(*u));
    }
    return out;
}

}  // namespace dgc::fs
