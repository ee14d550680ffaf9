// dgcctl status MOUNTPOINT|STORE [--watch]: traces by state, the training queue, the job
// in progress with its ETA, raw vs model bytes, recent errors. Reads the catalog read-only
// and the status file the daemon rewrites every second.
#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "command_registry.h"
#include "fs/catalog.h"
#include "fs/store_layout.h"
#include "fs/store_report.h"

namespace dgc::tools {
namespace {

using nlohmann::json;

std::string duration_text(double s) {
    if (s < 0) return "?";
    std::ostringstream os;
    if (s >= 3600) os << int(s / 3600) << "h" << std::setw(2) << std::setfill('0') << int(s / 60) % 60 << "m";
    else if (s >= 60) os << int(s / 60) << "m" << std::setw(2) << std::setfill('0') << int(s) % 60 << "s";
    else os << std::fixed << std::setprecision(1) << s << "s";
    return os.str();
}

int print_status(const std::string& target, std::ostream& os) {
    auto store = fs::resolve_store(target);
    if (!store) {
        std::cerr << "dgcctl status: " << store.status().message() << "\n";
        return 1;
    }
    fs::StoreLayout layout{*store};
    auto cat = fs::Catalog::open(layout.catalog_dir(), true);
    if (!cat) {
        std::cerr << "dgcctl status: " << cat.status().message() << "\n";
        return 1;
    }
    std::vector<fs::TraceRow> traces;
    std::vector<fs::ChunkRow> chunks;
    size_t jobs = 0, staging_rows = 0;
    auto st = (*cat)->env().read([&](fs::Txn& t) {
        traces.clear();
        chunks.clear();
        auto c = t.cursor(fs::db::kTraces);
        for (bool ok = c.first(); ok; ok = c.next())
            if (auto r = fs::decode_trace(c.value())) traces.push_back(*r);
        auto k = t.cursor(fs::db::kChunks);
        for (bool ok = k.first(); ok; ok = k.next())
            if (auto r = fs::decode_chunk(k.value())) chunks.push_back(*r);
        auto j = t.cursor(fs::db::kJobs);
        jobs = 0;
        for (bool ok = j.first(); ok; ok = j.next()) ++jobs;
        auto s = t.cursor(fs::db::kStaging);
        staging_rows = 0;
        for (bool ok = s.first(); ok; ok = s.next()) ++staging_rows;
    });
    if (!st) {
        std::cerr << "dgcctl status: " << st.message() << "\n";
        return 1;
    }
    auto sum = fs::summarize(traces, chunks);

    json live;
    bool daemon_live = false;
    if (std::ifstream in(layout.status_path()); in) {
        live = json::parse(in, nullptr, false);
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        daemon_live = live.is_object() && live.value("running", false) && now - live.value("updated_s", 0LL) <= 5;
    }

    os << "store:      " << *store << "\n";
    os << "daemon:     "
       << (daemon_live ? "running (pid " + std::to_string(live.value("pid", 0)) + ", " + live.value("mountpoint", "") + ")"
                       : "not running")
       << "\n";
    os << "traces:     " << sum.traces;
    for (const auto& [state, n] : sum.by_state) os << "  " << state << " " << n;
    os << "  staging " << (daemon_live ? live.value("staging_files", staging_rows) : staging_rows) << "\n";
    os << "queue:      " << jobs << " chunk jobs (" << sum.chunks_done << "/" << sum.chunks_total
       << " chunks modelled";
    if (jobs && sum.seconds_per_chunk() > 0)
        os << ", ETA " << duration_text(double(jobs) * sum.seconds_per_chunk() /
                                        std::max<size_t>(1, daemon_live ? live["jobs"].size() : 1));
    os << ")\n";
    if (daemon_live) {
        const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        for (const auto& j : live["jobs"]) {
            double frac = j.value("fraction", 0.0), elapsed = now - j.value("started_s", now);
            os << "training:   " << j.value("path", "") << " chunk " << j.value("chunk", 0) + 1 << "/"
               << j.value("chunks", 0) << "  " << std::fixed << std::setprecision(0) << frac * 100 << "%  elapsed "
               << duration_text(elapsed) << "  ETA " << (frac > 0.01 ? duration_text(elapsed / frac - elapsed) : "?")
               << "\n";
        }
    }
    os << "storage:    accepted " << fs::human_bytes(sum.original_bytes) << "; holds raw "
       << fs::human_bytes(sum.raw_stored_bytes) << " + models " << fs::human_bytes(sum.model_bytes) << "; saving "
       << std::fixed << std::setprecision(1) << sum.saving() * 100 << "%\n";
    int shown = 0;
    for (const auto& t : traces)
        if (!t.unmodelable.empty() && shown++ < 10) os << "unmodelable: " << t.path << ": " << t.unmodelable << "\n";
    if (daemon_live && !live["recent_errors"].empty()) {
        os << "recent errors:\n";
        for (const auto& e : live["recent_errors"]) {
            std::time_t ts = e.value("time_s", 0LL);
            char tb[32];
            std::strftime(tb, sizeof tb, "%H:%M:%S", std::localtime(&ts));
            os << "  " << tb << "  " << e.value("message", "") << "\n";
        }
    }
    return 0;
}

const RegisterCommand kStatus{{30, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("status", "Traces by state, training queue and ETA, storage saved, recent errors");
    auto target = std::make_shared<std::string>();
    auto watch = std::make_shared<bool>(false);
    auto interval = std::make_shared<double>(2.0);
    cmd->add_option("TARGET", *target, "Mount point of a running dgcfs, or its store directory")->required();
    cmd->add_flag("--watch", *watch, "Refresh until interrupted");
    cmd->add_option("--interval", *interval, "Seconds between refreshes with --watch")->capture_default_str();
    cmd->callback([target, watch, interval, &exit_code] {
        if (!*watch) {
            exit_code = print_status(*target, std::cout);
            return;
        }
        for (;;) {
            std::ostringstream frame;
            int rc = print_status(*target, frame);
            std::cout << "\x1b[H\x1b[2J" << frame.str() << std::flush;
            if (rc != 0) {
                exit_code = rc;
                return;
            }
            std::this_thread::sleep_for(std::chrono::duration<double>(*interval));
        }
    });
}}};

}  // namespace
}  // namespace dgc::tools
