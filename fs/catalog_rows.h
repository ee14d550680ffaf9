// The rows the catalog stores, and the pure rules that derive a trace's state from them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/skipped_range.h"

namespace dgc::fs {

struct TraceRow {
    uint64_t id = 0;
    std::string path;            // relative to retention/ and archive/
    uint32_t mode = 0644;
    int64_t mtime_ns = 0;        // of the file as written
    int64_t accepted_ns = 0;     // when ingest committed it
    uint64_t raw_size = 0;       // original bytes
    uint64_t raw_stored = 0;     // bytes of the zstd segment on disk
    bool raw_present = true;
    int64_t raw_expired_ns = 0;
    std::string unmodelable;     // reason; empty when modelable
    std::string warning;         // reader's warning about damage it skipped or a damaged tail, if any
    std::vector<SkippedRange> skipped;  // byte ranges of the original no record was modelled from
    std::string format;          // "pcap" / "pcapng" / "" when unparseable
    uint32_t linktype = 0;       // of the input
    uint32_t out_linktype = 1;   // of the synthetic output
    bool nanosecond = false;
    uint64_t packets = 0;        // in the original
    uint32_t chunks = 0;
    uint32_t chunks_done = 0;
    uint64_t model_bytes = 0;
    uint64_t synth_size = 0;     // exact archive/ st_size once all chunks are done
    double fidelity = 0;         // packet-weighted mean JSD over chunks
    double worst_fidelity = 0;   // the worst chunk; the gate compares this
    bool hold = false;           // legal hold by xattr
    int64_t uid = -1, gid = -1;  // owner of the file as written; -1: the daemon's (older rows)
};

struct ChunkRow {
    uint64_t trace = 0;
    uint32_t index = 0;
    uint64_t first = 0;          // record range in the original
    uint64_t count = 0;
    bool done = false;
    uint64_t packets = 0;        // generated
    uint64_t synth_bytes = 0;
    uint64_t model_bytes = 0;
    double fidelity = 0;
    double joint = 0;
    double train_seconds = 0;
    // {}: a brace-initialised row may leave these out without -Wmissing-field-initializers.
    std::string parent_id{};
    std::string decision{};      // "reused", "delta", "keyframe"; "" in rows written before issue 12's reuse
    std::string why{};           // the trainer's one-line reason for it
};

// A committed chunk's decision; for rows written before decisions were recorded, what its
// parent says ("keyframe" without one, else "delta").
std::string chunk_decision(const ChunkRow& r);
// "reused R, delta D, keyframe K" over a trace's committed chunks, then ", queued Q" for
// those still to train (xattr user.dgcfs.decisions).
std::string describe_decisions(const std::vector<ChunkRow>& chunks);

// A file being written in retention/. `closed` turns true when a writer's close()
// (FUSE flush) has made its bytes durable: such files are accepted after a crash.
struct StagingRow {
    uint64_t id = 0;
    std::string path;
    uint32_t mode = 0644;
    int64_t mtime_ns = 0;
    bool closed = false;
    int64_t uid = -1, gid = -1;  // its creator, as in TraceRow
};

struct DirRow {
    uint32_t mode = 0755;
    int64_t mtime_ns = 0;
    bool hold = false;           // legal hold by xattr on the directory: covers its subtree
    int64_t uid = -1, gid = -1;  // as in TraceRow
};

struct JobRow {
    uint64_t trace = 0;
    uint32_t chunk = 0;
};

std::string encode(const TraceRow& r);
std::string encode(const ChunkRow& r);
std::string encode(const StagingRow& r);
std::string encode(const DirRow& r);
std::optional<TraceRow> decode_trace(std::string_view s);
std::optional<ChunkRow> decode_chunk(std::string_view s);
std::optional<StagingRow> decode_staging(std::string_view s);
std::optional<DirRow> decode_dir(std::string_view s);
std::string encode(const JobRow& r);
std::optional<JobRow> decode_job(std::string_view s);

bool all_modelled(const TraceRow& t);
// "queued", "training k/n", "modelled", "raw-expired", "unmodelable: reason".
std::string trace_state(const TraceRow& t, bool training_now);

}  // namespace dgc::fs
