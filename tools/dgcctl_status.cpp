// dgcctl status MOUNTPOINT|STORE [--json] [--watch]: traces by state, the training queue, the
// job in progress with its ETA, raw vs model bytes, recent errors. Reads the catalog read-only
// and the status file the daemon rewrites every second. Exit 0 when the daemon runs, 3 when
// it does not (what the store holds is still shown), 1 when the store cannot be read.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli.h"
#include "command_registry.h"
#include "fs/store_report.h"

namespace dgc::tools {
namespace {

using nlohmann::json;

constexpr int kExitDaemonDown = 3;

std::string duration_text(const json& seconds) {
    if (!seconds.is_number()) return "?";
    const double s = seconds.get<double>();
    std::ostringstream os;
    if (s >= 3600) os << int(s / 3600) << "h" << std::setw(2) << std::setfill('0') << int(s / 60) % 60 << "m";
    else if (s >= 60) os << int(s / 60) << "m" << std::setw(2) << std::setfill('0') << int(s) % 60 << "s";
    else os << std::fixed << std::setprecision(1) << s << "s";
    return os.str();
}

std::string rate_text(double v) {
    char out[32];
    if (v >= 1e6) std::snprintf(out, sizeof out, "%.2fM", v / 1e6);
    else if (v >= 1e4) std::snprintf(out, sizeof out, "%.1fK", v / 1e3);
    else std::snprintf(out, sizeof out, v >= 10 ? "%.0f" : "%.1f", v);
    return out;
}

std::string per_s(const json& rate, const char* window) { return rate_text(rate.is_object() ? rate.value(window, 0.0) : 0.0); }

// What the workers have left, how fast traffic comes and goes, and when the backlog is done.
void print_backlog(const json& b, std::ostream& os) {
    os << "backlog:    " << b["packets"] << " packets in " << b["chunks"] << " chunks of " << b["traces"] << " traces";
    if (b["keeping_up"].is_boolean() && !b["keeping_up"].get<bool>())
        os << "; not keeping up: backlog grows by " << rate_text(b["growth_packets_per_s"].get<double>())
           << " packets/s";
    if (b["packets"].get<uint64_t>() > 0)
        os << "; ETA " << (b["eta_s"].is_number() ? duration_text(b["eta_s"]) : std::string("unknown until a chunk is modelled"));
    os << "\n";
    if (b["ingest_packets_per_s"].is_object()) {
        const json& in = b["ingest_packets_per_s"];
        const json& model = b["modelling_packets_per_s"];
        os << "rates:      ingest " << per_s(in, "1m") << " packets/s, "
           << fs::human_bytes(uint64_t(b["ingest_bytes_per_s"].value("1m", 0.0))) << "/s (15 min: " << per_s(in, "15m")
           << "); modelling " << per_s(model, "1m") << " packets/s (15 min: " << per_s(model, "15m") << ")\n";
    }
    if (b["raw_overdue_traces"].get<uint64_t>() > 0)
        os << "raw kept:   " << b["raw_overdue_traces"] << " traces past their raw TTL wait for their models\n";
}

void print_text(const json& j, std::ostream& os) {
    const json& d = j["daemon"];
    os << "store:      " << j["store"].get<std::string>() << "\n";
    os << "daemon:     "
       << (d["running"].get<bool>() ? "running (pid " + d["pid"].dump() + ", " + d.value("mountpoint", "") + ")"
                                    : "not running")
       << "\n";
    os << "traces:     " << j["traces"]["total"];
    for (const auto& [state, n] : j["traces"]["by_state"].items())
        if (state != "staging" && n.get<uint64_t>() > 0) os << "  " << state << " " << n;
    os << "  staging " << j["traces"]["by_state"]["staging"] << "\n";
    const json& q = j["queue"];
    os << "queue:      " << q["jobs"] << " chunk jobs (" << q["chunks_done"] << "/" << q["chunks_total"]
       << " chunks modelled";
    if (q["eta_s"].is_number()) os << ", ETA " << duration_text(q["eta_s"]);
    os << ")\n";
    if (const json& d = q["decisions"]; d.is_object())
        os << "models:     " << d.value("reused", 0) << " chunks reused a parent, " << d.value("delta", 0)
           << " fine-tuned a delta, " << d.value("keyframe", 0) << " trained a keyframe\n";
    print_backlog(j["backlog"], os);
    for (const auto& t : j["training"])
        os << "training:   " << t["path"].get<std::string>() << " chunk " << t["chunk"] << "/" << t["chunks"] << "  "
           << std::fixed << std::setprecision(0) << t["fraction"].get<double>() * 100 << "%  elapsed "
           << duration_text(t["elapsed_s"]) << "  ETA " << duration_text(t["eta_s"]) << "\n";
    const json& b = j["bytes"];
    os << "storage:    accepted " << fs::human_bytes(b["accepted"].get<uint64_t>()) << "; holds raw " << fs::human_bytes(b["raw"].get<uint64_t>())
       << " + models " << fs::human_bytes(b["models"].get<uint64_t>()) << "; saving " << std::fixed << std::setprecision(1)
       << b["saving"].get<double>() * 100 << "%\n";
    int shown = 0;
    for (const auto& u : j["unmodelable"])
        if (shown++ < 10)
            os << "unmodelable: " << u["path"].get<std::string>() << ": " << u["reason"].get<std::string>() << "\n";
    if (j["traces"]["with_skipped"].get<uint64_t>() > 0)
        os << "skipped:    " << j["traces"]["with_skipped"]
           << " traces have damaged bytes their models leave out (raw keeps them while it lasts)\n";
    shown = 0;
    for (const auto& k : j["skipped"])
        if (shown++ < 10) os << "  " << k["path"].get<std::string>() << ": " << k["summary"].get<std::string>() << "\n";
    if (!j["recent_errors"].empty()) {
        os << "recent errors:\n";
        for (const auto& e : j["recent_errors"]) {
            std::time_t ts = e.value("time_s", int64_t(0));
            char tb[32];
            std::strftime(tb, sizeof tb, "%H:%M:%S", std::localtime(&ts));
            os << "  " << tb << "  " << e.value("message", "") << "\n";
        }
    }
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One report on `os`; the exit code it stands for.
int print_status(const std::string& target, bool as_json, bool one_line, std::ostream& os) {
    auto store = fs::resolve_store(target);
    if (!store) {
        std::cerr << "dgcctl status: " << store.status().message() << "\n";
        return kExitFailure;
    }
    const double now = now_s();
    auto s = fs::read_store_status(*store, now);
    if (!s) {
        std::cerr << "dgcctl status: " << s.status().message() << "\n";
        return kExitFailure;
    }
    const json j = fs::status_json(*s, now);
    if (as_json)
        os << j.dump(one_line ? -1 : 2) << "\n";
    else
        print_text(j, os);
    return s->daemon_running ? kExitOk : kExitDaemonDown;
}

const RegisterCommand kStatus{{30, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("status", "Traces by state, training queue and ETA, storage saved, recent errors");
    auto target = std::make_shared<std::string>();
    auto watch = std::make_shared<bool>(false);
    auto as_json = std::make_shared<bool>(false);
    auto interval = std::make_shared<double>(2.0);
    cmd->add_option("TARGET", *target, "Mount point of a running dgcfs, or its store directory")->required();
    cmd->add_flag("--json", *as_json, "One JSON object (schema in dgcctl(1)); with --watch, one per line");
    cmd->add_flag("--watch", *watch, "Refresh until interrupted");
    cmd->add_option("--interval", *interval, "Seconds between refreshes with --watch")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->callback([target, watch, as_json, interval, &exit_code] {
        if (!*watch) {
            exit_code = print_status(*target, *as_json, false, std::cout);
            return;
        }
        // Redraw in place on a terminal only; into a pipe or file, frames simply follow each other.
        const bool redraw = !*as_json && ::isatty(STDOUT_FILENO);
        for (bool first = true;; first = false) {
            std::ostringstream frame;
            exit_code = print_status(*target, *as_json, true, frame);
            if (exit_code == kExitFailure) return;
            if (redraw) std::cout << "\x1b[H\x1b[2J";
            else if (!first && !*as_json) std::cout << "\n";
            std::cout << frame.str() << std::flush;
            std::this_thread::sleep_for(std::chrono::duration<double>(*interval));
        }
    });
}}};

}  // namespace
}  // namespace dgc::tools
