// `dgcctl eval REAL [SYNTH] [--json] [--report FILE.html]`: the fidelity yardstick of
// ../shared/spec/fidelity.md and the traffic-semantics checks of docs/semantics.md. With
// SYNTH, its 17 + 5 joint metrics and the semantics checks against REAL beside REAL's
// floor; alone, REAL's floor.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "cli.h"
#include "codec/capture_reader.h"
#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/report_html.h"
#include "codec/fidelity/report_json.h"
#include "codec/fidelity/report_talkers.h"
#include "codec/fidelity/report_verdict.h"
#include "codec/fidelity/semantics.h"
#include "codec/log.h"
#include "command_registry.h"
#include "output_file.h"
#include "progress.h"

namespace dgc::tools {
namespace {

using fidelity::FidelityReport;
using fidelity::SemanticSet;

std::string cell(const std::optional<double>& v) {
    if (!v) return "    -";
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", *v);
    return b;
}

std::string pass_mark(fidelity::Verdict v) {
    switch (v) {
        case fidelity::Verdict::kPass: return "ok";
        case fidelity::Verdict::kFail: return "FAIL";
        default: return "-";
    }
}

// One line: name, JSD and pass mark (with SYNTH), floor.
void print_row(const std::string& name, const std::optional<double>* score, const std::optional<double>& fl,
               fidelity::Verdict v) {
    char b[128];
    if (score)
        std::snprintf(b, sizeof b, "%-18s %8s %8s %6s\n", name.c_str(), cell(*score).c_str(), cell(fl).c_str(),
                      pass_mark(v).c_str());
    else
        std::snprintf(b, sizeof b, "%-18s %8s\n", name.c_str(), cell(fl).c_str());
    std::cout << b;
}

void print_header(const std::string& first, bool with_score) {
    char b[128];
    if (with_score)
        std::snprintf(b, sizeof b, "%-18s %8s %8s %6s\n", first.c_str(), "JSD", "floor", "pass");
    else
        std::snprintf(b, sizeof b, "%-18s %8s\n", first.c_str(), "floor");
    std::cout << b;
}

// v: the verdicts (all undefined without SYNTH).
void print_table(const FidelityReport* score, const FidelityReport& fl, const fidelity::PacketCounts& real,
                 const fidelity::EvalVerdict& v) {
    using fidelity::kMetricNames, fidelity::kJointNames;
    print_header("metric", score);
    for (int i = 0; i < fidelity::kMetricCount; ++i)
        print_row(std::string(kMetricNames[i]), score ? &score->score.metrics[i] : nullptr, fl.score.metrics[i],
                  v.metrics[i]);
    print_row("mean (17)", score ? &score->score.average : nullptr, fl.score.average, v.average);
    std::cout << "\n";
    for (int i = 0; i < fidelity::kJointCount; ++i)
        print_row(std::string(kJointNames[i]), score ? &score->score.joint[i] : nullptr, fl.score.joint[i], v.joint[i]);
    print_row("joint mean (5)", score ? &score->score.joint_average : nullptr, fl.score.joint_average, v.joint_average);
    std::cout << "\npackets  real: " << real.ip << " IP, " << real.nonip << " non-IP";
    if (score) {
        std::cout << "; synthetic: " << score->synthetic.ip << " IP, " << score->synthetic.nonip << " non-IP\n";
        std::cout << "replay   " << (score->replay ? cell(score->replay) : std::string("undefined (no synthetic flows)"))
                  << "\n";
    } else {
        std::cout << " (floor halves: " << fl.real.ip << " / " << fl.synthetic.ip << " IP packets)\n";
    }
}

// The semantics section: each check beside REAL's floor and, with SYNTH, whether it is
// within floor + kSemanticMargin (the mean: floor + kSemanticMeanMargin).
void print_semantics(const SemanticSet* score, const SemanticSet& fl, const fidelity::EvalVerdict& v) {
    std::cout << "\n";
    print_header("semantics", score);
    for (int i = 0; i < fidelity::kSemanticCount; ++i)
        print_row(std::string(fidelity::kSemanticNames[i]), score ? &score->checks[i] : nullptr, fl.checks[i],
                  v.semantics[i]);
    const std::string mean_name = "mean (" + std::to_string(fidelity::kSemanticCount) + ")";
    print_row(mean_name, score ? &score->mean : nullptr, fl.mean, v.semantics_mean);
    if (score) {
        int defined = 0;
        for (const auto& c : score->checks) defined += c ? 1 : 0;
        std::cout << "over floor+" << fidelity::kSemanticMargin << ": " << fidelity::semantic_failures(*score, fl) << " of "
                  << defined << " defined checks\n";
    }
}

// The overall verdict as one line (report_verdict.h), after the tables.
void print_verdict(const fidelity::EvalVerdict& v) {
    using fidelity::verdict_name;
    std::cout << "\nverdict  " << (v.pass ? "PASS" : "FAIL") << " (17-mean " << verdict_name(v.average) << ", joint mean "
              << verdict_name(v.joint_average) << ", semantics mean " << verdict_name(v.semantics_mean) << ", "
              << fidelity::failures(v.semantics) << " semantics checks over floor+" << fidelity::kSemanticMargin << "; "
              << fidelity::failures(v.metrics) << " of " << fidelity::kMetricCount << " metrics over floor+"
              << fidelity::kMetricMargin << ", " << fidelity::failures(v.joint) << " of " << fidelity::kJointCount
              << " joint over floor+" << fidelity::kJointMargin << ")\n";
}

std::optional<uint64_t> file_bytes(const std::string& path) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    if (ec) return std::nullopt;
    return static_cast<uint64_t>(n);
}

std::string utc_now_iso8601() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

constexpr size_t kTopTalkers = 10;

struct EvalArgs {
    std::string real, synth, report, model;
    bool json = false;
};

int run_eval(const EvalArgs& a) {
    const std::string& real_path = a.real;
    const std::string& synth_path = a.synth;
    const std::string& report = a.report;
    if (is_stdio(real_path) && is_stdio(synth_path)) {
        std::cerr << "dgcctl eval: only one of REAL and SYNTH can be '-' (standard input)\n";
        return kExitUsage;
    }
    // Opened before the work so that an unwritable report fails at once.
    std::ofstream out;
    if (!report.empty()) {
        out.open(report, std::ios::binary | std::ios::trunc);
        if (!out) {
            std::cerr << "dgcctl eval: cannot write report " << report << ": " << std::strerror(errno) << "\n";
            return 1;
        }
    }
    // An input that cannot be read leaves no empty report behind (a regular file only:
    // never unlink what --report named outside, such as /dev/stdout).
    auto input_failed = [&](const Status& st) {
        std::cerr << "dgcctl eval: " << st.message() << "\n";
        if (out.is_open()) {
            out.close();
            std::error_code ec;
            if (std::filesystem::is_regular_file(report, ec) && std::filesystem::file_size(report, ec) == 0)
                std::filesystem::remove(report, ec);
        }
        return 1;
    };
    // Stages by their usual share of the time: the profiles and the semantics dominate.
    Progress shown("eval");
    auto real = read_capture(input_path(real_path));
    if (!real) return input_failed(real.status());
    if (!real->info.warning.empty()) logger("fidelity")->warn("{}: {}", real_path, real->info.warning);
    std::optional<Capture> synth;
    if (!synth_path.empty()) {
        shown.update(0.1, "reading " + synth_path);
        auto s = read_capture(input_path(synth_path));
        if (!s) return input_failed(s.status());
        if (!s->info.warning.empty()) logger("fidelity")->warn("{}: {}", synth_path, s->info.warning);
        synth = std::move(*s);
    }

    shown.update(0.2, "floor of " + real_path);
    const fidelity::TraceProfile real_profile = fidelity::profile_trace(real->records);
    const fidelity::PacketCounts real_counts{real_profile.ip_packets, real_profile.nonip_packets};
    const fidelity::FlowHashSplit halves = fidelity::split_by_flow_hash(real->records);
    const fidelity::TraceProfile half_a = fidelity::profile_trace(halves.first);
    const fidelity::TraceProfile half_b = fidelity::profile_trace(halves.second);
    const FidelityReport fl = fidelity::evaluate(half_a, half_b);
    const SemanticSet sem_floor =
        fidelity::compare_semantics(fidelity::profile_semantics(halves.first), fidelity::profile_semantics(halves.second));

    std::optional<fidelity::TraceProfile> synth_profile;
    std::optional<FidelityReport> score;
    std::optional<SemanticSet> sem_score;
    if (synth) {
        shown.update(0.6, "metrics of " + synth_path);
        synth_profile = fidelity::profile_trace(synth->records);
        score = fidelity::evaluate(real_profile, *synth_profile);
        shown.update(0.8, "semantics of " + synth_path);
        sem_score = fidelity::semantics(real->records, synth->records);
    }
    shown.finish();
    const SemanticSet* sem = sem_score ? &*sem_score : nullptr;

    std::optional<fidelity::EvalVerdict> verdict;
    if (score) verdict = fidelity::judge(score->score, fl.score, sem, &sem_floor);
    if (a.json) {
        auto j = score ? fidelity::eval_json(*score, fl) : fidelity::floor_json(fl, real_counts);
        j["semantics"] = fidelity::semantics_json(sem, sem_floor);
        if (verdict) j["verdict"] = fidelity::verdict_json(*verdict);
        std::cout << j.dump(2) << "\n";
    } else {
        const fidelity::EvalVerdict none{};
        print_table(score ? &*score : nullptr, fl, real_counts, verdict ? *verdict : none);
        print_semantics(sem, sem_floor, verdict ? *verdict : none);
        if (verdict) print_verdict(*verdict);
    }

    if (!report.empty()) {
        fidelity::HtmlReportInput in;
        in.floor = &fl;
        in.semantics_floor = &sem_floor;
        in.semantics = sem ? sem : &sem_floor;
        in.meta.real = {real_path, file_bytes(real_path), real_counts};
        in.meta.tool_version = std::string("dgcctl ") + version();
        in.meta.generated_utc = utc_now_iso8601();
        if (score) {
            in.meta.synth = {synth_path, file_bytes(synth_path), score->synthetic};
            if (!a.model.empty()) in.meta.model = fidelity::ReportFile{a.model, file_bytes(a.model), std::nullopt};
            in.real_talkers = fidelity::top_talkers(real->records, kTopTalkers);
            in.synth_talkers = fidelity::top_talkers(synth->records, kTopTalkers);
            in.title = "Fidelity of " + synth_path + " (synthetic) against " + real_path + " (real)";
            in.real_label = "real";
            in.synth_label = "synthetic";
            in.real = &real_profile;
            in.synth = &*synth_profile;
            in.score = &*score;
        } else {
            in.title = "Fidelity floor of " + real_path;
            in.real_label = "half A";
            in.synth_label = "half B";
            in.real = &half_a;
            in.synth = &half_b;
            in.score = &fl;
            in.floor_only = true;
            in.real_talkers = fidelity::top_talkers(halves.first, kTopTalkers);
            in.synth_talkers = fidelity::top_talkers(halves.second, kTopTalkers);
        }
        out << fidelity::render_html_report(in);
        out.close();
        if (!out) {
            std::cerr << "dgcctl eval: cannot write report " << report << ": " << std::strerror(errno) << "\n";
            return 1;
        }
        logger("fidelity")->info("report written to {}", report);
    }
    return 0;
}

const RegisterCommand kEval{{40, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("eval", "Fidelity of SYNTH against REAL (17 metrics, joint, semantics, floor); REAL alone: its floor");
    auto a = std::make_shared<EvalArgs>();
    cmd->add_option("REAL", a->real, "the real capture ('-': standard input)")
        ->required()
        ->check(CLI::ExistingFile | CLI::IsMember({"-"}));
    cmd->add_option("SYNTH", a->synth, "the synthetic capture ('-': standard input)")
        ->check(CLI::ExistingFile | CLI::IsMember({"-"}));
    cmd->add_flag("--json", a->json, "print one JSON object instead of the table");
    cmd->add_option("--report", a->report, "also write a self-contained HTML report to this file");
    cmd->add_option("--model", a->model, "the .dgc or model file SYNTH was expanded from: its size goes in the report")
        ->check(CLI::ExistingFile);
    cmd->callback([a, &exit_code] { exit_code = run_eval(*a); });
}}};

}  // namespace
}  // namespace dgc::tools
