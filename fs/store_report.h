// What `dgcctl status` shows, computed from catalog rows (pure) plus the daemon's status file.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "codec/status.h"
#include "fs/catalog_rows.h"

namespace dgc::fs {

struct StoreSummary {
    std::map<std::string, uint64_t> by_state;  // "queued", "training", "modelled", "raw-expired", "unmodelable"
    uint64_t traces = 0;
    uint64_t original_bytes = 0;   // everything ever accepted, uncompressed
    uint64_t raw_stored_bytes = 0; // zstd segments still on disk
    uint64_t model_bytes = 0;         // the traces' own chunk models
    uint64_t shared_model_bytes = 0;  // library models no trace holds as a chunk: base models,
                                      // keyframes carried in by import
    uint64_t chunks_total = 0, chunks_done = 0;
    std::map<std::string, uint64_t> decisions;  // committed chunks by chunk_decision(): "reused", "delta", "keyframe"
    uint64_t packets = 0;          // in every accepted capture
    uint64_t skipped_traces = 0;   // traces with damaged byte ranges their models leave out
    uint64_t backlog_packets = 0;  // in modelable traces not modelled yet
    // What the workers have left: chunks not modelled yet of modelable traces, their packets.
    uint64_t backlog_chunk_packets = 0, backlog_chunks = 0, backlog_traces = 0;
    double train_seconds = 0;      // over done chunks, for the ETA
    // 1 - (what the store holds) / (what was accepted).
    double saving() const;
    double seconds_per_chunk() const { return chunks_done ? train_seconds / double(chunks_done) : 0; }
};

// State bucket of one trace: the first word of trace_state().
std::string state_bucket(const TraceRow& t);
StoreSummary summarize(const std::vector<TraceRow>& traces, const std::vector<ChunkRow>& chunks);
// Bytes of library models (id, size) that no chunk holds as its own keyframe.
uint64_t shared_library_bytes(const std::vector<std::pair<std::string, uint64_t>>& library,
                              const std::vector<ChunkRow>& chunks);

// MOUNTPOINT (asks the volume's root xattr user.dgcfs.store) or STORE (has catalog/).
Result<std::string> resolve_store(const std::string& path);

std::string human_bytes(uint64_t b);

// Everything `dgcctl status` reports about one store, as read now: the catalog (opened
// read-only) and, when it is fresh, the status file of a running daemon.
struct StoreStatus {
    std::string store;
    std::vector<TraceRow> traces;
    StoreSummary summary;
    uint64_t jobs = 0, staging_rows = 0;
    nlohmann::json live;        // STORE/status.json as the daemon wrote it (null when absent)
    bool daemon_running = false; // status file says running and is at most 5 s old (or its dgcfs still lives)
    // Modelled traces whose worst chunk misses the fidelity gate (max_jsd) of the daemon's
    // policy: their raw never expires. 0 when the policy sets no gate or cannot be read.
    uint64_t gate_failures = 0;
    // Traces whose raw TTL under that policy has elapsed but that wait to be modelled: raw kept.
    uint64_t raw_overdue = 0;
};
Result<StoreStatus> read_store_status(const std::string& store, double now_s);

// The documented `dgcctl status --json` object (schema 1, man dgcctl.1). Pure.
nlohmann::json status_json(const StoreStatus& s, double now_s);

// The same report in Prometheus' text format (for node_exporter's textfile collector),
// metric names dgcfs_* as listed in dgcfs(8). Pure.
std::string prometheus_metrics(const nlohmann::json& status);

}  // namespace dgc::fs
