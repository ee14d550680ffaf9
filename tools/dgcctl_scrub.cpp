// dgcctl scrub STORE|MOUNTPOINT [--repair] [--json] [--no-regenerate]: verifies every raw
// frame, every model, the catalog's cross-references and that every modelled trace
// regenerates (fs/scrub.h); one line per trace and a summary. Runs beside a live daemon;
// --repair needs the daemon stopped and holds the store lock while it works.
// Exit 0 clean, 1 damage found (or left after repair) or the store unreadable, 2 usage.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command_registry.h"
#include "progress.h"
#include "fs/scrub.h"
#include "fs/store_report.h"

namespace dgc::tools {
namespace {

using nlohmann::json;

// The daemon flock()s STORE/dgcfs.lock for its whole life; older daemons only rewrite
// status.json every second, so a fresh one counts as live too.
bool status_file_live(const fs::StoreLayout& layout) {
    std::ifstream in(layout.status_path());
    if (!in) return false;
    auto live = json::parse(in, nullptr, false);
    const long long now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return live.is_object() && live.value("running", false) && now - live.value("updated_s", 0LL) <= 5;
}

std::string lock_path(const fs::StoreLayout& layout) { return layout.root + "/dgcfs.lock"; }

bool lock_held(const fs::StoreLayout& layout) {
    int fd = ::open(lock_path(layout).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return held;
}

// Held for the whole repair, so no daemon mounts the store meanwhile. -1 when busy.
int take_lock(const fs::StoreLayout& layout) {
    int fd = ::open(lock_path(layout).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

json finding_json(const fs::ScrubFinding& f) {
    return {{"code", f.code}, {"message", f.message}, {"damage", f.damage}, {"repaired", f.repaired}};
}

json report_json(const fs::ScrubReport& r, bool live) {
    json traces = json::array(), store = json::array();
    for (const auto& t : r.traces) {
        json f = json::array();
        for (const auto& x : t.findings) f.push_back(finding_json(x));
        traces.push_back({{"id", t.id}, {"path", t.path}, {"state", t.state}, {"frames", t.frames},
                          {"checksummed", t.checksummed}, {"models", t.models}, {"regenerated", t.regenerated},
                          {"damage", t.damage()}, {"findings", f}});
    }
    for (const auto& x : r.store_findings) store.push_back(finding_json(x));
    return {{"store", r.store},     {"daemon_live", live}, {"clean", r.clean()}, {"damage", r.damage()},
            {"repaired", r.repaired()}, {"frames", r.frames}, {"models", r.models}, {"library", r.library},
            {"regenerated", r.regenerated}, {"traces", traces}, {"store_findings", store}};
}

void print_findings(const std::vector<fs::ScrubFinding>& list, std::ostream& os) {
    for (const auto& f : list)
        os << "  " << (f.repaired ? "repaired " : f.damage ? "" : "note ") << f.code << ": " << f.message << "\n";
}

std::string count(uint64_t n, const std::string& what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

void print_text(const fs::ScrubReport& r, std::ostream& os) {
    for (const auto& t : r.traces) {
        os << (t.damage() ? "DAMAGED " : "ok      ") << t.path << " (trace " << t.id << ", " << t.state << "): ";
        if (t.frames) os << count(t.frames, "raw frame") << (t.checksummed ? " checksummed" : " not checksummed") << ", ";
        os << count(t.models, "model") << ", " << count(t.regenerated, "chunk") << " regenerated\n";
        print_findings(t.findings, os);
    }
    if (!r.store_findings.empty()) {
        os << "store:\n";
        print_findings(r.store_findings, os);
    }
    os << "scrub: " << count(r.traces.size(), "trace") << ", " << count(r.frames, "raw frame") << ", "
       << count(r.models, "model") << ", " << count(r.library, "library model") << ", "
       << count(r.regenerated, "chunk") << " regenerated: ";
    if (r.clean()) os << "clean";
    else os << count(r.damage(), "problem");
    if (r.repaired()) os << " (" << r.repaired() << " repaired)";
    os << "\n";
}

const RegisterCommand kScrub{{33, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("scrub", "Verify raw frames, models, catalog and regeneration; --repair fixes "
                                            "what can be fixed without loss");
    auto target = std::make_shared<std::string>();
    auto repair = std::make_shared<bool>(false);
    auto as_json = std::make_shared<bool>(false);
    auto no_regen = std::make_shared<bool>(false);
    cmd->add_option("TARGET", *target, "Mount point or store directory")->required();
    cmd->add_flag("--repair", *repair,
                  "Requeue missing jobs, drop orphan job rows, move orphans into STORE/lost+found/ "
                  "(the daemon must be stopped)");
    cmd->add_flag("--json", *as_json, "Print the report as JSON");
    cmd->add_flag("--no-regenerate", *no_regen, "Skip regenerating modelled traces (the slow part)");
    cmd->callback([=, &exit_code] {
        auto store = fs::resolve_store(*target);
        if (!store) {
            std::cerr << "dgcctl scrub: " << store.status().message() << "\n";
            exit_code = 1;
            return;
        }
        fs::StoreLayout layout{*store};
        const bool live = lock_held(layout) || status_file_live(layout);
        int lock_fd = -1;
        if (*repair) {
            lock_fd = live ? -1 : take_lock(layout);
            if (lock_fd < 0) {
                std::cerr << "dgcctl scrub: --repair needs the daemon stopped, but " << *store
                          << " is in use (" << lock_path(layout)
                          << " is locked or status.json is fresh); unmount it (fusermount3 -u MOUNTPOINT) and "
                             "run again, or scrub without --repair\n";
                exit_code = 2;
                return;
            }
        }
        fs::ScrubOptions opts;
        opts.repair = *repair;
        opts.regenerate = !*no_regen;
        opts.daemon_live = live;
        Progress shown("scrub");
        opts.progress = [&](size_t i, size_t n, const std::string& path) {
            shown.update(double(i) / n, "trace " + std::to_string(i + 1) + "/" + std::to_string(n) + " " + path);
        };
        auto report = fs::scrub_store(layout, opts);
        shown.finish();
        if (lock_fd >= 0) ::close(lock_fd);
        if (!report) {
            std::cerr << "dgcctl scrub: " << *store << ": " << report.status().message() << "\n";
            exit_code = 1;
            return;
        }
        if (*as_json) std::cout << report_json(*report, live).dump(1) << "\n";
        else print_text(*report, std::cout);
        exit_code = report->clean() ? 0 : 1;
    });
}}};

}  // namespace
}  // namespace dgc::tools
