// The chunk model behind a torch-free surface: a flow-attribute model (autoregressive over
// the flow columns of chunk_tokens.h) and a per-flow packet-sequence GRU conditioned on the
// flow. Weights travel as plain float tensors (ParamSet); LibTorch stays in trainer/*.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

struct ParamTensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> data;
};
using ParamSet = std::vector<ParamTensor>;

struct FitOptions {
    // Optimizer steps. A budget in steps, never in seconds, so the same inputs and build
    // train the same weights whatever the machine's load.
    int steps = 100;
    uint64_t seed = 1;
    int lora_rank = 4;
    bool cuda = false;
    // A chunk's own keyframe: rows of its weights that the chunk never exercises are stored as
    // zeros (zero_unused_rows in torch_nets.h). Not for a base model, which serves traces it
    // never saw.
    bool zero_unused = false;
    std::function<void(double)> progress;
};

struct FitResult {
    ParamSet params;  // keyframe: every weight; delta: LoRA factors and head-bias differences
    double loss = 0;  // mean loss over the last steps, nats per packet
    int steps = 0;
};

// From scratch: every weight trains; batches are drawn from all chunks by their packet counts
// (warm-up trains one base model over several traces).
FitResult fit_keyframe(const std::vector<const EncodedChunk*>& chunks, const FitOptions& opts);
// From a keyframe: only low-rank head adapters and head biases train; returns the delta.
FitResult fit_delta(const ParamSet& keyframe, const EncodedChunk& chunk, const FitOptions& opts);

// Loss (nats per packet) of keyframe (+ delta when given) on up to `max_flows` flows of the chunk.
double model_loss(const ParamSet& keyframe, const ParamSet* delta, int lora_rank, const EncodedChunk& chunk,
                  size_t max_flows, uint64_t seed);

struct SampledTokens {
    std::vector<FlowTokens> flows;
    std::vector<PacketTokens> packets;
};
// Deterministic for a given (weights, side, seed) on one build and machine.
SampledTokens sample_tokens(const ParamSet& keyframe, const ParamSet* delta, int lora_rank, const ChunkSide& side,
                            uint64_t seed);

bool cuda_available();

// Re-selects OpenBLAS's kernels so stored models regenerate the same bytes on every CPU
// (model_api.cpp says why), once a process. The first model computation does it anyway;
// main() calls it before starting threads because it sets OPENBLAS_CORETYPE, and glibc's
// setenv is not safe beside another thread's getenv.
void pin_blas_kernels();

}  // namespace dgc::trainer
