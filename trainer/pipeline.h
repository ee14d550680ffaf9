// The compress/expand pipeline as a library, torch-free at its surface: fs/ and
// tools/ call this; everything LibTorch lives behind it in trainer/*.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codec/capture_writer.h"
#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/semantics.h"
#include "codec/record.h"
#include "codec/status.h"
#include "trainer/chunk_tokens.h"
#include "trainer/model_blob.h"
#include "trainer/pipeline_policy.h"

namespace dgc::trainer {

struct ChunkBounds {
    uint64_t first = 0;  // index of the first record (file order)
    uint64_t count = 0;
};

// Adjacent packets, each chunk bounded by a time span and a packet count.
std::vector<ChunkBounds> plan_chunks(std::span<const PacketRecord> records, double chunk_seconds,
                                     uint64_t chunk_packets);

// The same plan, fed one timestamp at a time (ingest streams captures of any size).
class ChunkPlanner {
public:
    ChunkPlanner(double chunk_seconds, uint64_t chunk_packets);
    void add(int64_t t_ns);
    const std::vector<ChunkBounds>& chunks() const { return out_; }

private:
    int64_t limit_ns_;
    uint64_t max_packets_;
    int64_t start_t_ = 0;
    uint64_t seen_ = 0;
    std::vector<ChunkBounds> out_;
};

enum class Device { kAuto, kCpu, kCuda };

struct TrainOptions {
    Device device = Device::kAuto;
    int steps = 0;  // optimizer steps per chunk; 0 = default_train_steps(packets), a keyframe's default_keyframe_steps
    double step_scale = 1.0;  // scales those defaults (bench-compress's step sweep); unused with `steps`
    double bytes_per_packet = kDefaultBytesPerPacket;  // the storage knob: model bytes per packet, side included (0, 4]
    uint64_t seed = 1;
    // Drift-aware reuse (issue 12): store no weights when the best parent alone, with the
    // chunk's own side information, regenerates the chunk within the gate (reuse_gate()).
    bool reuse = true;
    std::optional<double> max_jsd;  // the volume's fidelity gate for this chunk (policy max_jsd), if any
    std::function<void(double fraction)> progress;  // 0..1 within this chunk; may be empty
    // Called once the parent is chosen, before any fitting: whether this chunk trains a new
    // keyframe (the only outcome that adds to the library). Lets parallel workers start the
    // next chunk as soon as it would see the library a one-at-a-time run sees. May be empty.
    std::function<void(bool keyframe)> on_parent_chosen;
};

// What train_chunk stored, and why (catalog, xattr, status, log).
enum class ChunkDecision { kKeyframe, kDelta, kReused };
const char* decision_name(ChunkDecision d);  // "keyframe", "delta", "reused"

// One trained chunk: the value stored in LMDB and in a .dgc container.
struct ChunkModel {
    std::string blob;          // self-contained: parent id, quantised delta, side information
    std::string parent_id;     // keyframe the delta is against ("" when the blob is itself a keyframe)
    uint64_t packets = 0;      // records generate_chunk() will produce
    uint64_t synth_bytes = 0;  // exact pcap_records_size() of those records
    double fidelity = 0;       // mean of the 17 spec metrics against the real chunk
    double joint = 0;          // mean of the 5 joint metrics
    double train_seconds = 0;  // wall-clock, for logs and the catalog only: never in a .dgc
    uint64_t side_bytes = 0;   // the chunk's side information, zstd-compressed, as the knob counts it
    uint64_t budget_bytes = 0; // what the knob allows this chunk (pool_fill_bytes)
    int lora_rank = 0;         // adapter rank the knob left (0 for a keyframe)
    ChunkDecision decision = ChunkDecision::kKeyframe;
    std::string why;           // one line: the parent's loss, the reuse candidate's fidelity against the gate
};

// Keyframe models (base models from warm-up and promoted chunk models), by id.
class ModelLibrary {
public:
    void add(const std::string& id, std::string blob) { models_[id] = std::move(blob); }
    const std::string* find(const std::string& id) const {
        auto it = models_.find(id);
        return it == models_.end() ? nullptr : &it->second;
    }
    const std::map<std::string, std::string>& all() const { return models_; }

private:
    std::map<std::string, std::string> models_;
};

// What the reuse check measures a candidate against: the real chunk's floors and its
// semantics profile.
struct ReuseBaseline {
    fidelity::FidelityReport floor;
    fidelity::SemanticSet sem_floor;
    fidelity::SemanticProfile real_sem;
};
ReuseBaseline reuse_baseline(std::span<const PacketRecord> chunk);

// The library keyframe a chunk starts from: the one with the lowest loss on a sample of the
// chunk's flows. The choice depends on the chunk and the library alone, so a worker may make
// it ahead of training once no earlier chunk can add a keyframe.
struct ParentChoice {
    std::string id;  // the best-scoring keyframe; "" when none scores
    double loss = std::numeric_limits<double>::infinity();
    ParamSet params;
    ModelBlob side;  // the keyframe's side bytes and blob version, no weights
    // Its loss on its own regenerated traffic (NaN for a base model, or a keyframe): how far
    // `loss` is from what traffic it models costs it.
    double own_loss = std::numeric_limits<double>::quiet_NaN();
    // Trains a new keyframe: no parent, or one so far off it teaches nothing (strong drift).
    bool keyframe() const { return id.empty() || loss > kParentMaxLoss; }
};
ParentChoice choose_parent(const EncodedChunk& enc, const ModelLibrary& library, uint64_t seed);
// Whether train_chunk tries to reuse that parent for a chunk of `packets` (and needs the
// chunk's ReuseBaseline): reuse on, a parent, enough packets, drift not ruling it out.
inline bool reuse_tried(const ParentChoice& c, uint64_t packets, bool reuse_on) {
    return reuse_on && !c.keyframe() && reuse_considered(packets) && reuse_plausible(c.loss, c.own_loss);
}
// A keyframe blob's loss on the traffic it regenerates with `linktype` (nats per packet, as
// choose_parent() scores chunks); NaN for a base model, which regenerates nothing.
double own_traffic_loss(const std::string& keyframe_blob, uint32_t linktype, uint64_t seed);

// What train_chunk needs of the chunk alone, whatever the library holds, so a worker that
// would otherwise wait for a keyframe can compute it for the chunks after it. The same
// inputs give the same analysis: a model does not depend on who computed it, or when.
struct ChunkAnalysis {
    EncodedChunk enc;              // in the chunk's own order, before a parent's
    fidelity::TraceProfile real;   // the real chunk's fidelity profile
    std::optional<ReuseBaseline> baseline;  // computed on first need when absent
    // Chosen ahead, against the library this chunk's training would see; chosen by
    // train_chunk when absent.
    std::optional<ParentChoice> parent;
};
// with_baseline: also the reuse baseline (worth it where reuse will be considered).
ChunkAnalysis analyze_chunk(std::span<const PacketRecord> chunk, uint32_t linktype, bool with_baseline);

// `ahead`: the chunk's analysis when computed before (train_chunk uses it up); else it is
// computed here.
Result<ChunkModel> train_chunk(const PcapFormat& fmt, std::span<const PacketRecord> chunk,
                               const ModelLibrary& library, const TrainOptions& opts,
                               ChunkAnalysis* ahead = nullptr);

// Deterministic: the same blob and library give the same records on every call.
Result<std::vector<PacketRecord>> generate_chunk(const PcapFormat& fmt, const std::string& blob,
                                                 const ModelLibrary& library);

}  // namespace dgc::trainer
