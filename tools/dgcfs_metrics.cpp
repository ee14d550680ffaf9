#include "dgcfs_metrics.h"

#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "fs/store_report.h"

namespace dgc::tools {
namespace {

std::atomic<bool> g_stop{false};
void on_term(int) { g_stop = true; }

double now_s() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Written beside the target and renamed over it, so a scrape never sees half a file.
Status write_metrics(const MetricsOptions& o, bool stopping) {
    const double now = now_s();
    auto st = fs::read_store_status(o.store, now);
    if (!st) return st.status();
    auto report = fs::status_json(*st, now);
    if (stopping) report["daemon"]["running"] = false;
    const std::string tmp = o.file + "." + std::to_string(::getpid()) + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << fs::prometheus_metrics(report);
        if (!out.flush()) return Status::io(tmp + ": cannot write: " + std::strerror(errno));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, o.file, ec);
    if (ec) return Status::io(o.file + ": cannot replace: " + ec.message());
    return Status::ok();
}

}  // namespace

Status check_metrics_file(const std::string& file) {
    const std::string dir = std::filesystem::path(file).parent_path().string();
    if (::access(dir.c_str(), W_OK) != 0) return Status::io("metrics file " + file + ": " + dir + ": " + std::strerror(errno));
    return Status::ok();
}

pid_t start_metrics_writer(const MetricsOptions& o) {
    const std::string parent = std::to_string(::getpid()), interval = std::to_string(o.interval_s);
    std::vector<std::string> args = {"dgcfs",         "--write-metrics", o.file,   "--store", o.store,
                                     "--metrics-interval", interval,     "--metrics-parent", parent};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return -1;
    return pid;
}

void stop_metrics_writer(pid_t writer) {
    if (writer <= 0) return;
    ::kill(writer, SIGTERM);
    ::waitpid(writer, nullptr, 0);
}

int run_metrics_writer(const MetricsOptions& o, pid_t parent) {
    struct sigaction sa {};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    // Ends with the daemon even when it dies by kill -9.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    bool reported = false;
    while (!g_stop && ::getppid() == parent) {
        if (auto st = write_metrics(o, false); !st && !reported) {
            std::cerr << "dgcfs: metrics: " << st.message() << "\n";
            reported = true;
        }
        for (double waited = 0; waited < o.interval_s && !g_stop; waited += 0.1)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return write_metrics(o, true) ? 0 : 1;
}

}  // namespace dgc::tools
