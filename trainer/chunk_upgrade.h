// Moving one chunk model to this build's writer format (`dgcctl regenerate --upgrade`,
// docs/format.md §11): a stored model keeps regenerating its old bytes with its own
// version's frozen generator until an operator asks for better synthesis. Then the chunk
// is trained again with the current trainer on the best source left (its raw records, or
// else the old model's own regeneration), and the new model's regeneration is measured
// against that source so the operator sees what the archive's bytes turn into.
// Torch-free; shared by the .dgc (trainer/dgc_upgrade.h) and store (fs/store_upgrade.h) paths.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "codec/capture_writer.h"
#include "codec/record.h"
#include "codec/status.h"
#include "trainer/pipeline.h"

namespace dgc::trainer {

// The format version byte of a model blob, decoded and checked (`what` names it in errors).
Result<uint8_t> blob_format(std::string_view blob, const std::string& what);

// The training seed a blob was written with: a retrained model keeps it, so an upgrade of the
// same input gives the same bytes and the model keeps its place in the generation seed.
Result<uint64_t> blob_seed(std::string_view blob, const std::string& what);

// What encode_blob writes; a chunk model older than that is upgraded.
uint8_t writer_format();
bool needs_upgrade(uint8_t format);

// What retraining one chunk changed, for the report: formats, model bytes, regenerated
// bytes and packets, and the new regeneration's fidelity against the training source.
struct ChunkChange {
    size_t index = 0;
    uint8_t old_format = 0, new_format = 0;
    std::string old_parent, new_parent;  // "" = keyframe
    uint64_t old_model_bytes = 0, new_model_bytes = 0;
    uint64_t old_synth_bytes = 0, new_synth_bytes = 0;
    uint64_t old_packets = 0, new_packets = 0;
    bool from_raw = false;  // trained on the raw records, else on the old model's regeneration
    std::optional<double> mean17, joint, semantics;  // new regeneration against the source
};

// Trains a new model on `source` with `library` as the parent candidates and measures its
// regeneration against `source` (17-mean and joint as train_chunk records them, plus the
// semantics mean) into `change`'s new_* and fidelity fields. `steps` 0 = the default budget.
Result<ChunkModel> retrain_chunk(const PcapFormat& fmt, std::span<const PacketRecord> source, const ModelLibrary& library,
                                 uint64_t seed, int steps, Device device, ChunkChange& change);

// `s` with `what: ` in front of its message, same code.
Status in_context(const Status& s, const std::string& what);

}  // namespace dgc::trainer
