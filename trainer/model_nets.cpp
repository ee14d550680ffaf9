// The networks of a chunk model, their batches and losses, and weight import/export.
#include "trainer/torch_nets.h"

#include <algorithm>
#include <cmath>

#include "trainer/pipeline_policy.h"

namespace dgc::trainer {

namespace F = torch::nn::functional;

HeadImpl::HeadImpl(int in, int out, int r, bool by_dir) : rank(r) {
    lin = register_module("lin", torch::nn::Linear(in, out));
    if (rank > 0) {
        lora_a = register_parameter("lora_a", torch::zeros({rank, in}));
        lora_b = register_parameter("lora_b", torch::zeros({out, rank}));
    }
    if (by_dir) dir_bias = register_parameter("dir_bias", torch::zeros({2, out}));
}

torch::Tensor HeadImpl::forward(const torch::Tensor& x) {
    auto y = lin(x);
    if (rank > 0) y = y + torch::matmul(torch::matmul(x, lora_a.t()), lora_b.t());
    return y;
}

torch::Tensor HeadImpl::forward_by_dir(const torch::Tensor& x, const torch::Tensor& dir) {
    return forward(x) + F::embedding(dir, dir_bias);
}

FlowNetImpl::FlowNetImpl(int rank) {
    emb = register_module("emb", torch::nn::ModuleList());
    heads = register_module("heads", torch::nn::ModuleList());
    for (int i = 0; i < kFlowAttrCount; ++i) {
        emb->push_back(torch::nn::Embedding(kFlowAttrSizes[i], kEmb));
        if (i > 0) heads->push_back(Head(kHidden, kFlowAttrSizes[i], rank));
    }
    pos = register_module("pos", torch::nn::Embedding(kFlowAttrCount, kEmb));
    l1 = register_module("l1", torch::nn::Linear(kEmb, kHidden));
    l2 = register_module("l2", torch::nn::Linear(kHidden, kHidden));
}

torch::Tensor FlowNetImpl::trunk(const torch::Tensor& x) { return torch::relu(l2(torch::relu(l1(x)))); }

std::vector<torch::Tensor> FlowNetImpl::logits(const torch::Tensor& attrs) {
    std::vector<torch::Tensor> es;
    for (int i = 0; i < kFlowAttrCount; ++i)
        es.push_back(emb[i]->as<torch::nn::EmbeddingImpl>()->forward(attrs.select(1, i)));
    auto cum = torch::stack(es, 1).cumsum(1);
    auto in = cum.slice(1, 0, kFlowAttrCount - 1) + pos->weight.slice(0, 1, kFlowAttrCount);
    auto h = trunk(in);
    std::vector<torch::Tensor> out;
    for (int j = 1; j < kFlowAttrCount; ++j) out.push_back(heads[j - 1]->as<HeadImpl>()->forward(h.select(1, j - 1)));
    return out;
}

torch::Tensor FlowNetImpl::loss(const torch::Tensor& attrs) {
    auto ls = logits(attrs);
    torch::Tensor total = torch::zeros({}, attrs.options().dtype(torch::kFloat));
    for (int j = 1; j < kFlowAttrCount; ++j) total = total + F::cross_entropy(ls[j - 1], attrs.select(1, j));
    return total;
}

PacketNetImpl::PacketNetImpl(int rank, bool time_size_only) {
    e_proto = register_module("e_proto", torch::nn::Embedding(kProtoVocab, kEmb));
    e_port = register_module("e_port", torch::nn::Embedding(kPortTokens, kEmb));
    e_pkts = register_module("e_pkts", torch::nn::Embedding(kPktClasses, kEmb));
    e_dur = register_module("e_dur", torch::nn::Embedding(kDtClasses, kEmb));
    e_dir = register_module("e_dir", torch::nn::Embedding(kStartDir + 1, kEmb));
    e_gap = register_module("e_gap", torch::nn::Embedding(kStartGap + 1, kEmb));
    e_len = register_module("e_len", torch::nn::Embedding(kStartLen + 1, kEmb));
    e_flag = register_module("e_flag", torch::nn::Embedding(kStartFlag + 1, kEmb));
    e_pos = register_module("e_pos", torch::nn::Embedding(kPosClasses, kEmb));
    h0 = register_module("h0", torch::nn::Linear(kEmb, kHidden));
    gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(2 * kEmb, kHidden).batch_first(true)));
    dir = register_module("dir", Head(kHidden, 2, rank));
    gap = register_module("gap", Head(kHidden, kDtClasses, rank, true));
    len = register_module("len", Head(kHidden, kLenClasses, rank, true));
    flag = register_module("flag", Head(kHidden, kFlagClasses, time_size_only ? 0 : rank, true));
    dir_gate = register_parameter("dir_gate", torch::zeros({2, kHidden}));
}

torch::Tensor PacketNetImpl::condition(const torch::Tensor& c) {
    return e_proto(c.select(1, 0)) + e_port(c.select(1, 1)) + e_pkts(c.select(1, 2)) + e_dur(c.select(1, 3));
}

torch::Tensor PacketNetImpl::step_input(const torch::Tensor& prev, const torch::Tensor& c) {
    auto x = e_dir(prev.select(1, 0)) + e_gap(prev.select(1, 1)) + e_len(prev.select(1, 2)) +
             e_flag(prev.select(1, 3)) + e_pos(prev.select(1, 4));
    return torch::cat({x, c}, 1);
}

void PacketNetImpl::step_input_rows(const int64_t* prev, const float* c, int64_t rows, float* out) {
    // One step of sampling needs this for a few thousand rows, 512 times a chunk: as tensor
    // ops it was ~17 dispatches and allocations a step. The sum is taken in step_input's
    // order, one IEEE float add at a time as ATen's add does, so the bits are the same.
    const torch::nn::Embedding* tables[5] = {&e_dir, &e_gap, &e_len, &e_flag, &e_pos};
    const float* w[5];
    int64_t size[5];
    for (int k = 0; k < 5; ++k) {
        const auto& t = (*tables[k])->weight;
        TORCH_CHECK(t.is_contiguous() && t.size(1) == kEmb, "step_input_rows: unexpected embedding table");
        w[k] = t.data_ptr<float>();
        size[k] = t.size(0);
    }
    for (int64_t s = 0; s < rows; ++s) {
        const int64_t* p = prev + s * 5;
        for (int k = 0; k < 5; ++k)
            TORCH_CHECK(p[k] >= 0 && p[k] < size[k], "step_input_rows: token ", p[k], " out of range");
        const float *a = w[0] + p[0] * kEmb, *b = w[1] + p[1] * kEmb, *d = w[2] + p[2] * kEmb;
        const float *f = w[3] + p[3] * kEmb, *g = w[4] + p[4] * kEmb;
        float* o = out + s * 2 * kEmb;
        for (int i = 0; i < kEmb; ++i) o[i] = a[i] + b[i] + d[i] + f[i] + g[i];
        std::copy(c + s * kEmb, c + (s + 1) * kEmb, o + kEmb);
    }
}

std::vector<torch::Tensor> PacketNetImpl::heads_of(const torch::Tensor& h) {
    return {dir(h), gap(h), len(h), flag(h)};
}

std::vector<torch::Tensor> PacketNetImpl::heads_given_dir(const torch::Tensor& h, const torch::Tensor& d) {
    const auto hd = h * (1 + F::embedding(d, dir_gate));
    return {gap->forward_by_dir(hd, d), len->forward_by_dir(hd, d), flag->forward_by_dir(hd, d)};
}

bool dir_aware_weights(const ParamSet& keyframe) {
    return std::any_of(keyframe.begin(), keyframe.end(), [](const ParamTensor& p) { return p.name == "packet.dir_gate"; });
}

torch::Tensor PacketNetImpl::initial_state(const torch::Tensor& c) { return torch::tanh(h0(c)).unsqueeze(0); }

torch::Tensor PacketNetImpl::batch_state(const PacketBatch& b, const torch::Tensor& c) {
    auto h = initial_state(c);
    if (!b.carry_rows.defined() || b.carry_rows.numel() == 0) return h;
    torch::Tensor warm;
    {
        torch::NoGradGuard ng;
        const auto cc = c.index_select(0, b.carry_rows);
        const int64_t C = cc.size(0);
        // The segments before are whole: the last C packed states are their last steps'.
        const auto states = gru_packed(gru, step_input(b.burn_prev, cc.repeat({kSegment, 1})), initial_state(cc),
                                       std::vector<int64_t>(kSegment, C));
        warm = states.slice(0, (kSegment - 1) * C).unsqueeze(0);
    }
    return h.index_copy(1, b.carry_rows, warm);
}

std::vector<torch::Tensor> PacketNetImpl::logits(const PacketBatch& b) {
    auto c = condition(b.cond);
    auto h = gru_packed(gru, step_input(b.prev, c.index_select(0, b.rows)), batch_state(b, c), b.batch_sizes);
    if (!dir_aware) return heads_of(h);
    // Teacher forcing: each step's own direction, as sampling draws it before the rest.
    auto rest = heads_given_dir(h, b.target.select(1, 0));
    return {dir(h), rest[0], rest[1], rest[2]};
}

torch::Tensor PacketNetImpl::loss(const PacketBatch& b) {
    auto hs = logits(b);
    torch::Tensor total = torch::zeros({}, hs[0].options());
    for (int k = 0; k < 4; ++k) {
        auto nll = F::cross_entropy(hs[k], b.target.select(1, k), F::CrossEntropyFuncOptions().reduction(torch::kNone));
        total = total + (nll * b.mask.select(1, k)).sum();
    }
    return total / b.mask.select(1, 0).sum().clamp_min(1);
}

static_assert(kTimeSizeOnlyRank1 == kTimeSizeOnly + 1);

ChunkNet::ChunkNet(int r) : rank(r) {
    const bool time_size_only = r > kTimeSizeOnly;
    flow = register_module("flow", FlowNet(time_size_only ? 0 : r));
    packet = register_module("packet", PacketNet(time_size_only ? r - kTimeSizeOnly : r, time_size_only));
}

std::vector<Segment> segments_of(const std::vector<FlowTokens>& flows) {
    std::vector<Segment> out;
    for (uint32_t i = 0; i < flows.size(); ++i)
        for (uint32_t o = 0; o < flows[i].packets; o += kSegment)
            out.push_back({i, o, std::min<uint32_t>(kSegment, flows[i].packets - o)});
    return out;
}

torch::Tensor flow_attr_tensor(const EncodedChunk& c, const std::vector<uint32_t>& ids) {
    std::vector<int64_t> v;
    v.reserve(ids.size() * kFlowAttrCount);
    for (uint32_t i : ids)
        for (int k = 0; k < kFlowAttrCount; ++k) v.push_back(c.flows[i].a[k]);
    return torch::tensor(v, torch::kLong).reshape({static_cast<int64_t>(ids.size()), kFlowAttrCount});
}

namespace {
// The previous-step inputs of one segment: start tokens (or, for a segment that carries
// state, the last packet of the segment before), then its own packets.
void segment_inputs(const EncodedChunk& c, const Segment& sg, int64_t* rows) {
    const FlowTokens& f = c.flows[sg.flow];
    for (int64_t t = 0; t < kSegment; ++t) {
        int64_t* pv = &rows[t * 5];
        pv[4] = sg.offset == 0 ? std::min<int64_t>(t, kPosClasses - 2) : kPosClasses - 1;
        if (t == 0 && !carries_state(sg.offset)) {
            pv[0] = kStartDir, pv[1] = kStartGap, pv[2] = kStartLen, pv[3] = kStartFlag;
        } else if (t < sg.length) {
            const PacketTokens& p = c.packets[f.first + sg.offset + t - 1];
            pv[0] = p.dir, pv[1] = p.gap, pv[2] = p.len, pv[3] = p.flag;
        } else {
            pv[0] = pv[1] = pv[2] = pv[3] = 0;
        }
    }
}
}  // namespace

void PacketBatch::to(torch::Device dev) {
    for (auto* t : {&cond, &prev, &rows, &target, &mask, &carry_rows, &burn_prev})
        if (t->defined()) *t = t->to(dev);
}

PacketBatch packet_batch(const EncodedChunk& c, const std::vector<Segment>& segs_in) {
    std::vector<Segment> segs = segs_in;
    std::stable_sort(segs.begin(), segs.end(), [](const Segment& a, const Segment& b) { return a.length > b.length; });
    const int64_t S = static_cast<int64_t>(segs.size()), L = kSegment;
    PacketBatch b;
    for (int64_t t = 0; t < L; ++t) {
        int64_t n = 0;
        while (n < S && segs[n].length > static_cast<uint32_t>(t)) ++n;
        if (n == 0) break;
        b.batch_sizes.push_back(n);
    }
    std::vector<int64_t> cond(S * 4), inputs(S * L * 5, 0), carry_rows, burn;
    for (int64_t s = 0; s < S; ++s) {
        segment_inputs(c, segs[s], &inputs[s * L * 5]);
        if (carries_state(segs[s].offset)) carry_rows.push_back(s);
        const FlowTokens& f = c.flows[segs[s].flow];
        cond[s * 4 + 0] = f.a[kAttrProto], cond[s * 4 + 1] = f.a[kAttrSrvPort];
        cond[s * 4 + 2] = f.a[kAttrPkts], cond[s * 4 + 3] = f.a[kAttrDur];
    }
    std::vector<int64_t> prev, rows, target;
    std::vector<float> mask;
    for (size_t t = 0; t < b.batch_sizes.size(); ++t) {
        for (int64_t s = 0; s < b.batch_sizes[t]; ++s) {
            const Segment& sg = segs[s];
            const FlowTokens& f = c.flows[sg.flow];
            const auto& pe = f.a[kAttrProto] < c.side.protos.size() ? c.side.protos[f.a[kAttrProto]] : ProtoEntry{};
            const bool tcp = pe.proto == 6 && pe.ports;
            const PacketTokens& p = c.packets[f.first + sg.offset + t];
            const int64_t* in = &inputs[(s * L + static_cast<int64_t>(t)) * 5];
            prev.insert(prev.end(), in, in + 5);
            rows.push_back(s);
            target.insert(target.end(), {p.dir, p.gap, p.len, p.flag});
            const bool later = sg.offset + t > 0;
            mask.insert(mask.end(), {1.f, later ? 1.f : 0.f, 1.f, tcp && later ? 1.f : 0.f});
        }
    }
    const int64_t N = static_cast<int64_t>(rows.size());
    // The segments before the carried ones, time-major.
    std::vector<int64_t> before(carry_rows.size() * L * 5);
    for (size_t k = 0; k < carry_rows.size(); ++k) {
        const Segment& sg = segs[carry_rows[k]];
        segment_inputs(c, {sg.flow, sg.offset - kSegment, kSegment}, &before[k * L * 5]);
    }
    for (int64_t t = 0; t < L; ++t)
        for (size_t k = 0; k < carry_rows.size(); ++k) burn.insert(burn.end(), &before[(k * L + t) * 5], &before[(k * L + t) * 5] + 5);
    b.cond = torch::tensor(cond, torch::kLong).reshape({S, 4});
    b.prev = torch::tensor(prev, torch::kLong).reshape({N, 5});
    b.rows = torch::tensor(rows, torch::kLong);
    b.target = torch::tensor(target, torch::kLong).reshape({N, 4});
    b.mask = torch::tensor(mask, torch::kFloat).reshape({N, 4});
    if (!carry_rows.empty()) {
        const int64_t C = static_cast<int64_t>(carry_rows.size());
        b.carry_rows = torch::tensor(carry_rows, torch::kLong);
        b.burn_prev = torch::tensor(burn, torch::kLong).reshape({L * C, 5});
    }
    return b;
}

bool is_delta_param(const std::string& name) {
    return name.ends_with("lora_a") || name.ends_with("lora_b") || name.ends_with(".lin.bias");
}

ParamSet export_params(torch::nn::Module& m, bool delta_only) {
    ParamSet out;
    for (const auto& item : m.named_parameters()) {
        if (delta_only && !is_delta_param(item.key())) continue;
        if (!delta_only && (item.key().ends_with("lora_a") || item.key().ends_with("lora_b"))) continue;
        auto t = item.value().detach().to(torch::kCPU).contiguous();
        ParamTensor p;
        p.name = item.key();
        p.shape.assign(t.sizes().begin(), t.sizes().end());
        p.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        out.push_back(std::move(p));
    }
    return out;
}

void load_params(torch::nn::Module& m, const ParamSet& ps) {
    torch::NoGradGuard ng;
    auto named = m.named_parameters();
    for (const auto& p : ps) {
        auto* t = named.find(p.name);
        if (!t || t->numel() != static_cast<int64_t>(p.data.size())) continue;
        t->copy_(torch::from_blob(const_cast<float*>(p.data.data()), t->sizes(), torch::kFloat));
    }
}

void add_delta(torch::nn::Module& m, const ParamSet& delta) {
    torch::NoGradGuard ng;
    auto named = m.named_parameters();
    for (const auto& p : delta) {
        auto* t = named.find(p.name);
        if (!t || t->numel() != static_cast<int64_t>(p.data.size())) continue;
        auto d = torch::from_blob(const_cast<float*>(p.data.data()), t->sizes(), torch::kFloat).to(t->device());
        if (p.name.ends_with(".lin.bias"))
            t->add_(d);
        else
            t->copy_(d);
    }
}

torch::Tensor flow_loss_part(ChunkNet& net, const EncodedChunk& c, const std::vector<uint32_t>& flow_ids, double flows_per_packet) {
    return net.flow->loss(flow_attr_tensor(c, flow_ids).to(net.parameters().front().device())) * flows_per_packet;
}

torch::Tensor packet_loss_part(ChunkNet& net, const EncodedChunk& c, const std::vector<Segment>& segs) {
    auto b = packet_batch(c, segs);
    b.to(net.parameters().front().device());
    return net.packet->loss(b);
}

torch::Tensor chunk_loss(ChunkNet& net, const EncodedChunk& c, const std::vector<uint32_t>& flow_ids,
                         const std::vector<Segment>& segs, double flows_per_packet) {
    return flow_loss_part(net, c, flow_ids, flows_per_packet) + packet_loss_part(net, c, segs);
}

namespace {
// bias += log(empirical share) - log(mean predicted share): the head's average prediction
// moves onto the chunk's own marginal in closed form.
void shift_bias(torch::Tensor bias, const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& weight) {
    const int64_t V = logits.size(-1);
    auto w = weight.reshape({-1});
    if (w.sum().item<float>() <= 0) return;
    auto probs = torch::softmax(logits.reshape({-1, V}), 1);
    auto mean_pred = (probs * w.unsqueeze(1)).sum(0) / w.sum();
    auto emp = torch::zeros({V}, w.options()).index_add_(0, target.reshape({-1}), w) / w.sum();
    auto shift = (torch::log(emp + 1e-4) - torch::log(mean_pred + 1e-4)).clamp(-8, 8);
    bias.add_(shift);
}
}  // namespace

void match_marginals(ChunkNet& net, const EncodedChunk& c, const std::vector<uint32_t>& flow_ids,
                     const std::vector<Segment>& segs, int iterations, bool per_direction) {
    torch::NoGradGuard ng;
    auto dev = net.parameters().front().device();
    auto attrs = flow_attr_tensor(c, flow_ids).to(dev);
    auto batch = packet_batch(c, segs);
    batch.to(dev);
    for (int it = 0; it < iterations; ++it) {
        auto fl = net.flow->logits(attrs);
        for (int j = 1; j < kFlowAttrCount; ++j)
            shift_bias(net.flow->heads[j - 1]->as<HeadImpl>()->lin->bias, fl[j - 1], attrs.select(1, j),
                       torch::ones({attrs.size(0)}, torch::TensorOptions().device(dev)));
        auto pl = net.packet->logits(batch);
        HeadImpl* heads[4] = {net.packet->dir.get(), net.packet->gap.get(), net.packet->len.get(), net.packet->flag.get()};
        const auto dir = batch.target.select(1, 0);
        for (int k = 0; k < 4; ++k) {
            if (k == 0 || !per_direction) {
                shift_bias(heads[k]->lin->bias, pl[k], batch.target.select(1, k), batch.mask.select(1, k));
                continue;
            }
            // Format 42: each direction's marginal.
            for (int64_t d = 0; d < 2; ++d)
                shift_bias(heads[k]->dir_bias[d], pl[k], batch.target.select(1, k), batch.mask.select(1, k) * (dir == d));
        }
    }
}

void zero_unused_rows(ChunkNet& net, const std::vector<const EncodedChunk*>& chunks) {
    torch::NoGradGuard ng;
    auto seen_none = [](int64_t n) { return std::vector<char>(static_cast<size_t>(n), 0); };
    // The values the chunks' tokens take, per flow column and per packet token.
    std::vector<std::vector<char>> attr;
    for (int i = 0; i < kFlowAttrCount; ++i) attr.push_back(seen_none(kFlowAttrSizes[i]));
    auto dir = seen_none(2), gap = seen_none(kDtClasses), len = seen_none(kLenClasses), flag = seen_none(kFlagClasses);
    for (const EncodedChunk* c : chunks) {
        for (const FlowTokens& f : c->flows)
            for (int i = 0; i < kFlowAttrCount; ++i) attr[i][f.a[i]] = 1;
        for (const PacketTokens& p : c->packets) dir[p.dir] = gap[p.gap] = len[p.len] = flag[p.flag] = 1;
    }
    auto zero_rows = [](torch::Tensor table, const std::vector<char>& seen, int64_t start = -1) {
        for (int64_t v = 0; v < table.size(0); ++v)
            // A previous-step table also reads its start token, and 0 pads a short segment.
            if ((v >= static_cast<int64_t>(seen.size()) || !seen[v]) && v != start && !(start >= 0 && v == 0)) table[v].zero_();
    };
    auto& fn = *net.flow;
    auto& pn = *net.packet;
    for (int i = 0; i < kFlowAttrCount; ++i) zero_rows(fn.emb[i]->as<torch::nn::EmbeddingImpl>()->weight, attr[i]);
    zero_rows(pn.e_proto->weight, attr[kAttrProto]);
    zero_rows(pn.e_port->weight, attr[kAttrSrvPort]);
    zero_rows(pn.e_pkts->weight, attr[kAttrPkts]);
    zero_rows(pn.e_dur->weight, attr[kAttrDur]);
    zero_rows(pn.e_dir->weight, dir, kStartDir);
    zero_rows(pn.e_gap->weight, gap, kStartGap);
    zero_rows(pn.e_len->weight, len, kStartLen);
    zero_rows(pn.e_flag->weight, flag, kStartFlag);
    zero_rows(pn.gap->lin->weight, gap);
    zero_rows(pn.len->lin->weight, len);
    zero_rows(pn.flag->lin->weight, flag);
}

int draw(const float* probs, int n, Rng& rng) {
    uint64_t total = 0;
    uint64_t w[256];
    for (int i = 0; i < n; ++i) {
        w[i] = draw_weight(probs[i]);
        total += w[i];
    }
    if (total == 0) return 0;
    uint64_t x = rng.below(total);
    for (int i = 0; i < n; ++i) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}

}  // namespace dgc::trainer
