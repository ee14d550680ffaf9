// Accepting a closed staging file: raw segment, parse, chunk plan, and one catalog
// transaction that creates the trace, its chunks and one training job per chunk.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "codec/capture_reader.h"
#include "codec/status.h"
#include "fs/catalog.h"
#include "fs/store_layout.h"

namespace dgc::fs {

struct IngestRequest {
    uint64_t staging_id = 0;
    std::string path;
    uint32_t mode = 0644;
    int64_t mtime_ns = 0;
    int64_t uid = -1, gid = -1;
    double chunk_seconds = 60;
    uint64_t chunk_packets = 20000;
};

struct IngestOutcome {
    uint64_t trace = 0;
    uint32_t chunks = 0;
    std::string unmodelable;  // empty when training jobs were queued
};

// Why a parsed capture cannot be modelled, or "" when it can (pure; unit-tested).
std::string unmodelable_reason(const CaptureInfo& info, size_t records);

// The synthetic output's link type: Ethernet in, Ethernet out; raw IP for everything else.
uint32_t output_linktype(uint32_t input_linktype);

// True when `file` holds exactly the original bytes of `t` (whose raw must be present):
// a writer that opened an accepted file and wrote nothing (touch), or wrote the same bytes
// again. Such a close changes the file's metadata only, never its models.
Result<bool> same_bytes_as_raw(const Catalog& catalog, const StoreLayout& layout, const std::string& file,
                               const TraceRow& t);

// `commit_guard` runs just before the catalog commit; returning false abandons the
// ingest (the file was unlinked meanwhile) and removes the segment written so far.
Result<IngestOutcome> ingest_staging(Catalog& catalog, const StoreLayout& layout, const IngestRequest& req,
                                     const std::function<bool()>& commit_guard);

}  // namespace dgc::fs
