// What `dgcctl status` shows, computed from catalog rows (pure) plus the daemon's status file.
#pragma once

#include <cstdint>
#include <map>
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
    uint64_t model_bytes = 0;
    uint64_t chunks_total = 0, chunks_done = 0;
    double train_seconds = 0;      // over done chunks, for the ETA
    // 1 - (what the store holds) / (what was accepted).
    double saving() const;
    double seconds_per_chunk() const { return chunks_done ? train_seconds / double(chunks_done) : 0; }
};

// State bucket of one trace: the first word of trace_state().
std::string state_bucket(const TraceRow& t);
StoreSummary summarize(const std::vector<TraceRow>& traces, const std::vector<ChunkRow>& chunks);

// MOUNTPOINT (asks the volume's root xattr user.dgcfs.store) or STORE (has catalog/).
Result<std::string> resolve_store(const std::string& path);

std::string human_bytes(uint64_t b);

}  // namespace dgc::fs
