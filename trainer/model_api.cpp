// Training (keyframe or low-rank delta), scoring and sampling of chunk models.
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <mutex>
#include <numeric>

#include "codec/log.h"
#include "trainer/model.h"
#include "trainer/service_counts.h"
#include "trainer/synth_records.h"
#include "trainer/torch_nets.h"

namespace dgc::trainer {

namespace {

constexpr int kFlowBatch = 128;
// Packet tokens are drawn at temperature 0.8: a chunk model fine-tuned for well under a
// second leaves peaked real distributions (IoT keep-alives every ~50 s, fixed lengths)
// smeared over neighbouring classes; sharpening restores them (measured 0.67..1.0: 0.8
// helps ultraloq's joint by ~0.01 and leaves the other traces within noise).
constexpr double kPacketInvTemperature = 1.25;
constexpr int kSegmentBatch = 48;
// Rows of one sampling step computed together (see sample_packets' step_rows).
constexpr int64_t kSampleRows = 2048;
// Deltas adapt few weights from a parent that already knows traffic: a high rate converges
// within the short per-chunk budget (measured: 0.1 beats 0.03 and 0.01 at 1.5 s).
constexpr double kDeltaLearningRate = 0.1;

double flows_per_packet(const EncodedChunk& c) {
    return c.side.ip_packets ? static_cast<double>(c.flows.size()) / static_cast<double>(c.side.ip_packets) : 0.0;
}

void use_one_thread();

double backward_of(const torch::Tensor& loss) {
    loss.backward();
    return loss.item<double>();
}

// chunk_loss and its backward pass with the flow net's term on a second thread: the two
// nets share no weight, so each parameter's gradient is computed as it is on one thread,
// and the model comes out bit for bit the same. Only keyframes on the CPU do this: they
// train while the chunks that will be reused from them or fine-tuned against them wait, so
// the other core is idle; deltas train side by side on the workers' threads.
double backward_on_two_threads(ChunkNet& net, const EncodedChunk& c, const std::vector<uint32_t>& fids,
                               const std::vector<Segment>& sb, double fpp) {
    // std::async: an exception on either thread reaches the caller once both are done.
    auto flow = std::async(std::launch::async, [&] {
        use_one_thread();
        torch::Tensor t = flow_loss_part(net, c, fids, fpp);
        t.backward();
        return t.detach();
    });
    const torch::Tensor packet = packet_loss_part(net, c, sb);
    packet.backward();
    return (flow.get() + packet.detach()).item<double>();
}

FitResult run_fit(ChunkNet& net, const std::vector<const EncodedChunk*>& chunks, const FitOptions& o,
                  std::vector<torch::Tensor> params, double lr, bool keyframe) {
    FitResult res;
    std::vector<uint32_t> weights;
    std::vector<std::vector<Segment>> segs_of;
    for (const auto* c : chunks) {
        weights.push_back(static_cast<uint32_t>(c->flows.empty() ? 0 : std::min<uint64_t>(c->side.ip_packets, 1u << 30)));
        segs_of.push_back(segments_of(c->flows));
    }
    if (std::all_of(weights.begin(), weights.end(), [](uint32_t w) { return w == 0; })) return res;
    torch::Device dev = o.cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    net.to(dev);
    net.train();
    Rng rng(mix64(o.seed ^ 0x7EA1ULL));
    {
        // Marginals first, in closed form, on a sample of the largest chunk.
        const size_t ci = static_cast<size_t>(std::max_element(weights.begin(), weights.end()) - weights.begin());
        const EncodedChunk& c = *chunks[ci];
        std::vector<uint32_t> fids(std::min<size_t>(512, c.flows.size()));
        for (auto& f : fids) f = static_cast<uint32_t>(rng.below(c.flows.size()));
        std::vector<Segment> sb(std::min<size_t>(192, segs_of[ci].size()));
        for (auto& s : sb) s = segs_of[ci][rng.below(segs_of[ci].size())];
        if (chunks.size() == 1) match_marginals(net, c, fids, sb, 2, keyframe && net.packet->dir_aware);
    }
    torch::optim::Adam opt(params, torch::optim::AdamOptions(lr));
    double ema = 0;
    const int steps = std::max(1, o.steps);
    for (int step = 0; step < steps; ++step) {
        // Cosine decay over the step budget: the weights stored are those of a settled run,
        // not of one high-rate step in mid-swing.
        const double frac = double(step) / steps;
        for (auto& g : opt.param_groups())
            static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(M_PI * frac))));
        const size_t ci = rng.pick(weights);
        const EncodedChunk& c = *chunks[ci];
        const auto& segs = segs_of[ci];
        const double fpp = flows_per_packet(c);
        std::vector<uint32_t> fids(std::min<size_t>(kFlowBatch, c.flows.size()));
        for (auto& f : fids) f = static_cast<uint32_t>(rng.below(c.flows.size()));
        std::vector<Segment> sb(std::min<size_t>(kSegmentBatch, segs.size()));
        for (auto& s : sb) s = segs[rng.below(segs.size())];
        opt.zero_grad();
        const double l = keyframe && !o.cuda ? backward_on_two_threads(net, c, fids, sb, fpp) : backward_of(chunk_loss(net, c, fids, sb, fpp));
        opt.step();
        logger("trainer")->trace("step {} chunk {} loss {:.3f}", step, ci, l);
        ema = step == 0 ? l : 0.9 * ema + 0.1 * l;
        res.steps = step + 1;
        if (o.progress) o.progress(double(step + 1) / steps);
    }
    res.loss = ema;
    net.to(torch::kCPU);
    return res;
}

std::vector<torch::Tensor> trainable_delta(ChunkNet& net, uint64_t seed) {
    std::vector<torch::Tensor> out;
    Rng rng(mix64(seed ^ 0x10AAULL));
    torch::NoGradGuard ng;
    for (auto& item : net.named_parameters()) {
        auto& p = item.value();
        bool train = is_delta_param(item.key());
        if (item.key().ends_with("lora_a")) {
            // Random A, zero B: the adapter starts as the identity change and learns from there.
            std::vector<float> v(p.numel());
            float scale = 1.0f / std::sqrt(static_cast<float>(p.size(1)));
            for (auto& x : v) x = scale * (static_cast<float>(rng.below(2001)) / 1000.0f - 1.0f);
            p.copy_(torch::tensor(v).reshape(p.sizes()));
        }
        p.set_requires_grad(train);
        if (train) out.push_back(p);
    }
    return out;
}

// One intra-op thread for every model computation. Float sums split over threads round
// differently with the thread count, so a model trained with 2 threads differs from one
// trained with 16: one thread makes training reproducible across machines. It is also
// faster for nets this small: on the 2-core machine with other work running, compressing
// Tinba took 4-6 s with one thread and 150-190 s with two (OpenMP threads waiting on a
// busy core). Parallelism comes from chunk jobs (dgcfs --workers) instead.
// OpenBLAS (Debian's libopenblas0-pthread) keeps its own thread pool, which
// torch::set_num_threads does not reach; it is looked up at run time because the BLAS
// behind libtorch is whichever the system's alternatives select.
void use_one_thread() {
    torch::set_num_threads(1);
    if (auto* set = reinterpret_cast<void (*)(int)>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

// OpenBLAS picks its kernels by CPU as it loads, and its Haswell/Zen kernels round some
// small matrix products differently from all its others (Prescott, Nehalem, Sandybridge,
// SkylakeX...). A stored model must regenerate the same bytes on every machine: on an
// AVX-512 EPYC whose environment set OPENBLAS_CORETYPE=Haswell, the golden fixtures of
// formats 35 to 44 expanded to other bytes (a UDP flow's server port is moved by exact
// ratios of the model's probabilities, which those last bits change). So every process
// pins them before its first model computation: SkylakeX where the CPU has AVX-512,
// Sandybridge where it has AVX, else Prescott, which all give the fixtures' bytes.
// OpenBLAS's own entry points drop the choice it made as it loaded and make it again from
// OPENBLAS_CORETYPE, which is set for that (whatever the environment said). Where the BLAS
// behind libtorch is not OpenBLAS, there is nothing to pin.
const char* pinned_blas_core() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    return __builtin_cpu_supports("avx") ? "Sandybridge" : "Prescott";
}

// Every sampling step (up to 512 a chunk) allocates and frees its tensors, tens of MiB for
// a chunk of tens of thousands of packets. glibc's adaptive thresholds hand the freed top
// of the heap back to the kernel after each step and page-fault it in again at the next:
// half of regeneration's CPU time went to page faults (bench-ingest's 12-hour capture:
// 85K -> 177K packets/s on one core). Freed memory up to 64 MiB now stays with its arena,
// and blocks up to 32 MiB (glibc's most) come from the heap. Cost: the daemon's peak RSS
// while modelling that capture rose from 348 to 365 MiB.
void keep_freed_tensor_memory() {
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

// Process-wide settings every model computation relies on, made once.
void prepare_torch() {
    static std::once_flag once;
    std::call_once(once, [] {
        pin_blas_kernels();  // a no-op where main() did it
        use_one_thread();
        keep_freed_tensor_memory();
    });
}

}  // namespace

void pin_blas_kernels() {
    static std::once_flag once;
    std::call_once(once, [] {
        using Fn = void (*)();
        const auto quit = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
        const auto init = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
        if (!quit || !init) return;
        ::setenv("OPENBLAS_CORETYPE", pinned_blas_core(), 1);
        quit();
        init();
    });
}

bool cuda_available() { return torch::cuda::is_available(); }

FitResult fit_keyframe(const std::vector<const EncodedChunk*>& chunks, const FitOptions& o) {
    prepare_torch();
    torch::manual_seed(o.seed);
    ChunkNet net(0);
    net.packet->dir_aware = true;
    auto res = run_fit(net, chunks, o, net.parameters(), 5e-3, true);
    if (o.zero_unused) zero_unused_rows(net, chunks);
    res.params = export_params(net, false);
    return res;
}

FitResult fit_delta(const ParamSet& keyframe, const EncodedChunk& c, const FitOptions& o) {
    prepare_torch();
    torch::manual_seed(o.seed);
    ChunkNet net(o.lora_rank);
    load_params(net, keyframe);
    net.packet->dir_aware = dir_aware_weights(keyframe);
    auto params = trainable_delta(net, o.seed);
    auto res = run_fit(net, {&c}, o, params, kDeltaLearningRate, false);
    res.params = export_params(net, true);
    for (auto& p : res.params) {
        if (!p.name.ends_with(".lin.bias")) continue;
        auto it = std::find_if(keyframe.begin(), keyframe.end(), [&](const auto& k) { return k.name == p.name; });
        if (it == keyframe.end() || it->data.size() != p.data.size()) continue;
        for (size_t i = 0; i < p.data.size(); ++i) p.data[i] -= it->data[i];
    }
    return res;
}

double model_loss(const ParamSet& keyframe, const ParamSet* delta, int rank, const EncodedChunk& c, size_t max_flows,
                  uint64_t seed) {
    if (c.flows.empty()) return 0;
    prepare_torch();
    ChunkNet net(delta ? rank : 0);
    load_params(net, keyframe);
    net.packet->dir_aware = dir_aware_weights(keyframe);
    if (delta) add_delta(net, *delta);
    net.eval();
    c10::InferenceMode inference;  // as in sample_tokens
    Rng rng(mix64(seed ^ 0x5C0AEULL));
    std::vector<uint32_t> fids;
    if (c.flows.size() <= max_flows) {
        for (uint32_t i = 0; i < c.flows.size(); ++i) fids.push_back(i);
    } else {
        for (size_t i = 0; i < max_flows; ++i) fids.push_back(static_cast<uint32_t>(rng.below(c.flows.size())));
    }
    std::sort(fids.begin(), fids.end());
    std::vector<Segment> segs;
    for (const auto& s : segments_of(c.flows))
        if (std::binary_search(fids.begin(), fids.end(), s.flow)) segs.push_back(s);
    if (segs.size() > 4 * max_flows) segs.resize(4 * max_flows);
    return chunk_loss(net, c, fids, segs, flows_per_packet(c)).item<double>();
}

namespace {

void sample_flows(ChunkNet& net, const ChunkSide& side, std::vector<FlowTokens>& flows, Rng& rng) {
    const int64_t n = static_cast<int64_t>(flows.size());
    std::vector<int64_t> phase(n);
    for (int64_t i = 0; i < n; ++i) phase[i] = flows[i].a[kAttrPhase];
    // Values a column may take, by column and by whether the flow's protocol has ports / is TCP.
    std::vector<std::array<std::array<std::vector<char>, 2>, 2>> allowed(kFlowAttrCount);
    for (int j = 1; j < kFlowAttrCount; ++j)
        for (int ports = 0; ports < 2; ++ports)
            for (int tcp = 0; tcp < 2; ++tcp) {
                auto& ok = allowed[j][ports][tcp];
                ok.assign(kFlowAttrSizes[j], 1);
                for (int v = 0; v < kFlowAttrSizes[j]; ++v) {
                    if (j == kAttrProto) ok[v] = v < static_cast<int>(side.protos.size());
                    if (j == kAttrFirstFlag) ok[v] = tcp ? v < std::max<int>(1, static_cast<int>(side.flags.size())) : v == kFlagNone;
                    if (j == kAttrSrvPort || j == kAttrCliPort)
                        ok[v] = ports ? (v < kPortNone && (v >= kPortRanks || v < static_cast<int>(side.ports.size())))
                                      : v == kPortNone;
                    if (j == kAttrSrvHost || j == kAttrCliHost)
                        ok[v] = v < static_cast<int>(side.hosts.size()) || (v == kHostOther && side.hosts.size() >= kHostSlots);
                }
            }
    auto& fn = *net.flow;
    auto cum = fn.emb[0]->as<torch::nn::EmbeddingImpl>()->forward(torch::tensor(phase, torch::kLong));
    for (int j = 1; j < kFlowAttrCount; ++j) {
        const int V = kFlowAttrSizes[j];
        // The column's probabilities kSampleRows flows at a time (see sample_packets).
        torch::Tensor probs;
        const float* p = nullptr;  // row i at p + (i - p0) * V
        int64_t p0 = 0;
        std::vector<int64_t> chosen(n);
        std::vector<float> row(V);
        // Format 6 knows the chunk's flows per protocol: the protocol column is drawn within
        // those quotas, so a rare protocol (a trace's few ICMP flows) is never lost.
        // Likewise how TCP connections open (the first flag): SYN scans, handshakes and
        // mid-stream flows keep their counts.
        std::vector<int64_t> quota;
        if (j == kAttrProto && side.format >= 6 && side.proto_flows.size() == side.protos.size() &&
            std::accumulate(side.proto_flows.begin(), side.proto_flows.end(), int64_t{0}) == n)
            quota.assign(side.proto_flows.begin(), side.proto_flows.end());
        if (j == kAttrFirstFlag && side.format >= 6 && !side.first_flag_flows.empty()) {
            int64_t tcp_flows = 0;
            for (int64_t i = 0; i < n; ++i) {
                const ProtoEntry& pe = proto_of(side, flows[i]);
                tcp_flows += pe.proto == 6 && pe.ports;
            }
            if (std::accumulate(side.first_flag_flows.begin(), side.first_flag_flows.end(), int64_t{0}) == tcp_flows)
                quota.assign(side.first_flag_flows.begin(), side.first_flag_flows.end());
        }
        // Format 35: the server-port column, drawn freely, then the UDP flows' ports brought to
        // the chunk's counts per ranked port.
        ServerPortCounts port_counts(side, j == kAttrSrvPort);
        for (int64_t i = 0; i < n; ++i) {
            if (i % kSampleRows == 0) {
                const auto h = fn.trunk(cum.slice(0, i, std::min(n, i + kSampleRows)) + fn.pos->weight[j]);
                probs = torch::softmax(fn.heads[j - 1]->as<HeadImpl>()->forward(h), 1).contiguous();
                p = probs.data_ptr<float>(), p0 = i;
            }
            auto& a = flows[i].a;
            const ProtoEntry& pe = proto_of(side, flows[i]);
            const std::vector<char>& ok = allowed[j][pe.ports ? 1 : 0][pe.proto == 6 && pe.ports ? 1 : 0];
            for (int v = 0; v < V; ++v) row[v] = ok[v] ? p[(i - p0) * V + v] : 0.f;
            // Format 6: a host column offers only hosts of the flow's IP version.
            if (side.format >= 6 && (j == kAttrSrvHost || j == kAttrCliHost))
                for (int v = 0; v < std::min<int>(V, static_cast<int>(side.hosts.size())); ++v)
                    if (side.hosts[v].ip_version != pe.ip_version) row[v] = 0.f;
            const bool quota_here = !quota.empty() && (j != kAttrFirstFlag || (pe.proto == 6 && pe.ports));
            if (quota_here) {
                float total = 0;
                for (int v = 0; v < V; ++v) total += row[v] *= (v < static_cast<int>(quota.size()) && quota[v] > 0) ? 1.f : 0.f;
                // The model gives no weight to what is left: take the largest quota.
                if (total < 1e-6f) row[std::max_element(quota.begin(), quota.end()) - quota.begin()] = 1.f;
            }
            int d = draw(row.data(), V, rng);
            if (!ok[d]) d = static_cast<int>(std::find(ok.begin(), ok.end(), 1) - ok.begin()) % V;
            a[j] = static_cast<uint8_t>(d);
            chosen[i] = d;
            if (quota_here && d < static_cast<int>(quota.size())) --quota[d];
            if (pe.ports) port_counts.note(i, pe.proto, row, d);
        }
        port_counts.meet(flows, chosen);
        cum = cum + fn.emb[j]->as<torch::nn::EmbeddingImpl>()->forward(torch::tensor(chosen, torch::kLong));
    }
    for (auto& f : flows) {
        auto [lo, hi] = pkts_class_range(f.a[kAttrPkts]);
        f.packets = static_cast<uint32_t>(rng.between(static_cast<int64_t>(lo), static_cast<int64_t>(hi)));
    }
}

void sample_packets(ChunkNet& net, const ChunkSide& side, const std::vector<FlowTokens>& flows,
                    std::vector<PacketTokens>& packets, Rng& rng) {
    // Rounds: round 0 holds every segment that starts afresh (a flow's first, and those past
    // the carried ones), round r the r-th segment of the flows still running, which
    // continues from the GRU state and last tokens its flow's previous segment ended with.
    std::vector<std::vector<Segment>> rounds(1);
    for (const auto& sg : segments_of(flows)) {
        const size_t r = carries_state(sg.offset) ? sg.offset / kSegment : 0;
        if (rounds.size() <= r) rounds.resize(r + 1);
        rounds[r].push_back(sg);
    }
    auto& pn = *net.packet;
    const int n_flags = std::max<int>(1, static_cast<int>(side.flags.size()));
    std::vector<torch::Tensor> flow_h(flows.size());     // [H] state at the end of the last segment
    std::vector<std::array<int64_t, 4>> flow_last(flows.size());
    for (auto& segs : rounds) {
        std::stable_sort(segs.begin(), segs.end(), [](const auto& a, const auto& b) { return a.length > b.length; });
        const int64_t S = static_cast<int64_t>(segs.size());
        if (S == 0) continue;
        std::vector<int64_t> cond(S * 4), prev(S * 5), carried;
        std::vector<char> tcp(S);
        std::vector<torch::Tensor> carried_h;
        for (int64_t s = 0; s < S; ++s) {
            const auto& f = flows[segs[s].flow];
            const ProtoEntry& pe = proto_of(side, f);
            tcp[s] = pe.proto == 6 && pe.ports;
            cond[s * 4] = f.a[kAttrProto], cond[s * 4 + 1] = f.a[kAttrSrvPort];
            cond[s * 4 + 2] = f.a[kAttrPkts], cond[s * 4 + 3] = f.a[kAttrDur];
            int64_t* pv = &prev[s * 5];
            if (carries_state(segs[s].offset)) {
                const auto& last = flow_last[segs[s].flow];
                pv[0] = last[0], pv[1] = last[1], pv[2] = last[2], pv[3] = last[3];
                carried.push_back(s);
                carried_h.push_back(flow_h[segs[s].flow]);
            } else {
                pv[0] = kStartDir, pv[1] = kStartGap, pv[2] = kStartLen, pv[3] = kStartFlag;
            }
            pv[4] = segs[s].offset == 0 ? 0 : kPosClasses - 1;
        }
        auto c = pn.condition(torch::tensor(cond, torch::kLong).reshape({S, 4})).contiguous();
        auto h = pn.initial_state(c).contiguous();
        auto x = torch::empty({S, 1, 2 * kEmb}, torch::kFloat);
        if (!carried.empty())
            h.index_copy_(1, torch::tensor(carried, torch::kLong), torch::stack(carried_h).unsqueeze(0));
        // Step t for the segments [b0, b1): their GRU step, heads and draws. A round can hold
        // tens of thousands of segments (a SYN flood's one-packet flows); taking them
        // kSampleRows at a time bounds the step's tensors (a few MiB instead of hundreds),
        // while the draws keep their order, so the tokens are the same as in one block.
        auto step_rows = [&](int t, int64_t b0, int64_t b1) {
            pn.step_input_rows(&prev[b0 * 5], c.data_ptr<float>() + b0 * c.size(1), b1 - b0,
                               x.slice(0, b0, b1).data_ptr<float>());
            auto hb = h.slice(1, b0, b1);
            auto [out, hn] = pn.gru(x.slice(0, b0, b1), hb);
            hb.copy_(hn);
            const auto hr = out.squeeze(1);
            const auto probs_of = [](const torch::Tensor& l) { return torch::softmax(l * kPacketInvTemperature, 1).contiguous(); };
            std::vector<torch::Tensor> probs;
            // Format 42: every row's direction first, then the rest knowing it.
            std::vector<int64_t> dirs;
            if (pn.dir_aware) {
                probs.push_back(probs_of(pn.dir(hr)));
                const float* pd = probs[0].data_ptr<float>();
                for (int64_t s = b0; s < b1; ++s)
                    dirs.push_back(segs[s].offset + t == 0 ? 0 : draw(pd + (s - b0) * 2, 2, rng));
                for (auto& l : pn.heads_given_dir(hr, torch::tensor(dirs, torch::kLong))) probs.push_back(probs_of(l));
            } else {
                for (auto& l : pn.heads_of(hr)) probs.push_back(probs_of(l));
            }
            const float* pd = probs[0].data_ptr<float>();
            const float* pg = probs[1].data_ptr<float>();
            const float* pl = probs[2].data_ptr<float>();
            const float* pf = probs[3].data_ptr<float>();
            for (int64_t s = b0; s < b1; ++s) {
                const int64_t r = s - b0;
                const Segment& sg = segs[s];
                const bool first = sg.offset + t == 0;
                PacketTokens pt;
                pt.dir = !dirs.empty() ? static_cast<uint8_t>(dirs[r])
                         : first       ? 0
                                       : static_cast<uint8_t>(draw(pd + r * 2, 2, rng));
                pt.gap = first ? 0 : static_cast<uint8_t>(draw(pg + r * kDtClasses, kDtClasses, rng));
                pt.len = static_cast<uint8_t>(draw(pl + r * kLenClasses, kLenClasses, rng));
                pt.flag = !tcp[s] ? 0
                          : first   ? static_cast<uint8_t>(flows[sg.flow].a[kAttrFirstFlag] % kFlagNone)
                                    : static_cast<uint8_t>(draw(pf + r * kFlagClasses, n_flags, rng));
                packets[flows[sg.flow].first + sg.offset + t] = pt;
                int64_t* p = &prev[s * 5];
                p[0] = pt.dir, p[1] = pt.gap, p[2] = pt.len, p[3] = pt.flag;
                p[4] = sg.offset == 0 ? std::min<int64_t>(t + 1, kPosClasses - 2) : kPosClasses - 1;
            }
        };
        for (int t = 0; t < kSegment; ++t) {
            int64_t active = 0;
            while (active < S && segs[active].length > static_cast<uint32_t>(t)) ++active;
            if (active == 0) break;
            for (int64_t b0 = 0; b0 < active; b0 += kSampleRows) step_rows(t, b0, std::min(active, b0 + kSampleRows));
        }
        // Hand each full segment's end state to its flow's next segment.
        for (int64_t s = 0; s < S; ++s) {
            const Segment& sg = segs[s];
            if (sg.length < static_cast<uint32_t>(kSegment) || !carries_state(sg.offset + kSegment)) continue;
            flow_h[sg.flow] = h[0][s].clone();
            flow_last[sg.flow] = {prev[s * 5], prev[s * 5 + 1], prev[s * 5 + 2], prev[s * 5 + 3]};
        }
    }
}

}  // namespace

SampledTokens sample_tokens(const ParamSet& keyframe, const ParamSet* delta, int rank, const ChunkSide& side,
                            uint64_t seed) {
    SampledTokens out;
    prepare_torch();
    ChunkNet net(delta ? rank : 0);
    load_params(net, keyframe);
    net.packet->dir_aware = dir_aware_weights(keyframe);
    if (delta) add_delta(net, *delta);
    net.eval();
    // Not only no gradient: no autograd or view bookkeeping on any op either. Sampling runs a
    // few dozen small ops per step, thousands of steps a chunk; the kernels, and so the bits,
    // are the same as under NoGradGuard.
    c10::InferenceMode inference;
    Rng rng(mix64(seed ^ 0x5A3D1EULL));
    for (uint8_t b : start_buckets(side)) {
        FlowTokens f;
        f.bucket = b;
        f.a[kAttrPhase] = static_cast<uint8_t>(phase_of_bucket(b));
        out.flows.push_back(f);
    }
    if (out.flows.empty()) return out;
    sample_flows(net, side, out.flows, rng);
    if (side.format >= 6 && !side.group_sizes.empty()) {
        match_group_sizes(out.flows, side.group_sizes);
    } else {
        match_size_classes(out.flows, side.size_classes);
    }
    fit_flow_sizes(out.flows, side.ip_packets);
    uint32_t first = 0;
    for (auto& f : out.flows) f.first = first, first += f.packets;
    out.packets.resize(first);
    sample_packets(net, side, out.flows, out.packets, rng);
    return out;
}

}  // namespace dgc::trainer
