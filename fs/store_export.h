// A trace's archive as one self-contained .dgc (export), and a .dgc as a trace of a store
// (import). The .dgc carries the chunk models and every parent keyframe they need, so
// `dgcctl expand` regenerates, without the store, exactly the bytes `archive/<path>` reads.
// Library ids are local to their container (docs/format.md §4.6, §8): both directions
// rename a delta's parent and nothing else (trainer/blob_parent.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "codec/status.h"
#include "fs/catalog.h"
#include "trainer/dgc_container.h"

namespace dgc::fs {

// TRACE as the user names it: its path under retention/ or archive/ (a leading "/" is
// ignored), else its decimal trace id.
Result<TraceRow> find_trace(Catalog& catalog, const std::string& spec);

// Fails unless every chunk of the trace has a committed model.
Result<trainer::DgcFile> export_trace(Catalog& catalog, const std::string& spec);

struct ImportOutcome {
    uint64_t trace = 0;
    std::string path;
    std::vector<std::string> library_ids;  // added to the store's library
};

// A normalised relative path for a trace, or why `path` cannot be one.
Result<std::string> import_path(const std::string& path);

// The .dgc's chunks become a trace at `path` with models and no raw data; its keyframes join
// the library under ids no other trace or import uses. Every chunk is regenerated once first,
// so a .dgc this build cannot reproduce at its recorded sizes is refused, not stored. The
// catalog must not be served by a daemon (see dgcctl import).
// `chunk_checked` (may be empty) hears of each chunk once it has regenerated: (done, of).
Result<ImportOutcome> import_dgc(Catalog& catalog, const trainer::DgcFile& f, const std::string& path, int64_t now_ns,
                                 const std::function<void(size_t, size_t)>& chunk_checked = {});

}  // namespace dgc::fs
