#include "fs/store_report.h"

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "fs/backpressure.h"
#include "fs/catalog.h"
#include "fs/policy.h"
#include "fs/store_layout.h"

namespace dgc::fs {

namespace {
// Is `pid` a running dgcfs? Its name is checked too, since a dead daemon's pid may be reused.
bool dgcfs_alive(int64_t pid) {
    if (pid <= 0) return false;
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    return std::getline(comm, name) && name == "dgcfs";
}
}  // namespace

double StoreSummary::saving() const {
    if (original_bytes == 0) return 0;
    return 1.0 - double(raw_stored_bytes + model_bytes + shared_model_bytes) / double(original_bytes);
}

std::string state_bucket(const TraceRow& t) {
    if (!t.unmodelable.empty()) return "unmodelable";
    if (all_modelled(t)) return t.raw_present ? "modelled" : "raw-expired";
    return t.chunks_done == 0 ? "queued" : "training";
}

StoreSummary summarize(const std::vector<TraceRow>& traces, const std::vector<ChunkRow>& chunks) {
    StoreSummary s;
    std::set<uint64_t> waiting;
    for (const auto& t : traces) {
        ++s.traces;
        ++s.by_state[state_bucket(t)];
        s.original_bytes += t.raw_size;
        if (t.raw_present) s.raw_stored_bytes += t.raw_stored;
        s.model_bytes += t.model_bytes;
        s.chunks_total += t.chunks;
        s.packets += t.packets;
        if (!t.skipped.empty()) ++s.skipped_traces;
        if (t.unmodelable.empty() && !all_modelled(t)) {
            s.backlog_packets += t.packets;
            ++s.backlog_traces;
            waiting.insert(t.id);
        }
    }
    for (const auto& c : chunks)
        if (c.done) {
            ++s.chunks_done;
            ++s.decisions[chunk_decision(c)];
            s.train_seconds += c.train_seconds;
        } else if (waiting.count(c.trace)) {
            ++s.backlog_chunks;
            s.backlog_chunk_packets += c.count;
        }
    return s;
}

uint64_t shared_library_bytes(const std::vector<std::pair<std::string, uint64_t>>& library,
                              const std::vector<ChunkRow>& chunks) {
    std::set<std::string> held;  // a keyframe chunk's blob is also its library entry
    for (const auto& c : chunks)
        if (c.done && c.parent_id.empty()) held.insert(keyframe_library_id(c.trace, c.index));
    uint64_t bytes = 0;
    for (const auto& [id, size] : library)
        if (!held.count(id)) bytes += size;
    return bytes;
}

Result<std::string> resolve_store(const std::string& path) {
    char buf[4096];
    ssize_t n = ::getxattr(path.c_str(), "user.dgcfs.store", buf, sizeof buf);
    if (n > 0) return std::string(buf, static_cast<size_t>(n));
    if (n < 0 && errno == ENOTCONN)
        return Status::io(path + ": " + std::strerror(ENOTCONN) + " (its dgcfs died; fusermount3 -u it, then mount again)");
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(path) / "catalog" / "data.mdb", ec)) return path;
    return Status::not_found(path + ": neither a mounted dgcfs volume nor a store directory (no catalog/data.mdb)");
}

std::string human_bytes(uint64_t b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(b);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char out[32];
    std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return out;
}

Result<StoreStatus> read_store_status(const std::string& store, double now_s) {
    StoreStatus out;
    out.store = store;
    StoreLayout layout{store};
    auto cat = Catalog::open(layout.catalog_dir(), true);
    if (!cat) return cat.status();
    std::vector<ChunkRow> chunks;
    std::vector<std::pair<std::string, uint64_t>> library;
    auto st = (*cat)->env().read([&](Txn& t) {
        out.traces.clear();
        chunks.clear();
        auto c = t.cursor(db::kTraces);
        for (bool ok = c.first(); ok; ok = c.next())
            if (auto r = decode_trace(c.value())) out.traces.push_back(*r);
        auto k = t.cursor(db::kChunks);
        for (bool ok = k.first(); ok; ok = k.next())
            if (auto r = decode_chunk(k.value())) chunks.push_back(*r);
        out.jobs = 0;
        auto j = t.cursor(db::kJobs);
        for (bool ok = j.first(); ok; ok = j.next()) ++out.jobs;
        out.staging_rows = 0;
        auto s = t.cursor(db::kStaging);
        for (bool ok = s.first(); ok; ok = s.next()) ++out.staging_rows;
        library.clear();
        auto l = t.cursor(db::kLibrary);
        for (bool ok = l.first(); ok; ok = l.next()) library.emplace_back(std::string(l.key()), l.value().size());
    });
    if (!st) return st;
    out.summary = summarize(out.traces, chunks);
    out.summary.shared_model_bytes = shared_library_bytes(library, chunks);
    if (std::ifstream in(layout.status_path()); in) {
        out.live = nlohmann::json::parse(in, nullptr, false);
        if (!out.live.is_object()) out.live = nullptr;
    }
    // A daemon rewrites the file every second; one that stopped or died leaves it stale. A
    // stale file whose daemon still lives is a full disk, not a stopped daemon.
    out.daemon_running = out.live.is_object() && out.live.value("running", false) &&
                         (now_s - double(out.live.value("updated_s", int64_t(0))) <= 5 ||
                          dgcfs_alive(out.live.value("pid", int64_t(0))));
    const std::string policy_file = out.live.is_object() ? out.live.value("policy_file", "") : "";
    if (!policy_file.empty())
        if (auto policy = load_policy(policy_file))
            for (const auto& t : out.traces) {
                if (auto gate = policy->effective(t.path).max_jsd; gate && all_modelled(t) && t.worst_fidelity > *gate)
                    ++out.gate_failures;
                if (raw_waits_for_models(*policy, t, now_s)) ++out.raw_overdue;
            }
    return out;
}

nlohmann::json status_json(const StoreStatus& s, double now_s) {
    using nlohmann::json;
    const auto& sum = s.summary;
    const bool live = s.daemon_running;
    json j;
    j["schema"] = 1;
    j["store"] = s.store;
    json daemon = {{"running", live}, {"pid", nullptr}, {"mountpoint", nullptr}, {"started_s", nullptr},
                   {"updated_s", nullptr}};
    if (live)
        for (const char* k : {"pid", "mountpoint", "started_s", "updated_s"}) daemon[k] = s.live.value(k, json());
    j["daemon"] = daemon;
    json by_state = {{"staging", live ? s.live.value("staging_files", s.staging_rows) : s.staging_rows}};
    for (const char* state : {"queued", "training", "modelled", "raw-expired", "unmodelable"}) by_state[state] = 0;
    for (const auto& [state, n] : sum.by_state) by_state[state] = n;
    j["traces"] = {{"total", sum.traces},
                   {"by_state", by_state},
                   {"gate_failed", s.gate_failures},
                   {"with_skipped", sum.skipped_traces}};
    const json running_jobs = live ? s.live.value("jobs", json::array()) : json::array();
    json eta = nullptr;
    if (s.jobs && sum.seconds_per_chunk() > 0)
        eta = double(s.jobs) * sum.seconds_per_chunk() / double(std::max<size_t>(1, running_jobs.size()));
    json decisions = {{"reused", 0}, {"delta", 0}, {"keyframe", 0}};
    for (const auto& [d, n] : sum.decisions) decisions[d] = n;
    j["queue"] = {{"jobs", s.jobs},
                  {"chunks_total", sum.chunks_total},
                  {"chunks_done", sum.chunks_done},
                  {"decisions", decisions},
                  {"backlog_packets", sum.backlog_packets},
                  {"eta_s", eta}};
    json training = json::array();
    for (const auto& r : running_jobs) {
        const double frac = r.value("fraction", 0.0), elapsed = now_s - r.value("started_s", now_s);
        training.push_back({{"path", r.value("path", "")},
                            {"chunk", r.value("chunk", 0) + 1},
                            {"chunks", r.value("chunks", 0)},
                            {"fraction", frac},
                            {"elapsed_s", elapsed},
                            {"eta_s", frac > 0.01 ? json(elapsed / frac - elapsed) : json()}});
    }
    j["training"] = training;
    j["packets"] = sum.packets;
    j["bytes"] = {{"accepted", sum.original_bytes},
                  {"raw", sum.raw_stored_bytes},
                  {"models", sum.model_bytes},
                  {"shared_models", sum.shared_model_bytes},
                  {"saving", sum.saving()}};
    json unmodelable = json::array();
    for (const auto& t : s.traces)
        if (!t.unmodelable.empty()) unmodelable.push_back({{"path", t.path}, {"reason", t.unmodelable}});
    j["unmodelable"] = unmodelable;
    json skipped = json::array();
    for (const auto& t : s.traces)
        if (!t.skipped.empty())
            skipped.push_back({{"path", t.path},
                               {"ranges", t.skipped.size()},
                               {"bytes", skipped_bytes(t.skipped)},
                               {"summary", describe_skipped(t.skipped)}});
    j["skipped"] = skipped;
    j["recent_errors"] = live ? s.live.value("recent_errors", json::array()) : json::array();
    j["backlog"] = backlog_json({sum.backlog_chunk_packets, sum.backlog_chunks, sum.backlog_traces, s.raw_overdue},
                                live ? s.live.value("rates", json()) : json());
    return j;
}

namespace {

// One metric family: HELP, TYPE, then its samples ("" labels: a single unlabelled sample).
void family(std::ostringstream& os, const std::string& name, const char* type, const char* help,
            const std::vector<std::pair<std::string, double>>& samples) {
    os << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    for (const auto& [labels, v] : samples) os << name << labels << " " << v << "\n";
}

double num(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : 0.0; }

// A rate's {"1m", "15m"} as samples labelled by window; none while no daemon runs.
std::vector<std::pair<std::string, double>> by_window(const nlohmann::json& rate) {
    std::vector<std::pair<std::string, double>> out;
    if (rate.is_object())
        for (const char* w : {"1m", "15m"}) out.push_back({std::string("{window=\"") + w + "\"}", num(rate[w])});
    return out;
}

// A sample only when the value is known.
std::vector<std::pair<std::string, double>> if_known(const nlohmann::json& v) {
    if (!v.is_number()) return {};
    return {{"", num(v)}};
}

}  // namespace

std::string prometheus_metrics(const nlohmann::json& st) {
    std::ostringstream os;
    os.precision(17);
    const auto& q = st["queue"];
    const auto& b = st["bytes"];
    family(os, "dgcfs_up", "gauge", "1 while a dgcfs daemon serves the store.",
           {{"", st["daemon"]["running"].get<bool>() ? 1.0 : 0.0}});
    std::vector<std::pair<std::string, double>> states;
    for (const auto& [state, n] : st["traces"]["by_state"].items())
        states.push_back({"{state=\"" + state + "\"}", num(n)});
    family(os, "dgcfs_traces", "gauge", "Traces by state.", states);
    family(os, "dgcfs_gate_failed_traces", "gauge",
           "Modelled traces whose worst chunk misses the policy's fidelity gate (raw kept).",
           {{"", num(st["traces"]["gate_failed"])}});
    family(os, "dgcfs_skipped_traces", "gauge",
           "Traces with damaged byte ranges their models leave out (pcap records resynchronised past).",
           {{"", num(st["traces"]["with_skipped"])}});
    family(os, "dgcfs_accepted_bytes", "gauge", "Original bytes of every trace accepted.", {{"", num(b["accepted"])}});
    family(os, "dgcfs_raw_bytes", "gauge", "Bytes of raw (zstd) segments on disk.", {{"", num(b["raw"])}});
    family(os, "dgcfs_model_bytes", "gauge", "Bytes of chunk models.", {{"", num(b["models"])}});
    family(os, "dgcfs_shared_model_bytes", "gauge", "Bytes of library models no trace holds as a chunk (base models).",
           {{"", num(b["shared_models"])}});
    family(os, "dgcfs_saving_ratio", "gauge", "1 - (raw + models + shared models) / accepted.", {{"", num(b["saving"])}});
    family(os, "dgcfs_accepted_packets", "gauge", "Packets of every trace accepted; its rate is the ingest rate.",
           {{"", num(st["packets"])}});
    family(os, "dgcfs_backlog_packets", "gauge", "Packets of modelable traces not modelled yet.",
           {{"", num(q["backlog_packets"])}});
    const auto& bl = st["backlog"];
    family(os, "dgcfs_backlog_unmodelled_packets", "gauge",
           "Packets of the chunks not modelled yet (modelable traces): what the backlog ETA divides.",
           {{"", num(bl["packets"])}});
    family(os, "dgcfs_backlog_chunks", "gauge", "Chunks not modelled yet.", {{"", num(bl["chunks"])}});
    family(os, "dgcfs_raw_overdue_traces", "gauge", "Traces past their raw TTL whose raw stays until they are modelled.",
           {{"", num(bl["raw_overdue_traces"])}});
    family(os, "dgcfs_ingest_packets_per_second", "gauge", "Packets accepted per second, averaged over the window.",
           by_window(bl["ingest_packets_per_s"]));
    family(os, "dgcfs_ingest_bytes_per_second", "gauge", "Bytes accepted per second, averaged over the window.",
           by_window(bl["ingest_bytes_per_s"]));
    family(os, "dgcfs_modelling_packets_per_second", "gauge",
           "Packets modelled per second while there is work, averaged over the window.",
           by_window(bl["modelling_packets_per_s"]));
    family(os, "dgcfs_backlog_eta_seconds", "gauge", "Seconds to model the backlog at the 15-minute modelling rate.",
           if_known(bl["eta_s"]));
    family(os, "dgcfs_backlog_growth_packets_per_second", "gauge",
           "15-minute ingest rate minus modelling rate when ingest is faster, else 0.",
           if_known(bl["growth_packets_per_s"]));
    family(os, "dgcfs_queue_jobs", "gauge", "Chunk training jobs waiting or running.", {{"", num(q["jobs"])}});
    family(os, "dgcfs_chunks", "gauge", "Chunks of every trace.", {{"", num(q["chunks_total"])}});
    family(os, "dgcfs_chunks_modelled", "gauge", "Chunks with a committed model; its rate is the modelling rate.",
           {{"", num(q["chunks_done"])}});
    family(os, "dgcfs_training_jobs", "gauge", "Training jobs running now.", {{"", double(st["training"].size())}});
    family(os, "dgcfs_recent_errors", "gauge", "Errors the daemon reported recently (see dgcctl status).",
           {{"", double(st["recent_errors"].size())}});
    return os.str();
}

}  // namespace dgc::fs
