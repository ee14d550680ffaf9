// `dgcctl regenerate [--upgrade] --store STORE [TRACE...]` as a library: the chunk models of a
// store older than this build's writer format, and (with retraining) their replacement by
// models the current trainer fits to the chunk's raw records where raw is still kept, else
// to the old model's own regeneration.
//
// Keyframes may be shared: other traces' deltas name `t<trace>c<chunk>` as their parent, and
// replacing those bytes would change what every such delta regenerates. So an upgrade writes
// new model records and repoints only the chunks of the trace it upgrades. A chunk that
// retrains into a delta keeps the old keyframe as a library model for whoever names it (it
// may be the new delta's parent itself); the old keyframe is dropped from the library only
// when no chunk in the store names it any more. A chunk that retrains into a keyframe needs
// its library id `t<trace>c<chunk>` (scrub and export find a keyframe chunk's copy there):
// where another chunk still names the old model under that id, the trace is left as it is
// and the report says why. Applying needs the store lock (no daemon), which the caller holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codec/status.h"
#include "fs/catalog.h"
#include "fs/store_layout.h"
#include "trainer/chunk_upgrade.h"
#include "trainer/dgc_upgrade.h"

namespace dgc::fs {

enum class UpgradeMode {
    kReport,  // list what is outdated; train nothing
    kDryRun,  // train and measure, write nothing
    kApply,   // train, measure and commit
};

struct StoreUpgradeOptions {
    UpgradeMode mode = UpgradeMode::kReport;
    trainer::UpgradeOptions train;
};

struct TraceUpgrade {
    uint64_t id = 0;
    std::string path;
    size_t chunks = 0;
    std::vector<trainer::ChunkChange> changes;  // the outdated chunks (new_* filled once retrained)
    std::string left_as_is;                     // why the trace was not upgraded (nothing to do, or refused)
    bool refused = false;                       // it has outdated models the upgrade cannot replace
    std::vector<std::string> library_added;     // ids written (new keyframes)
    std::vector<std::string> library_dropped;   // old keyframes nothing names any more
    std::vector<std::string> library_kept;      // old keyframes still named: "<id>, named by <chunks>"
    bool committed = false;
};

// TRACE names as find_trace takes them (path or id); none = every trace of the store.
Result<std::vector<TraceUpgrade>> upgrade_store(Catalog& catalog, const StoreLayout& layout,
                                                const std::vector<std::string>& names, const StoreUpgradeOptions& opts);

}  // namespace dgc::fs
