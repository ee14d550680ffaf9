// A consistent copy of a store that may be live (a daemon ingesting, training, expiring):
// LMDB's own compacting copy of the catalog, then exactly the raw segments and closed
// staging files that copy's rows name. The copy mounts with `dgcfs --store DIR`.
//
// Races with the daemon, and why they cannot lose a file the copy needs:
// - Files in raw/ and staging/ are opened before the catalog snapshot. A segment the sweeper
//   expires (or a staging file ingest consumes) after the snapshot is unlinked, but the
//   open descriptor still reads its bytes.
// - A file written by an ingest that commits after the snapshot is not in the copy's rows
//   and not needed; its writer's half-written bytes are never read.
// - A file both created and unlinked between the opening and the snapshot cannot be read:
//   the whole backup is then retried from an empty DIR.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "codec/status.h"

namespace dgc::fs {

struct BackupReport {
    uint64_t traces = 0;          // rows in the copied catalog
    uint64_t raw_files = 0;       // raw segments copied
    uint64_t staging_files = 0;   // closed staging files copied (re-ingested on mount)
    uint64_t catalog_bytes = 0;   // compacted data.mdb
    uint64_t file_bytes = 0;      // raw and staging bytes copied
    int attempts = 0;
};

// Hears of the files copied so far against those the snapshot names (raw and staging).
using BackupProgress = std::function<void(uint64_t files_done, uint64_t files)>;

// DIR must not exist or be an empty directory. Everything written is fsynced.
Result<BackupReport> backup_store(const std::string& store, const std::string& dir, const BackupProgress& progress = {});

}  // namespace dgc::fs
