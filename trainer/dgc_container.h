// The .dgc file: what `dgcctl compress` writes and `expand` reads. It holds exactly the
// chunk blobs the filesystem keeps in LMDB, the keyframes they refer to, and per chunk the
// figures recorded at compress time. Versioned; a CRC-32 covers everything after the header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codec/capture_writer.h"
#include "codec/status.h"
#include "trainer/pipeline.h"

namespace dgc::trainer {

struct DgcChunk {
    ChunkModel model;
    uint64_t real_packets = 0;
    int64_t real_t0 = 0;  // earliest and latest real timestamps, for information
    int64_t real_t1 = 0;
};

struct DgcFile {
    PcapFormat format;
    std::string source;  // input file name, for information
    std::vector<std::pair<std::string, std::string>> keyframes;  // base models (id, blob)
    std::vector<DgcChunk> chunks;

    // Base models plus the chunks that are keyframes, under keyframe_chunk_id().
    ModelLibrary library() const;
};

// Library id of a chunk trained from scratch.
std::string keyframe_chunk_id(size_t chunk);

std::string serialize_dgc(const DgcFile& f);
// `what` names the file in errors: foreign, truncated, corrupt or newer files are refused.
Result<DgcFile> parse_dgc(std::string_view bytes, const std::string& what);

Status write_dgc(const std::string& path, const DgcFile& f);
Result<DgcFile> read_dgc(const std::string& path);

}  // namespace dgc::trainer
