// Whole-trace compress/expand on top of train_chunk/generate_chunk: what `dgcctl compress`,
// `expand` and `bench-compress` share. Torch-free.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "codec/capture_reader.h"
#include "trainer/dgc_container.h"
#include "trainer/pipeline.h"

namespace dgc::trainer {

inline constexpr double kDefaultChunkSeconds = 86400;
inline constexpr uint64_t kDefaultChunkPackets = 20000;

struct CompressOptions {
    double chunk_seconds = kDefaultChunkSeconds;
    uint64_t chunk_packets = kDefaultChunkPackets;
    TrainOptions train;
};

// Called after each chunk (index, count, its model) and during training (fraction of all chunks).
struct CompressProgress {
    std::function<void(size_t chunk, size_t chunks, const ChunkModel& m)> chunk_done;
    std::function<void(double fraction)> fraction;
};

// The output format synthesized traffic is written in: Ethernet stays Ethernet, every
// other IP link type becomes raw IP. Fails for link types the codec cannot model.
Result<PcapFormat> output_format(const CaptureInfo& info);

// `base` holds warm-up models; keyframes trained here join the library as "chunk-<i>".
Result<DgcFile> compress_capture(const Capture& cap, const ModelLibrary& base, const CompressOptions& opts,
                                 const CompressProgress& progress);

// Chunks [first, last] (inclusive) regenerated into one pcap (file header included);
// `chunk_done` (may be empty) hears of each chunk as it is regenerated: (done, of).
Result<std::string> expand_dgc(const DgcFile& f, size_t first, size_t last,
                               const std::function<void(size_t, size_t)>& chunk_done = {});

// Reads a base model file written by `dgcctl warmup` into a library under "base:<stem>".
Status load_base_model(const std::string& path, ModelLibrary& lib, std::vector<std::pair<std::string, std::string>>* keep);

// "A..B", "A..", "..B" or "A" (0-based, inclusive) against `count` chunks.
Result<std::pair<size_t, size_t>> parse_chunk_range(const std::string& spec, size_t count);

}  // namespace dgc::trainer
