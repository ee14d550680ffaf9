// `dgcctl bench-eval FILE...`: single-thread speed of the fidelity yardstick. Each trace is
// evaluated against a perturbed copy of itself (so every histogram differs), repeated for
// at least half a second (fastest run kept); packets/s counts the packets of both traces.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "codec/capture_reader.h"
#include "codec/fidelity/fidelity.h"
#include "command_registry.h"
#include "progress.h"

namespace dgc::tools {
namespace {

// Jittered times, every 7th source port moved, every 10th packet dropped: a copy that
// differs from the original in every metric family without changing its size much.
std::vector<PacketRecord> perturbed(const std::vector<PacketRecord>& in) {
    std::vector<PacketRecord> out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (i % 10 == 9) continue;
        PacketRecord r = in[i];
        r.t_ns += static_cast<int64_t>((i * 7919) % 1000) * 1000;
        if (i % 7 == 0) r.sport = static_cast<uint16_t>(r.sport + 1);
        out.push_back(r);
    }
    return out;
}

// Fastest of the runs made in half a second (at least three): the machine is shared, and
// the minimum is the figure least disturbed by other work.
template <typename F>
double seconds_per_run(F&& f) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    double best = 1e300;
    for (int runs = 0; runs < 3 || std::chrono::duration<double>(clock::now() - start).count() < 0.5; ++runs) {
        const auto t = clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(clock::now() - t).count());
    }
    return best;
}

int run_bench(const std::vector<std::string>& files) {
    uint64_t total_packets = 0;
    double total_eval = 0, total_with_floor = 0;
    std::printf("%-52s %9s %14s %18s\n", "trace", "packets", "eval pkt/s", "eval+floor pkt/s");
    Progress shown("bench-eval");
    for (size_t i = 0; i < files.size(); ++i) {
        const std::string& f = files[i];
        shown.update(double(i) / files.size(), f);
        auto cap = read_capture(f);
        if (!cap) {
            std::cerr << "dgcctl bench-eval: " << cap.status().message() << "\n";
            return 1;
        }
        const std::vector<PacketRecord>& real = cap->records;
        const std::vector<PacketRecord> synth = perturbed(real);
        const double n = static_cast<double>(real.size() + synth.size());
        double sink = 0;
        const double t_eval = seconds_per_run([&] { sink += fidelity::evaluate(real, synth).score.average.value_or(0); });
        const double t_floor = seconds_per_run([&] { sink += fidelity::floor(real).score.average.value_or(0); });
        const std::string name = f.substr(f.find_last_of('/') + 1);
        shown.finish();
        std::printf("%-52s %9zu %14.3g %18.3g\n", name.c_str(), real.size(), n / t_eval,
                    n / (t_eval + t_floor));
        if (sink < 0) std::printf("impossible\n");  // keeps the timed calls observable
        total_packets += real.size() + synth.size();
        total_eval += t_eval;
        total_with_floor += t_eval + t_floor;
    }
    std::printf("%-52s %9s %14.3g %18.3g\n", "all (packets of both traces / time)", "",
                static_cast<double>(total_packets) / total_eval, static_cast<double>(total_packets) / total_with_floor);
    return 0;
}

const RegisterCommand kBenchEval{{92, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("bench-eval", "Time the fidelity metrics (single thread) on traces against perturbed copies");
    auto files = std::make_shared<std::vector<std::string>>();
    cmd->add_option("FILE", *files, "pcap or pcapng files")->required()->check(CLI::ExistingFile);
    cmd->callback([files, &exit_code] { exit_code = run_bench(*files); });
}}};

}  // namespace
}  // namespace dgc::tools
