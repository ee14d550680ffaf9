// `dgcctl compress IN.pcap -o OUT.dgc [--base BASE.model] [--chunk-seconds S]
// [--chunk-packets N] [--steps N] [--bytes-per-packet X] [--device auto|cpu|cuda] [--seed N]`:
// one small model per chunk (a delta against the best-fitting library keyframe).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "codec/capture_reader.h"
#include "codec/log.h"
#include "command_registry.h"
#include "output_file.h"
#include "progress.h"
#include "trainer/model.h"
#include "trainer/trace_codec.h"

namespace dgc::tools {
namespace {

struct CompressArgs {
    std::string in, out, device = "auto";
    std::vector<std::string> base;
    double chunk_seconds = trainer::kDefaultChunkSeconds;
    uint64_t chunk_packets = trainer::kDefaultChunkPackets;
    int steps = 0;
    double bytes_per_packet = trainer::kDefaultBytesPerPacket;
    bool no_reuse = false;
    uint64_t seed = 1;
};

// Why a chunk got no adapter ranks and no port pool, when the knob is the reason.
std::string side_over_knob(const trainer::ChunkModel& m, double knob) {
    if (m.side_bytes <= m.budget_bytes) return "";
    char note[96];
    std::snprintf(note, sizeof note, "; side alone %.2f B/packet > knob %.2f", knob * m.side_bytes / m.budget_bytes, knob);
    return note;
}

// "keyframe", "delta vs <parent>" or "reused <parent>".
std::string chunk_label(const trainer::ChunkModel& m) {
    if (m.decision == trainer::ChunkDecision::kKeyframe) return "keyframe";
    return (m.decision == trainer::ChunkDecision::kReused ? "reused " : "delta vs ") + m.parent_id;
}

int run_compress(const CompressArgs& a) {
    const auto t0 = std::chrono::steady_clock::now();
    if (auto st = check_writable(a.out); !st) {
        std::cerr << "dgcctl compress: " << st.message() << "\n";
        return 1;
    }
    auto cap = read_capture(input_path(a.in));
    if (!cap) {
        std::cerr << "dgcctl compress: " << cap.status().message() << "\n";
        return 1;
    }
    if (!cap->info.warning.empty()) logger("trainer")->warn("{}: {}", a.in, cap->info.warning);
    trainer::ModelLibrary base;
    std::vector<std::pair<std::string, std::string>> keep;
    for (const auto& b : a.base) {
        if (auto s = trainer::load_base_model(b, base, &keep); !s) {
            std::cerr << "dgcctl compress: " << s.message() << "\n";
            return 1;
        }
    }
    trainer::CompressOptions opts;
    opts.chunk_seconds = a.chunk_seconds;
    opts.chunk_packets = a.chunk_packets;
    opts.train.steps = a.steps;
    opts.train.bytes_per_packet = a.bytes_per_packet;
    opts.train.reuse = !a.no_reuse;
    opts.train.seed = a.seed;
    opts.train.device = a.device == "cuda" ? trainer::Device::kCuda
                        : a.device == "cpu" ? trainer::Device::kCpu
                                            : trainer::Device::kAuto;
    Progress shown("compress");
    size_t chunks_done = 0, chunks = 0;
    trainer::CompressProgress progress;
    progress.fraction = [&](double x) {
        shown.update(x, chunks ? "chunk " + std::to_string(chunks_done + 1) + "/" + std::to_string(chunks) : "");
    };
    progress.chunk_done = [&](size_t i, size_t n, const trainer::ChunkModel& m) {
        chunks_done = i + 1, chunks = n;
        char line[320];
        std::snprintf(line, sizeof line,
                      "chunk %zu/%zu: %llu packets, %zu bytes (%s, rank %d, side %llu of budget %llu), fidelity %.3f, "
                      "joint %.3f, %.2f s%s",
                      i + 1, n, static_cast<unsigned long long>(m.packets), m.blob.size(), chunk_label(m).c_str(),
                      m.lora_rank, static_cast<unsigned long long>(m.side_bytes),
                      static_cast<unsigned long long>(m.budget_bytes), m.fidelity, m.joint, m.train_seconds,
                      side_over_knob(m, a.bytes_per_packet).c_str());
        shown.note(line + std::string("\n  ") + m.why);
    };
    auto f = trainer::compress_capture(*cap, base, opts, progress);
    shown.finish();
    if (!f) {
        std::cerr << "dgcctl compress: " << f.status().message() << "\n";
        return 1;
    }
    if (auto s = write_output(a.out, trainer::serialize_dgc(*f)); !s) {
        std::cerr << "dgcctl compress: " << s.message() << "\n";
        return 1;
    }
    uint64_t packets = 0, delta_bytes = 0, key_bytes = 0;
    double fid = 0, joint = 0, train = 0;
    for (const auto& c : f->chunks) {
        packets += c.real_packets;
        (c.model.parent_id.empty() ? key_bytes : delta_bytes) += c.model.blob.size();
        fid += c.model.fidelity * c.real_packets, joint += c.model.joint * c.real_packets;
        train += c.model.train_seconds;
    }
    for (const auto& [id, blob] : f->keyframes) key_bytes += blob.size();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const bool cuda = opts.train.device != trainer::Device::kCpu && trainer::cuda_available();
    // With the .dgc on standard output, the summary goes to standard error.
    FILE* summary = is_stdio(a.out) ? stderr : stdout;
    std::fprintf(summary, "packets        %llu\nchunks         %zu\n", static_cast<unsigned long long>(packets), f->chunks.size());
    std::fprintf(summary, "bytes stored   %llu per-chunk (deltas + side info), %llu keyframes, %llu all-in\n",
                static_cast<unsigned long long>(delta_bytes), static_cast<unsigned long long>(key_bytes),
                static_cast<unsigned long long>(delta_bytes + key_bytes));
    std::fprintf(summary, "bytes/packet   %.3f per-chunk, %.3f all-in\n", double(delta_bytes) / packets,
                double(delta_bytes + key_bytes) / packets);
    std::fprintf(summary, "fidelity       %.3f mean of 17, %.3f joint mean (packet-weighted over chunks)\n", fid / packets,
                joint / packets);
    std::fprintf(summary, "time           %.1f s (training %.1f s, %.3f s per 1000 packets)\ndevice         %s\n", secs, train,
                1000 * train / packets, cuda ? "cuda" : "cpu");
    return 0;
}

const RegisterCommand kCompress{{60, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("compress", "Train one small generative model per chunk of a capture into a .dgc file");
    auto a = std::make_shared<CompressArgs>();
    cmd->add_option("IN", a->in, "input capture (pcap/pcapng; '-': standard input)")
        ->required()
        ->check(CLI::ExistingFile | CLI::IsMember({"-"}));
    cmd->add_option("-o,--output", a->out, "output .dgc file ('-': standard output)")->required();
    cmd->add_option("--base", a->base, "base model(s) from `dgcctl warmup` to fine-tune from")->check(CLI::ExistingFile);
    cmd->add_option("--chunk-seconds", a->chunk_seconds, "chunk time bound (0: none)")->capture_default_str();
    cmd->add_option("--chunk-packets", a->chunk_packets, "chunk packet bound (0: none)")->capture_default_str();
    cmd->add_option("--steps", a->steps, "optimizer steps per chunk (0: 8 per 1000 packets, 16..240; a keyframe 4x, at most 240)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    cmd->add_option("--bytes-per-packet", a->bytes_per_packet,
                    "model bytes per packet each chunk may spend, side information included (0 < X <= 4)")
        ->check(CLI::Range(1e-9, trainer::kMaxBytesPerPacket))
        ->capture_default_str();
    cmd->add_flag("--no-reuse", a->no_reuse, "fine-tune every chunk, even when its parent alone regenerates it within the gate");
    cmd->add_option("--device", a->device, "auto|cpu|cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
    cmd->add_option("--seed", a->seed, "training and generation seed")->capture_default_str();
    cmd->callback([a, &exit_code] { exit_code = run_compress(*a); });
}}};

}  // namespace
}  // namespace dgc::tools
