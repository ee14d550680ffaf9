// `dgcctl bench-compress FILE... [--base BASE.model] [--steps N] [--bytes-per-packet X] [--sweep F1,F2,...]`: the
// trainer's targets per trace: fidelity (17, joint and the traffic-semantics checks of
// docs/semantics.md, beside floor and the naive reference),
// bytes per packet (per chunk and all-in, beside xz -9 and zstd -19), training seconds per
// 1000 packets, generation packets/s, tshark validity, SYN-open share; and a budget sweep.
#include <zstd.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "codec/capture_reader.h"
#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/semantics.h"
#include "codec/flows.h"
#include "command_registry.h"
#include "progress.h"
#include "trainer/naive_reference.h"
#include "trainer/pipeline_policy.h"
#include "trainer/trace_codec.h"

namespace dgc::tools {
namespace {

struct BenchArgs {
    std::vector<std::string> files, base;
    int steps = 0;
    double bytes_per_packet = trainer::kDefaultBytesPerPacket;
    bool no_reuse = false;
    std::vector<double> sweep;
    bool per_metric = false;
    double chunk_seconds = trainer::kDefaultChunkSeconds;
    uint64_t chunk_packets = trainer::kDefaultChunkPackets;
};

double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string run_shell(const std::string& cmd) {
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        pclose(p);
    }
    return out;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

uint64_t file_bytes_compressed(const std::string& path, bool xz) {
    if (xz) return std::stoull("0" + run_shell("xz -9 -T1 -c " + quoted(path) + " | wc -c"));
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string raw = ss.str(), out(ZSTD_compressBound(raw.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 19);
    return ZSTD_isError(n) ? 0 : n;
}

// Frames tshark flags as malformed or with error-severity expert info (checksums checked).
uint64_t tshark_bad_frames(const std::string& path) {
    std::string cmd = "tshark -n -r " + quoted(path) +
                      " -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
                      " -Y '_ws.malformed || _ws.expert.severity >= \"error\" || _ws.expert.group == \"checksum\"'"
                      " -T fields -e frame.number 2>/dev/null | wc -l";
    return std::stoull("0" + run_shell(cmd));
}

std::pair<uint64_t, uint64_t> syn_open(std::span<const PacketRecord> recs) {
    uint64_t tcp = 0, syn = 0;
    for (const auto& f : assemble_flows(recs)) {
        if (f.key.proto != 6) continue;
        ++tcp;
        syn += (recs[f.packets[0]].tcp_flags & 0x02) ? 1 : 0;
    }
    return {syn, tcp};
}

std::string f3(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", v);
    return b;
}

std::string f3(const std::optional<double>& v) { return v ? f3(*v) : "-"; }

// The three sides of every comparison the bench prints: the model, the naive reference
// and the real trace's floor.
struct Sides {
    const fidelity::MetricSet& model;
    const fidelity::MetricSet& naive;
    const fidelity::MetricSet& floor;
    const fidelity::SemanticSet& sem_model;
    const fidelity::SemanticSet& sem_naive;
    const fidelity::SemanticSet& sem_floor;
};

// Model, naive reference and floor metric by metric: where a mean is won or lost.
void print_per_metric(const std::string& name, const Sides& s) {
    std::printf("\n%s, per metric:\n\n| metric | model | naive | floor |\n|---|---|---|---|\n", name.c_str());
    auto row = [](std::string_view n, const std::optional<double>& m, const std::optional<double>& v,
                  const std::optional<double>& f) {
        std::printf("| %s | %s | %s | %s |\n", std::string(n).c_str(), f3(m).c_str(), f3(v).c_str(), f3(f).c_str());
    };
    for (size_t i = 0; i < fidelity::kMetricCount; ++i)
        row(fidelity::kMetricNames[i], s.model.metrics[i], s.naive.metrics[i], s.floor.metrics[i]);
    for (size_t i = 0; i < fidelity::kJointCount; ++i)
        row(fidelity::kJointNames[i], s.model.joint[i], s.naive.joint[i], s.floor.joint[i]);
    for (size_t i = 0; i < fidelity::kSemanticCount; ++i)
        row(fidelity::kSemanticNames[i], s.sem_model.checks[i], s.sem_naive.checks[i], s.sem_floor.checks[i]);
    std::printf("\n");
}

struct TraceResult {
    double fid = 0, joint = 0, sptp = 0;
};

Result<TraceResult> bench_one(const std::string& path, const trainer::ModelLibrary& base, uint64_t base_bytes,
                              const BenchArgs& a, double budget_scale, bool full) {
    auto cap = read_capture(path);
    if (!cap) return cap.status();
    trainer::CompressOptions opts;
    opts.chunk_seconds = a.chunk_seconds;
    opts.chunk_packets = a.chunk_packets;
    opts.train.device = trainer::Device::kAuto;
    opts.train.bytes_per_packet = a.bytes_per_packet;
    opts.train.reuse = !a.no_reuse;
    const auto bounds = trainer::plan_chunks(cap->records, opts.chunk_seconds, opts.chunk_packets);
    // The trainer's own budgets (a keyframe's larger than a chunk's), scaled for the sweep.
    if (a.steps > 0)
        opts.train.steps = trainer::scaled_steps(a.steps, budget_scale);
    else
        opts.train.step_scale = budget_scale;
    // Training is most of a trace's time; the shares of the rest are rough.
    Progress shown("bench-compress");
    const std::string file = std::filesystem::path(path).filename().string();
    trainer::CompressProgress progress;
    progress.fraction = [&](double x) { shown.update(0.7 * x, file + ": training"); };
    auto f = trainer::compress_capture(*cap, base, opts, progress);
    if (!f) return f.status();
    shown.update(0.7, file + ": regenerating");
    const double g0 = now(), c0 = cpu_now();
    auto bytes = trainer::expand_dgc(*f, 0, f->chunks.size() - 1);
    const double gen_s = now() - g0, gen_cpu = cpu_now() - c0;
    if (!bytes) return bytes.status();
    auto synth = read_capture_memory("synthetic", *bytes);
    if (!synth) return synth.status();
    auto score = fidelity::evaluate(cap->records, synth->records);
    TraceResult tr;
    double train = 0;
    uint64_t delta_bytes = 0, key_bytes = base_bytes;
    for (const auto& c : f->chunks) {
        train += c.model.train_seconds;
        (c.model.parent_id.empty() ? key_bytes : delta_bytes) += c.model.blob.size();
    }
    const double n = static_cast<double>(cap->records.size());
    tr.fid = score.score.average.value_or(1);
    tr.joint = score.score.joint_average.value_or(1);
    tr.sptp = 1000 * train / n;
    if (!full) return tr;

    shown.update(0.75, file + ": floor, naive reference, semantics");
    auto fl = fidelity::floor(cap->records);
    std::vector<PacketRecord> naive;
    for (const auto& b : bounds) {
        auto part = trainer::naive_reference({cap->records.data() + b.first, b.count}, 7 + b.first);
        naive.insert(naive.end(), part.begin(), part.end());
    }
    auto nscore = fidelity::evaluate(cap->records, naive);
    const fidelity::SemanticSet sem = fidelity::semantics(cap->records, synth->records);
    const fidelity::SemanticSet sem_naive = fidelity::semantics(cap->records, naive);
    const fidelity::SemanticSet sem_floor = fidelity::semantics_floor(cap->records);
    auto tmp = std::filesystem::temp_directory_path() / ("dgc-bench-" + std::to_string(::getpid()) + ".pcap");
    {
        std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
        o.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    }
    const uint64_t bad = tshark_bad_frames(tmp.string());
    std::filesystem::remove(tmp);
    auto [rs, rt] = syn_open(cap->records);
    auto [ss, st] = syn_open(synth->records);
    const uint64_t xz = file_bytes_compressed(path, true), zs = file_bytes_compressed(path, false);
    std::string name = std::filesystem::path(path).stem().string();
    shown.finish();
    std::printf("| %s | %zu | %zu | %s / %s | %s / %s | %s / %s | %d | %s / %s | %s | %s | %s | %s | %s | %.0f / %.0f | %llu | %s / %s | %s |\n",
                name.c_str(), cap->records.size(), f->chunks.size(), f3(tr.fid).c_str(),
                f3(fl.score.average.value_or(0)).c_str(), f3(tr.joint).c_str(),
                f3(fl.score.joint_average.value_or(0)).c_str(), f3(sem.mean).c_str(), f3(sem_floor.mean).c_str(),
                fidelity::semantic_failures(sem, sem_floor), f3(nscore.score.average.value_or(1)).c_str(),
                f3(nscore.score.joint_average.value_or(1)).c_str(), f3(delta_bytes / n).c_str(),
                f3((delta_bytes + key_bytes) / n).c_str(), f3(xz / n).c_str(), f3(zs / n).c_str(), f3(tr.sptp).c_str(),
                synth->records.size() / std::max(gen_s, 1e-9), synth->records.size() / std::max(gen_cpu, 1e-9),
                static_cast<unsigned long long>(bad),
                f3(rt ? double(rs) / rt : 0).c_str(), f3(st ? double(ss) / st : 0).c_str(),
                f3(score.replay.value_or(0)).c_str());
    if (a.per_metric) print_per_metric(name, {score.score, nscore.score, fl.score, sem, sem_naive, sem_floor});
    std::fflush(stdout);
    return tr;
}

int run_bench(const BenchArgs& a) {
    trainer::ModelLibrary base;
    std::vector<std::pair<std::string, std::string>> keep;
    for (const auto& b : a.base)
        if (auto s = trainer::load_base_model(b, base, &keep); !s) {
            std::cerr << "dgcctl bench-compress: " << s.message() << "\n";
            return 1;
        }
    uint64_t base_bytes = 0;
    for (const auto& [id, blob] : keep) base_bytes += blob.size();
    std::printf("| trace | packets | chunks | 17-mean / floor | joint / floor | semantics / floor | semantics over floor+%.2f | "
                "naive 17 / joint | B/pkt per-chunk | B/pkt all-in | xz -9 | zstd -19 | SPTP (s) | gen pkt/s wall / cpu | "
                "tshark bad | SYN-open real / synth | replay |\n",
                fidelity::kSemanticMargin);
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int rc = 0;
    for (const auto& path : a.files) {
        auto r = bench_one(path, base, base_bytes, a, 1.0, true);
        if (!r) {
            std::cerr << "dgcctl bench-compress: " << r.status().message() << "\n";
            rc = 1;
        }
    }
    if (!a.sweep.empty() && !a.files.empty()) {
        std::printf("\nStep-budget sweep on %s (scale of the default steps):\n\n| scale | SPTP (s) | 17-mean | joint |\n|---|---|---|---|\n",
                    std::filesystem::path(a.files[0]).filename().c_str());
        for (double s : a.sweep) {
            auto r = bench_one(a.files[0], base, base_bytes, a, s, false);
            if (r) std::printf("| %.2f | %s | %s | %s |\n", s, f3(r->sptp).c_str(), f3(r->fid).c_str(), f3(r->joint).c_str());
            std::fflush(stdout);
        }
    }
    return rc;
}

const RegisterCommand kBenchCompress{{91, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("bench-compress", "Benchmark compress/expand against the trainer targets");
    auto a = std::make_shared<BenchArgs>();
    cmd->add_option("FILE", a->files, "captures")->required()->check(CLI::ExistingFile);
    cmd->add_option("--base", a->base, "base model(s) from `dgcctl warmup`")->check(CLI::ExistingFile);
    cmd->add_option("--steps", a->steps, "optimizer steps per chunk (0: the defaults, 8 per 1000 packets, 16..240, a keyframe 4x, at most 240)");
    cmd->add_option("--bytes-per-packet", a->bytes_per_packet, "the storage knob: model bytes per packet per chunk (0 < X <= 4)")
        ->check(CLI::Range(1e-9, trainer::kMaxBytesPerPacket))
        ->capture_default_str();
    cmd->add_flag("--no-reuse", a->no_reuse, "fine-tune every chunk, even when its parent alone regenerates it within the gate");
    cmd->add_option("--sweep", a->sweep, "step-budget scales for the sweep on the first FILE, e.g. 0.25,0.5,1,2")->delimiter(',');
    cmd->add_flag("--per-metric", a->per_metric, "after each trace's row, its metrics one by one: model, naive, floor");
    cmd->add_option("--chunk-seconds", a->chunk_seconds)->capture_default_str();
    cmd->add_option("--chunk-packets", a->chunk_packets)->capture_default_str();
    cmd->callback([a, &exit_code] { exit_code = run_bench(*a); });
}}};

}  // namespace
}  // namespace dgc::tools
