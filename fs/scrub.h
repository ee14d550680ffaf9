// dgcctl scrub as a library: checks every raw frame against its index and CRC, every model
// blob's CRC and decoding, the catalog's cross-references (issue 13 item 4) and, optionally,
// that every fully modelled trace regenerates to its recorded size. Reads through one
// read-only LMDB transaction, so it runs beside a live daemon. Repair never deletes data:
// it moves what nobody references into STORE/lost+found/ and only writes rows that are
// copies of, or derived from, data it has verified (docs/format.md §3, man dgcctl).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "codec/status.h"
#include "fs/store_layout.h"

namespace dgc::fs {

struct ScrubFinding {
    std::string code;       // stable short name, e.g. "raw-frame", "model-corrupt", "job-missing"
    std::string message;    // names the file or row and the reason
    bool damage = true;     // false: a note (e.g. a v1 index has no CRCs to check)
    bool repaired = false;  // repair fixed it
};

struct TraceScrub {
    uint64_t id = 0;
    std::string path;
    std::string state;             // trace_state() of the row as read
    uint64_t frames = 0;           // raw frames checked
    bool checksummed = false;      // those frames had CRCs (index v2)
    uint32_t models = 0;           // model blobs that decoded with a good CRC
    uint32_t regenerated = 0;      // chunks regenerated to their recorded synth_bytes
    std::vector<ScrubFinding> findings;
    size_t damage() const;         // damage not repaired
};

struct ScrubReport {
    std::string store;
    std::vector<TraceScrub> traces;
    std::vector<ScrubFinding> store_findings;  // not tied to an accepted trace: orphans, library, counters
    uint64_t frames = 0, models = 0, library = 0, regenerated = 0;
    size_t damage() const;
    size_t repaired() const;
    bool clean() const { return damage() == 0; }
};

struct ScrubOptions {
    bool repair = false;      // the caller makes sure no daemon runs (dgcctl holds the store lock)
    bool regenerate = true;   // synthesize every fully modelled trace (the slow part)
    bool daemon_live = false; // raw files without a trace may be ingests in progress: notes, not damage
    // Hears of each trace before it is checked: (index 0.., traces, its path). May be empty.
    std::function<void(size_t, size_t, const std::string&)> progress;
};

Result<ScrubReport> scrub_store(const StoreLayout& layout, const ScrubOptions& opts);

// Where repair moves things aside.
inline std::string lost_found_dir(const StoreLayout& layout) { return layout.root + "/lost+found"; }

}  // namespace dgc::fs
