// `dgcctl regenerate --upgrade` on a .dgc: every chunk model older than this build's writer
// format is trained again, with the current trainer, on the old model's own regeneration
// (a .dgc has no raw records), and a new .dgc is assembled. The file is rewritten whole, so
// nothing outside it can name its keyframes: an old keyframe chunk is not offered as a
// parent, new keyframes join as `chunk-<i>` exactly as compress adds them, and keyframe-table
// models no chunk names any more are dropped. Torch-free.
#pragma once

#include <string>
#include <vector>

#include "trainer/chunk_upgrade.h"
#include "trainer/dgc_container.h"

namespace dgc::trainer {

struct UpgradeOptions {
    int steps = 0;  // per chunk; 0 = default_train_steps
    Device device = Device::kCpu;
};

struct DgcUpgrade {
    DgcFile file;                         // the upgraded file (the input when nothing changed)
    std::vector<ChunkChange> changes;     // one per retrained chunk, in chunk order
    std::vector<std::string> dropped;     // keyframe-table ids nothing refers to any more
    size_t current = 0;                   // chunks already at this build's format
    bool changed() const { return !changes.empty(); }
};

// The chunks older than this build's format, with their format and bytes, without training
// (ChunkChange::new_* left zero): what a report without --upgrade lists.
Result<std::vector<ChunkChange>> outdated_chunks(const DgcFile& f);

// `what` names the file in errors.
Result<DgcUpgrade> upgrade_dgc(const DgcFile& f, const UpgradeOptions& opts, const std::string& what);

}  // namespace dgc::trainer
