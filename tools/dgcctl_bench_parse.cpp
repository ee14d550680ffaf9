// dgcctl bench-parse DIR|FILE...: parsing throughput of the capture reader on one core.
// Files are read into memory first (timed separately), then parsed from memory into
// in-memory records, so the figure is the codec's, not the disk's.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "codec/capture_reader.h"
#include "command_registry.h"
#include "progress.h"

namespace dgc::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<std::string> collect_files(const std::vector<std::string>& args) {
    std::vector<std::string> files;
    for (const auto& a : args) {
        if (fs::is_directory(a)) {
            for (const auto& e : fs::directory_iterator(a)) {
                if (e.is_regular_file()) files.push_back(e.path().string());
            }
        } else {
            files.push_back(a);
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

int run(const std::vector<std::string>& args, int rounds) {
    const auto files = collect_files(args);
    if (files.empty()) {
        std::cerr << "dgcctl bench-parse: no files found\n";
        return 1;
    }
    std::vector<std::pair<std::string, std::string>> blobs;
    uint64_t bytes = 0;
    const auto r0 = Clock::now();
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        blobs.emplace_back(f, ss.str());
        bytes += blobs.back().second.size();
    }
    const double read_s = std::chrono::duration<double>(Clock::now() - r0).count();

    std::vector<PacketRecord> records;
    double best = 1e300;
    uint64_t packets = 0;
    Progress shown("bench-parse");
    for (int round = 0; round < rounds; ++round) {
        shown.update(double(round) / rounds, "round " + std::to_string(round + 1) + "/" + std::to_string(rounds));
        // Copies are made before the clock starts: open_memory takes ownership.
        std::vector<std::string> copies;
        for (const auto& b : blobs) copies.push_back(b.second);
        records.clear();
        packets = 0;
        const auto t0 = Clock::now();
        for (size_t i = 0; i < blobs.size(); ++i) {
            auto rd = CaptureReader::open_memory(blobs[i].first, std::move(copies[i]));
            if (!rd.ok()) {
                if (round == 0) std::cerr << "skipped: " << rd.status().message() << "\n";
                continue;
            }
            PacketRecord rec;
            while (true) {
                auto more = (*rd)->next(rec);
                if (!more.ok() || !*more) break;
                records.push_back(rec);
            }
            packets += (*rd)->info().packets;
        }
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    shown.finish();
    std::printf("files: %zu, bytes: %llu, packets: %llu\n", files.size(), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(packets));
    std::printf("file read: %.3f s (%.1f MB/s, excluded below)\n", read_s, bytes / 1e6 / std::max(read_s, 1e-9));
    std::printf("parse: %.4f s best of %d rounds, one core: %.2f million packets/s, %.0f MB/s\n", best, rounds,
                packets / best / 1e6, bytes / 1e6 / best);
    return 0;
}

const RegisterCommand kBenchParse{{90, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("bench-parse", "Capture parsing throughput (packets/s on one core)");
    auto paths = std::make_shared<std::vector<std::string>>();
    auto rounds = std::make_shared<int>(5);
    cmd->add_option("PATH", *paths, "directories of captures (e.g. ../shared/data/pcaps/dev) or files")->required();
    cmd->add_option("--rounds", *rounds, "timed rounds; the best is reported")->capture_default_str();
    cmd->callback([paths, rounds, &exit_code] { exit_code = run(*paths, std::max(1, *rounds)); });
}}};

}  // namespace
}  // namespace dgc::tools
