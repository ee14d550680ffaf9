// dgcctl series REAL SYNTH [--epoch SECONDS]... [--json]: how well a regenerated capture
// keeps the real one's time series (issue 12 item 5): per epoch, packets, bytes, distinct
// sources and distinct source-destination pairs, and their Pearson correlation.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "codec/capture_reader.h"
#include "codec/fidelity/time_series.h"
#include "command_registry.h"
#include "output_file.h"

namespace dgc::tools {
namespace {

struct SeriesArgs {
    std::string real, synth;
    std::vector<double> epochs{3600, 600};
    bool json = false;
};

struct SeriesRow {
    double seconds = 0;
    size_t epochs = 0;
    std::optional<double> r[4];  // packets, bytes, sources, pairs
};
constexpr const char* kSeriesNames[4] = {"packets", "bytes", "sources", "pairs"};

std::string cell(const std::optional<double>& r) {
    if (!r) return "-";
    std::ostringstream o;
    o << std::fixed << std::setprecision(3) << *r;
    return o.str();
}

int run_series(const SeriesArgs& a) {
    auto real = read_capture(input_path(a.real));
    if (!real.ok()) return std::cerr << "dgcctl series: " << real.status().message() << "\n", 1;
    auto synth = read_capture(input_path(a.synth));
    if (!synth.ok()) return std::cerr << "dgcctl series: " << synth.status().message() << "\n", 1;
    if (real->records.empty() || synth->records.empty())
        return std::cerr << "dgcctl series: " << (real->records.empty() ? a.real : a.synth) << ": no packets\n", 1;
    // One grid for both, from the earlier first packet to the later last one.
    const int64_t t0 = std::min(real->info.first_ns, synth->info.first_ns);
    const int64_t t1 = std::max(real->info.last_ns, synth->info.last_ns);
    std::vector<SeriesRow> rows;
    for (double sec : a.epochs) {
        const auto ns = static_cast<int64_t>(sec * 1e9);
        SeriesRow row;
        row.seconds = sec;
        row.epochs = static_cast<size_t>(fidelity::epoch_of(t1, t0, ns)) + 1;
        const auto x = fidelity::epoch_series(real->records, t0, ns, row.epochs);
        const auto y = fidelity::epoch_series(synth->records, t0, ns, row.epochs);
        row.r[0] = fidelity::pearson(x.packets, y.packets);
        row.r[1] = fidelity::pearson(x.bytes, y.bytes);
        row.r[2] = fidelity::pearson(x.sources, y.sources);
        row.r[3] = fidelity::pearson(x.pairs, y.pairs);
        rows.push_back(row);
    }
    if (a.json) {
        nlohmann::json j = {{"schema", 1}, {"real", a.real}, {"synth", a.synth}, {"epochs", nlohmann::json::array()}};
        for (const auto& row : rows) {
            nlohmann::json p;
            for (int k = 0; k < 4; ++k) p[kSeriesNames[k]] = row.r[k] ? nlohmann::json(*row.r[k]) : nlohmann::json(nullptr);
            j["epochs"].push_back({{"seconds", row.seconds}, {"count", row.epochs}, {"pearson", p}});
        }
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "Pearson correlation of per-epoch series, " << a.synth << " against " << a.real << "\n";
    std::cout << std::left << std::setw(12) << "epoch" << std::right << std::setw(8) << "epochs";
    for (const char* n : kSeriesNames) std::cout << std::setw(10) << n;
    std::cout << "\n";
    for (const auto& row : rows) {
        std::ostringstream e;
        e << row.seconds << " s";
        std::cout << std::left << std::setw(12) << e.str() << std::right << std::setw(8) << row.epochs;
        for (const auto& r : row.r) std::cout << std::setw(10) << cell(r);
        std::cout << "\n";
    }
    return 0;
}

const RegisterCommand kSeries{{41, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("series", "Per-epoch packets, bytes, sources and pairs of SYNTH against REAL (Pearson)");
    auto a = std::make_shared<SeriesArgs>();
    cmd->add_option("REAL", a->real, "the real capture ('-': standard input)")->required()->check(CLI::ExistingFile | CLI::IsMember({"-"}));
    cmd->add_option("SYNTH", a->synth, "the synthetic capture")->required()->check(CLI::ExistingFile);
    cmd->add_option("--epoch", a->epochs, "epoch length in seconds, repeatable (default: 3600 and 600)")
        ->check(CLI::PositiveNumber)
        ->take_all();
    cmd->add_flag("--json", a->json, "print one JSON object instead of the table");
    cmd->callback([a, &exit_code] { exit_code = run_series(*a); });
}}};

}  // namespace
}  // namespace dgc::tools
