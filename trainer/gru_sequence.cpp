// The GRU of training and scoring, over packed segments, with its own backward pass.
// A training batch is 48 segments of 32 steps, but most flows are short: on Tinba, dnscap's
// DNS and isp-fragtest 6-15 % of those steps hold a packet (netflix 60 %). nn::GRU ran
// every step of every segment, and the heads and losses after it every position, padding
// included, which the mask then zeroed. Packed (steps in time order, at step t only the
// segments that have one, as PyTorch's PackedSequence), nothing is computed for padding;
// each step is one matrix multiply plus the gates in a plain loop, forward and backward,
// and the input projections and weight gradients are one multiply each over all steps.
// Same function as nn::GRU (PyTorch's GRU equations, gates r, z, n in that order); the sums
// round differently, so models trained with it differ from nn::GRU-trained ones in the last
// bits, and are as reproducible. Sampling steps nn::GRU itself.
#include "trainer/gru_sequence.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "trainer/torch_nets.h"

namespace dgc::trainer {

// Cephes' expf: a = k ln 2 + r, a degree-5 polynomial for e^r, 2^k put into the exponent
// bits. libm's expf, three calls per gate element, was 29 % of a keyframe's time on a
// 2-core EPYC without AVX-512 (its gate loop another 24 %); this one inlines into the loop.
// Plain float operations, no CPU dispatch: the same bits on every x86-64 machine.
float gate_exp(float a) {
    a = std::min(std::max(a, -87.0f), 88.0f);
    constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const float k = (a * 1.44269504088896341f + kRound) - kRound;
    const float r = (a - k * 0.693359375f) - k * -2.12194440e-4f;  // ln 2 in two parts
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float e = p * r * r + r + 1.0f;
    return e * std::bit_cast<float>((static_cast<int32_t>(k) + 127) << 23);
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

float sigmoid(float a) { return 1.0f / (1.0f + gate_exp(-a)); }
// libm's tanhf goes through expm1f, three times the cost of expf: it took a sixth of a
// keyframe's time. This form is within a few 1e-7 of it, which training does not notice.
float tanh_of(float a) { return 1.0f - 2.0f / (gate_exp(2.0f * a) + 1.0f); }

std::vector<int64_t> offsets_of(const std::vector<int64_t>& batch_sizes) {
    std::vector<int64_t> off(batch_sizes.size() + 1, 0);
    for (size_t t = 0; t < batch_sizes.size(); ++t) off[t + 1] = off[t] + batch_sizes[t];
    return off;
}

struct PackedGru : torch::autograd::Function<PackedGru> {
    // x [N, I] packed, h0 [S, H]; weights as nn::GRU holds them: w_ih [3H, I], w_hh [3H, H].
    // Returns the state after each packed step, [N, H].
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& h0,
                                 const torch::Tensor& w_ih, const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                                 const torch::Tensor& b_hh, const std::vector<int64_t>& batch_sizes) {
        const int64_t N = x.size(0), H = h0.size(1);
        const auto off = offsets_of(batch_sizes);
        const auto gi = torch::addmm(b_ih, x, w_ih.t()).contiguous();  // [N, 3H]
        const auto h0c = h0.contiguous();
        auto out = torch::empty({N, H}, x.options());
        auto hprev = torch::empty({N, H}, x.options());    // the state each step starts from
        auto gates = torch::empty({N, 3 * H}, x.options());  // r, z, n after their nonlinearity
        auto ghn = torch::empty({N, H}, x.options());        // W_hn h + b_hn, which r scales
        auto gh = torch::empty({batch_sizes.empty() ? 0 : batch_sizes[0], 3 * H}, x.options());
        const auto w_hh_t = w_hh.t();
        for (size_t t = 0; t < batch_sizes.size(); ++t) {
            const int64_t B = batch_sizes[t], o = off[t];
            // Segments are longest first, so those with a step t are a prefix of step t - 1's.
            const float* src = t == 0 ? h0c.data_ptr<float>() : out.data_ptr<float>() + off[t - 1] * H;
            float* hp = hprev.data_ptr<float>() + o * H;
            std::memcpy(hp, src, sizeof(float) * B * H);
            auto ghb = gh.narrow(0, 0, B);
            torch::addmm_out(ghb, b_hh, hprev.narrow(0, o, B), w_hh_t);
            const float* pgi = gi.data_ptr<float>() + o * 3 * H;
            const float* pgh = ghb.data_ptr<float>();
            float* hn = out.data_ptr<float>() + o * H;
            float* g = gates.data_ptr<float>() + o * 3 * H;
            float* gn = ghn.data_ptr<float>() + o * H;
            for (int64_t s = 0; s < B; ++s) {
                const float *ai = pgi + s * 3 * H, *ah = pgh + s * 3 * H;
                float* gs = g + s * 3 * H;
                for (int64_t j = 0; j < H; ++j) {
                    const float r = sigmoid(ai[j] + ah[j]);
                    const float z = sigmoid(ai[H + j] + ah[H + j]);
                    const float n = tanh_of(ai[2 * H + j] + r * ah[2 * H + j]);
                    gs[j] = r, gs[H + j] = z, gs[2 * H + j] = n;
                    gn[s * H + j] = ah[2 * H + j];
                    hn[s * H + j] = (1.0f - z) * n + z * hp[s * H + j];
                }
            }
        }
        ctx->save_for_backward({x, hprev, gates, ghn, w_ih, w_hh});
        ctx->saved_data["batch_sizes"] = c10::IValue(batch_sizes);
        ctx->saved_data["S"] = h0.size(0);
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0], &hprev = saved[1], &gates = saved[2], &ghn = saved[3], &w_ih = saved[4], &w_hh = saved[5];
        const auto batch_sizes = ctx->saved_data["batch_sizes"].toIntVector();
        const int64_t S = ctx->saved_data["S"].toInt(), N = x.size(0), H = hprev.size(1);
        const auto off = offsets_of(batch_sizes);
        const auto dout = grad_out[0].contiguous();
        auto dgi = torch::empty({N, 3 * H}, dout.options());  // gradient of each gate's input part
        auto dgh = torch::empty({N, 3 * H}, dout.options());  // and of its hidden part
        // Into the state each segment's step t starts from; rows past step t + 1's prefix
        // stay zero, as their state after step t is the segment's last.
        auto dh = torch::zeros({S, H}, dout.options());
        for (int64_t t = static_cast<int64_t>(batch_sizes.size()) - 1; t >= 0; --t) {
            const int64_t B = batch_sizes[t], o = off[t];
            const float* g = gates.data_ptr<float>() + o * 3 * H;
            const float* gn = ghn.data_ptr<float>() + o * H;
            const float* hp = hprev.data_ptr<float>() + o * H;
            const float* dn_out = dout.data_ptr<float>() + o * H;
            float* di = dgi.data_ptr<float>() + o * 3 * H;
            float* dhh = dgh.data_ptr<float>() + o * 3 * H;
            float* pdh = dh.data_ptr<float>();
            for (int64_t s = 0; s < B; ++s) {
                const float* gs = g + s * 3 * H;
                float* dis = di + s * 3 * H;
                float* dhs = dhh + s * 3 * H;
                for (int64_t j = 0; j < H; ++j) {
                    const int64_t e = s * H + j;
                    const float r = gs[j], z = gs[H + j], n = gs[2 * H + j];
                    const float d = dn_out[e] + pdh[e];
                    const float da_n = d * (1.0f - z) * (1.0f - n * n);
                    const float da_z = d * (hp[e] - n) * z * (1.0f - z);
                    const float da_r = da_n * gn[e] * r * (1.0f - r);
                    dis[j] = dhs[j] = da_r;
                    dis[H + j] = dhs[H + j] = da_z;
                    dis[2 * H + j] = da_n;
                    dhs[2 * H + j] = da_n * r;
                    pdh[e] = d * z;  // the state's own path; W_hh's is added below
                }
            }
            dh.narrow(0, 0, B).add_(torch::mm(dgh.narrow(0, o, B), w_hh));
        }
        return {torch::mm(dgi, w_ih), dh, torch::mm(dgi.t(), x), torch::mm(dgh.t(), hprev), dgi.sum(0), dgh.sum(0),
                torch::Tensor()};
    }
};

std::array<torch::Tensor, 4> weights_of(torch::nn::GRU& gru) {
    const auto p = gru->named_parameters();
    return {p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]};
}

// Where each packed step sits in a padded [S, L] batch: s * L + t.
torch::Tensor padded_positions(const std::vector<int64_t>& batch_sizes, int64_t L) {
    std::vector<int64_t> pos;
    for (size_t t = 0; t < batch_sizes.size(); ++t)
        for (int64_t s = 0; s < batch_sizes[t]; ++s) pos.push_back(s * L + static_cast<int64_t>(t));
    return torch::tensor(pos, torch::kLong);
}

}  // namespace

torch::Tensor gru_packed(torch::nn::GRU& gru, const torch::Tensor& x, const torch::Tensor& h0,
                         const std::vector<int64_t>& batch_sizes) {
    TORCH_CHECK(std::is_sorted(batch_sizes.rbegin(), batch_sizes.rend()), "gru_packed: batch sizes must not grow");
    if (x.device().is_cpu() && x.scalar_type() == torch::kFloat) {
        const auto w = weights_of(gru);
        return PackedGru::apply(x, h0.squeeze(0), w[0], w[1], w[2], w[3], batch_sizes);
    }
    // Elsewhere (CUDA) nn::GRU runs the padded batch and the packed steps are read off it.
    const int64_t S = h0.size(1), L = static_cast<int64_t>(batch_sizes.size()), I = x.size(1);
    const auto pos = padded_positions(batch_sizes, L).to(x.device());
    const auto padded = torch::zeros({S * L, I}, x.options()).index_copy(0, pos, x).reshape({S, L, I});
    return std::get<0>(gru(padded, h0)).reshape({S * L, -1}).index_select(0, pos);
}

GruCheck check_gru_packed(uint64_t seed) {
    torch::manual_seed(seed);
    const int64_t I = 6, H = 4;
    const std::vector<int64_t> lengths = {7, 7, 5, 2, 1};  // longest first
    const int64_t S = static_cast<int64_t>(lengths.size()), L = lengths[0];
    std::vector<int64_t> batch_sizes;
    for (int64_t t = 0; t < L; ++t)
        batch_sizes.push_back(std::count_if(lengths.begin(), lengths.end(), [t](int64_t n) { return n > t; }));
    const auto pos = padded_positions(batch_sizes, L);
    torch::nn::GRU gru(torch::nn::GRUOptions(I, H).batch_first(true));
    const auto x0 = torch::randn({S, L, I}), h00 = torch::randn({1, S, H});
    const auto w = torch::randn({pos.size(0), H});
    struct Run {
        torch::Tensor states;
        std::vector<torch::Tensor> grads;
    };
    // The weighted sum of the states at the segments' real steps, and its gradients.
    auto run = [&](bool own) {
        const auto x = x0.clone().requires_grad_(true), h0 = h00.clone().requires_grad_(true);
        gru->zero_grad();
        Run r;
        r.states = own ? gru_packed(gru, x.reshape({S * L, I}).index_select(0, pos), h0, batch_sizes)
                       : std::get<0>(gru(x, h0)).reshape({S * L, H}).index_select(0, pos);
        (r.states * w).sum().backward();
        r.grads = {x.grad().clone(), h0.grad().clone()};
        for (const auto& p : gru->parameters()) r.grads.push_back(p.grad().clone());
        return r;
    };
    const Run ref = run(false), own = run(true);
    GruCheck out;
    out.states = (ref.states - own.states).abs().max().item<double>();
    for (size_t i = 0; i < ref.grads.size(); ++i)
        out.gradients = std::max(out.gradients, (ref.grads[i] - own.grads[i]).abs().max().item<double>());
    return out;
}

}  // namespace dgc::trainer
