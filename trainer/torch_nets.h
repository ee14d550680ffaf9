// PRIVATE to trainer/*.cpp (includes LibTorch): the two networks of a chunk model and
// the batch building shared by training, scoring and sampling.
#pragma once

#include <torch/torch.h>

#include "trainer/model.h"
#include "trainer/rng.h"

namespace dgc::trainer {

inline constexpr int kEmb = 32;
inline constexpr int kHidden = 64;
inline constexpr int kSegment = 32;   // packet sequences are modelled in segments of this length
inline constexpr int kPosClasses = 32;  // step within a flow's first segment; the last = continuation
// Segments carry the GRU state and the last packet's tokens from the segment before them
// for this many segments of a flow; later ones start afresh, so generation never runs more
// than kCarrySegments * kSegment sequential steps however long a flow is.
inline constexpr int kCarrySegments = 16;
inline bool carries_state(uint32_t offset) { return offset > 0 && offset < uint32_t{kCarrySegments} * kSegment; }

// Linear layer with an optional low-rank adapter (W + B·A), the part a delta fine-tunes.
// Format 42: a head that draws after the segment's direction also has a bias per direction
// (`by_dir`), a keyframe's weight: a delta adapts the layer's own bias, as before, and costs
// no more bytes.
struct HeadImpl : torch::nn::Module {
    HeadImpl(int in, int out, int rank, bool by_dir = false);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor forward_by_dir(const torch::Tensor& x, const torch::Tensor& dir);  // by_dir heads
    torch::nn::Linear lin{nullptr};
    torch::Tensor lora_a, lora_b;
    torch::Tensor dir_bias;  // [2, out]
    int rank = 0;
};
TORCH_MODULE(Head);

// p(proto | phase) p(srv port | ...) ... p(duration | ...): one shared trunk over the sum of
// the embeddings of the columns already known plus a column-position embedding.
struct FlowNetImpl : torch::nn::Module {
    explicit FlowNetImpl(int rank);
    torch::Tensor trunk(const torch::Tensor& x);
    std::vector<torch::Tensor> logits(const torch::Tensor& attrs);  // per predicted column
    torch::Tensor loss(const torch::Tensor& attrs);  // [B, kFlowAttrCount] long -> mean NLL per flow
    torch::nn::ModuleList emb, heads;
    torch::nn::Embedding pos{nullptr};
    torch::nn::Linear l1{nullptr}, l2{nullptr};
};
TORCH_MODULE(FlowNet);

// A batch of segments for training and scoring, longest first, their steps packed: every
// segment's step 0, then step 1 of those that have one, and so on (PyTorch's PackedSequence);
// positions past a segment's end are not in it.
struct PacketBatch {
    torch::Tensor cond;    // [S, 4] proto, srv port, pkts class, dur class
    torch::Tensor prev;    // [N, 5] dir, gap, len, flag, pos of the previous step, packed
    torch::Tensor rows;    // [N] long: the segment of each packed step
    torch::Tensor target;  // [N, 4]
    torch::Tensor mask;    // [N, 4] float: which targets count
    std::vector<int64_t> batch_sizes;  // per step t: the segments that have one
    // Segments that carry state (carries_state()): their rows in the batch and the inputs
    // of the segment before them (whole, kSegment steps, time-major: step 0 of each, then
    // step 1...), run without gradient to warm their initial GRU state.
    torch::Tensor carry_rows;  // [C] long, undefined when C = 0
    torch::Tensor burn_prev;   // [kSegment * C, 5]

    void to(torch::Device dev);
};

struct PacketNetImpl : torch::nn::Module {
    explicit PacketNetImpl(int rank, bool time_size_only = false);
    torch::Tensor condition(const torch::Tensor& cond);           // [S, E]
    torch::Tensor initial_state(const torch::Tensor& c);          // [1, S, H] from the condition
    torch::Tensor batch_state(const PacketBatch& b, const torch::Tensor& c);  // with burn-in
    torch::Tensor step_input(const torch::Tensor& prev, const torch::Tensor& c);  // [N, 5], [N, E] -> [N, 2E]
    // step_input, bit for bit, without tensor ops: prev [rows, 5], c [rows, E] contiguous
    // rows, out [rows, 2E].
    void step_input_rows(const int64_t* prev, const float* c, int64_t rows, float* out);
    std::vector<torch::Tensor> heads_of(const torch::Tensor& h);  // 4 x [..., V]
    // Format 42: the gap, length and flag logits once the step's direction `dir` (long,
    // h's shape without its last dimension) is known.
    std::vector<torch::Tensor> heads_given_dir(const torch::Tensor& h, const torch::Tensor& dir);
    std::vector<torch::Tensor> logits(const PacketBatch& b);      // 4 x [N, V]
    torch::Tensor loss(const PacketBatch& b);                      // NLL per packet
    torch::nn::Embedding e_proto{nullptr}, e_port{nullptr}, e_pkts{nullptr}, e_dur{nullptr};
    torch::nn::Embedding e_dir{nullptr}, e_gap{nullptr}, e_len{nullptr}, e_flag{nullptr}, e_pos{nullptr};
    torch::nn::Linear h0{nullptr};
    torch::nn::GRU gru{nullptr};
    Head dir{nullptr}, gap{nullptr}, len{nullptr}, flag{nullptr};
    // Format 42: a segment's gap, size and flags are drawn knowing its direction: each of
    // their heads has a bias per direction, and reads the hidden state through a gate per
    // direction (h * (1 + gate[d])). Before, the four heads read one state and drew
    // independently, so where either end could speak next, a server's full-size segments
    // came from the client as often as from the server (netflix: 300 of the client's 899
    // segments full-size, real 46 of 917). Both start at zero and count only when
    // `dir_aware`: a keyframe trained before format 42 has no such weights and draws as it did.
    torch::Tensor dir_gate;  // [2, H]
    bool dir_aware = false;
};
TORCH_MODULE(PacketNet);

// The states after each step of `gru` over packed segments (PacketBatch's layout): x [N, I],
// h0 [1, S, H] -> [N, H]. On the CPU with its own backward (gru_sequence.cpp), for training
// and scoring; sampling steps nn::GRU itself, so regenerated bytes do not change.
torch::Tensor gru_packed(torch::nn::GRU& gru, const torch::Tensor& x, const torch::Tensor& h0,
                         const std::vector<int64_t>& batch_sizes);

// Whether a keyframe's weights are format 42's direction-aware packet model.
bool dir_aware_weights(const ParamSet& keyframe);

// A delta's stored rank: 1..4 adapts every head; kTimeSizeOnly + r adapts only the
// packet model's gap, length and direction heads at rank r (a chunk too small for full
// adapters; who speaks how much is as much the chunk's own as its timing and sizes).
inline constexpr int kTimeSizeOnly = 16;

struct ChunkNet : torch::nn::Module {
    explicit ChunkNet(int rank);
    FlowNet flow{nullptr};
    PacketNet packet{nullptr};
    int rank;
};

// Start tokens for the previous-step inputs.
inline constexpr int kStartDir = 2, kStartGap = kDtClasses, kStartLen = kLenClasses, kStartFlag = kFlagClasses;

struct Segment {
    uint32_t flow;
    uint32_t offset;  // first packet index within the flow
    uint32_t length;
};
std::vector<Segment> segments_of(const std::vector<FlowTokens>& flows);

torch::Tensor flow_attr_tensor(const EncodedChunk& c, const std::vector<uint32_t>& flow_ids);
PacketBatch packet_batch(const EncodedChunk& c, const std::vector<Segment>& segs);

// Weights in and out of a network by parameter name; load() skips names the set lacks.
ParamSet export_params(torch::nn::Module& m, bool delta_only);
void load_params(torch::nn::Module& m, const ParamSet& p);
void add_delta(torch::nn::Module& m, const ParamSet& delta);
bool is_delta_param(const std::string& name);

// chunk_loss's two terms: the flow net's (its loss per flow times the share of flows in
// packets) and the packet net's. The two nets share no weight.
torch::Tensor flow_loss_part(ChunkNet& net, const EncodedChunk& c, const std::vector<uint32_t>& flow_ids, double flows_per_packet);
torch::Tensor packet_loss_part(ChunkNet& net, const EncodedChunk& c, const std::vector<Segment>& segs);
// Chunk loss on the given flows (nats per packet) and the share of flows in packets.
torch::Tensor chunk_loss(ChunkNet& net, const EncodedChunk& c, const std::vector<uint32_t>& flow_ids,
                         const std::vector<Segment>& segs, double flows_per_packet);

// Moves every head's average prediction onto the chunk's marginals (closed form, a few
// forward passes): the start of every fit, so the short budget goes to the joint structure.
// `per_direction` (a format-42 keyframe): the gap, length and flag heads' direction biases
// move onto each direction's own marginal instead of their shared bias.
void match_marginals(ChunkNet& net, const EncodedChunk& c, const std::vector<uint32_t>& flow_ids,
                     const std::vector<Segment>& segs, int iterations, bool per_direction);

// The rows of a keyframe that its chunks never exercise become zeros: embedding rows no
// token looks up, which keep their random start through training, and the packet heads'
// output rows of gaps, lengths and flags no packet has, trained only to say "not this one",
// which the class's bias says alone. Stored at 5 bits a value they were a quarter of a chunk
// keyframe's bytes. The flow heads keep theirs: zeroed, a keyframe no longer served the next
// hour of bench-ingest's steady capture (its reuse check: 17-mean 0.347 against 0.076).
void zero_unused_rows(ChunkNet& net, const std::vector<const EncodedChunk*>& chunks);

// Integer-threshold draw from a row of probabilities (deterministic for equal floats).
int draw(const float* probs, int n, Rng& rng);

}  // namespace dgc::trainer
