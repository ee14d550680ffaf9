#include "fs/catalog_rows.h"

#include <map>

#include <nlohmann/json.hpp>

#include "fs/lmdb.h"

namespace dgc::fs {
namespace {
using nlohmann::json;

// JSON keeps rows readable with mdb_dump and tolerant of added fields.
template <typename T>
void get(const json& j, const char* k, T& out) {
    if (auto it = j.find(k); it != j.end() && !it->is_null()) out = it->get<T>();
}

// Owners are written only when known, so rows of the daemon's own files stay as they were.
void put_owner(json& j, int64_t uid, int64_t gid) {
    if (uid >= 0) j["uid"] = uid;
    if (gid >= 0) j["gid"] = gid;
}
void get_owner(const json& j, int64_t& uid, int64_t& gid) {
    get(j, "uid", uid);
    get(j, "gid", gid);
}

// Written only when there are ranges, so rows of undamaged traces stay as they were.
void put_skipped(json& j, const std::vector<SkippedRange>& ranges) {
    if (ranges.empty()) return;
    json a = json::array();
    for (const auto& r : ranges) a.push_back({r.begin, r.end});
    j["skipped"] = std::move(a);
}
// A malformed entry is left out rather than making the whole row unreadable.
void get_skipped(const json& j, std::vector<SkippedRange>& out) {
    auto it = j.find("skipped");
    if (it == j.end() || !it->is_array()) return;
    for (const auto& r : *it) {
        if (r.is_array() && r.size() == 2 && r[0].is_number_unsigned() && r[1].is_number_unsigned() &&
            r[0].get<uint64_t>() <= r[1].get<uint64_t>())
            out.push_back({r[0].get<uint64_t>(), r[1].get<uint64_t>()});
    }
}

std::optional<json> parse(std::string_view s) {
    auto j = json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}
}  // namespace

std::string encode(const TraceRow& r) {
    json j{{"id", r.id},
                {"path", r.path},
                {"mode", r.mode},
                {"mtime_ns", r.mtime_ns},
                {"accepted_ns", r.accepted_ns},
                {"raw_size", r.raw_size},
                {"raw_stored", r.raw_stored},
                {"raw_present", r.raw_present},
                {"raw_expired_ns", r.raw_expired_ns},
                {"unmodelable", r.unmodelable},
                {"warning", r.warning},
                {"format", r.format},
                {"linktype", r.linktype},
                {"out_linktype", r.out_linktype},
                {"nanosecond", r.nanosecond},
                {"packets", r.packets},
                {"chunks", r.chunks},
                {"chunks_done", r.chunks_done},
                {"model_bytes", r.model_bytes},
                {"synth_size", r.synth_size},
                {"fidelity", r.fidelity},
                {"worst_fidelity", r.worst_fidelity},
                {"hold", r.hold}};
    put_owner(j, r.uid, r.gid);
    put_skipped(j, r.skipped);
    return j.dump();
}

std::optional<TraceRow> decode_trace(std::string_view s) {
    auto j = parse(s);
    if (!j) return std::nullopt;
    TraceRow r;
    try {
        get(*j, "id", r.id);
        get(*j, "path", r.path);
        get(*j, "mode", r.mode);
        get(*j, "mtime_ns", r.mtime_ns);
        get(*j, "accepted_ns", r.accepted_ns);
        get(*j, "raw_size", r.raw_size);
        get(*j, "raw_stored", r.raw_stored);
        get(*j, "raw_present", r.raw_present);
        get(*j, "raw_expired_ns", r.raw_expired_ns);
        get(*j, "unmodelable", r.unmodelable);
        get(*j, "warning", r.warning);
        get(*j, "format", r.format);
        get(*j, "linktype", r.linktype);
        get(*j, "out_linktype", r.out_linktype);
        get(*j, "nanosecond", r.nanosecond);
        get(*j, "packets", r.packets);
        get(*j, "chunks", r.chunks);
        get(*j, "chunks_done", r.chunks_done);
        get(*j, "model_bytes", r.model_bytes);
        get(*j, "synth_size", r.synth_size);
        get(*j, "fidelity", r.fidelity);
        get(*j, "worst_fidelity", r.worst_fidelity);
        get(*j, "hold", r.hold);
        get_owner(*j, r.uid, r.gid);
        get_skipped(*j, r.skipped);
    } catch (const json::exception&) {
        return std::nullopt;
    }
    return r;
}

std::string encode(const ChunkRow& r) {
    return json{{"trace", r.trace},           {"index", r.index},         {"first", r.first},
                {"count", r.count},           {"done", r.done},           {"packets", r.packets},
                {"synth_bytes", r.synth_bytes}, {"model_bytes", r.model_bytes}, {"fidelity", r.fidelity},
                {"joint", r.joint},           {"train_seconds", r.train_seconds}, {"parent_id", r.parent_id},
                {"decision", r.decision},     {"why", r.why}}
        .dump();
}

std::optional<ChunkRow> decode_chunk(std::string_view s) {
    auto j = parse(s);
    if (!j) return std::nullopt;
    ChunkRow r;
    try {
        get(*j, "trace", r.trace);
        get(*j, "index", r.index);
        get(*j, "first", r.first);
        get(*j, "count", r.count);
        get(*j, "done", r.done);
        get(*j, "packets", r.packets);
        get(*j, "synth_bytes", r.synth_bytes);
        get(*j, "model_bytes", r.model_bytes);
        get(*j, "fidelity", r.fidelity);
        get(*j, "joint", r.joint);
        get(*j, "train_seconds", r.train_seconds);
        get(*j, "parent_id", r.parent_id);
        get(*j, "decision", r.decision);
        get(*j, "why", r.why);
    } catch (const json::exception&) {
        return std::nullopt;
    }
    return r;
}

std::string chunk_decision(const ChunkRow& r) {
    if (!r.decision.empty()) return r.decision;
    return r.parent_id.empty() ? "keyframe" : "delta";
}

std::string describe_decisions(const std::vector<ChunkRow>& chunks) {
    std::map<std::string, size_t> n;
    for (const auto& c : chunks) ++n[c.done ? chunk_decision(c) : "queued"];
    std::string out = "reused " + std::to_string(n["reused"]) + ", delta " + std::to_string(n["delta"]) + ", keyframe " +
                      std::to_string(n["keyframe"]);
    if (n["queued"]) out += ", queued " + std::to_string(n["queued"]);
    return out;
}

std::string encode(const StagingRow& r) {
    json j{{"id", r.id}, {"path", r.path}, {"mode", r.mode}, {"mtime_ns", r.mtime_ns}, {"closed", r.closed}};
    put_owner(j, r.uid, r.gid);
    return j.dump();
}

std::optional<StagingRow> decode_staging(std::string_view s) {
    auto j = parse(s);
    if (!j) return std::nullopt;
    StagingRow r;
    try {
        get(*j, "id", r.id);
        get(*j, "path", r.path);
        get(*j, "mode", r.mode);
        get(*j, "mtime_ns", r.mtime_ns);
        get(*j, "closed", r.closed);
        get_owner(*j, r.uid, r.gid);
    } catch (const json::exception&) {
        return std::nullopt;
    }
    return r;
}

std::string encode(const DirRow& r) {
    json j{{"mode", r.mode}, {"mtime_ns", r.mtime_ns}};
    if (r.hold) j["hold"] = true;  // absent when false: rows of unheld directories stay as they were
    put_owner(j, r.uid, r.gid);
    return j.dump();
}

std::optional<DirRow> decode_dir(std::string_view s) {
    auto j = parse(s);
    if (!j) return std::nullopt;
    DirRow r;
    try {
        get(*j, "mode", r.mode);
        get(*j, "mtime_ns", r.mtime_ns);
        get(*j, "hold", r.hold);
        get_owner(*j, r.uid, r.gid);
    } catch (const json::exception&) {
        return std::nullopt;
    }
    return r;
}

std::string encode(const JobRow& r) { return be64(r.trace) + be32(r.chunk); }

std::optional<JobRow> decode_job(std::string_view s) {
    if (s.size() != 12) return std::nullopt;
    return JobRow{from_be64(s.substr(0, 8)), from_be32(s.substr(8, 4))};
}

bool all_modelled(const TraceRow& t) { return t.unmodelable.empty() && t.chunks > 0 && t.chunks_done == t.chunks; }

std::string trace_state(const TraceRow& t, bool training_now) {
    if (!t.unmodelable.empty()) return "unmodelable: " + t.unmodelable;
    if (all_modelled(t)) return t.raw_present ? "modelled" : "raw-expired";
    if (t.chunks_done == 0 && !training_now) return "queued";
    return "training " + std::to_string(t.chunks_done) + "/" + std::to_string(t.chunks);
}

}  // namespace dgc::fs
