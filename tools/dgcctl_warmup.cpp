// `dgcctl warmup HIST.pcap... -o BASE.model [--steps N] [--seed N]`: offline warm-up,
// one keyframe trained over historical traces that chunk models later fine-tune from.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "codec/capture_reader.h"
#include "command_registry.h"
#include "output_file.h"
#include "progress.h"
#include "trainer/chunk_tokens.h"
#include "trainer/model.h"
#include "trainer/model_blob.h"
#include "trainer/pipeline_policy.h"
#include "trainer/trace_codec.h"

namespace dgc::tools {
namespace {

int run_warmup(const std::vector<std::string>& inputs, const std::string& out, int steps, uint64_t seed) {
    const auto t0 = std::chrono::steady_clock::now();
    if (auto st = check_writable(out); !st) {
        std::cerr << "dgcctl warmup: " << st.message() << "\n";
        return 1;
    }
    std::vector<trainer::EncodedChunk> chunks;
    uint64_t packets = 0;
    for (const auto& path : inputs) {
        auto cap = read_capture(path);
        if (!cap) {
            std::cerr << "dgcctl warmup: " << cap.status().message() << "\n";
            return 1;
        }
        auto fmt = trainer::output_format(cap->info);
        if (!fmt) {
            std::cerr << "dgcctl warmup: skipping " << fmt.status().message() << "\n";
            continue;
        }
        for (const auto& b : trainer::plan_chunks(cap->records, trainer::kDefaultChunkSeconds, trainer::kDefaultChunkPackets)) {
            chunks.push_back(trainer::encode_chunk({cap->records.data() + b.first, b.count}, fmt->linktype));
            packets += b.count;
        }
    }
    if (chunks.empty()) {
        std::cerr << "dgcctl warmup: no modelable traffic in the inputs\n";
        return 1;
    }
    std::vector<const trainer::EncodedChunk*> ptrs;
    for (const auto& c : chunks) ptrs.push_back(&c);
    trainer::FitOptions fo;
    fo.seed = seed;
    fo.steps = steps > 0 ? steps : trainer::default_warmup_steps(packets);
    fo.cuda = trainer::cuda_available();
    Progress shown("warmup");
    fo.progress = [&](double x) {
        shown.update(x, "step " + std::to_string(std::lround(x * fo.steps)) + "/" + std::to_string(fo.steps));
    };
    auto fit = trainer::fit_keyframe(ptrs, fo);
    shown.finish();
    trainer::ModelBlob blob;
    blob.kind = trainer::BlobKind::kKeyframe;
    blob.seed = seed;
    blob.params = std::move(fit.params);
    std::string bytes = trainer::encode_blob(blob);
    if (auto st = write_output(out, bytes); !st) {
        std::cerr << "dgcctl warmup: " << st.message() << "\n";
        return 1;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(is_stdio(out) ? stderr : stdout, "%s: %zu bytes, %zu chunks, %llu packets, %d steps, loss %.3f, %.1f s\n", out.c_str(), bytes.size(),
                chunks.size(), static_cast<unsigned long long>(packets), fit.steps, fit.loss, secs);
    return 0;
}

const RegisterCommand kWarmup{{62, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("warmup", "Train a base model over historical captures");
    auto in = std::make_shared<std::vector<std::string>>();
    auto out = std::make_shared<std::string>();
    auto steps = std::make_shared<int>(0);
    auto seed = std::make_shared<uint64_t>(1);
    cmd->add_option("HIST", *in, "historical captures")->required()->check(CLI::ExistingFile);
    cmd->add_option("-o,--output", *out, "base model file to write")->required();
    cmd->add_option("--steps", *steps, "optimizer steps (0: 30 per 1000 packets, 600..6000)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    cmd->add_option("--seed", *seed, "training seed")->capture_default_str();
    cmd->callback([=, &exit_code] { exit_code = run_warmup(*in, *out, *steps, *seed); });
}}};

}  // namespace
}  // namespace dgc::tools
