// dgcfs: mount a retention volume (man dgcfs.8).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "codec/log.h"
#include "fs/mount.h"
#include "log_setup.h"

int main(int argc, char** argv) {
    CLI::App app{"dgcfs — retention volume for packet captures by deep generative compression"};
    dgc::fs::MountOptions m;
    std::string device = "auto", log_level = "info";
    double budget = -1;
    size_t cache_mb = 96;
    app.add_option("mountpoint", m.mountpoint, "Directory to mount on")->required();
    app.add_flag("-f,--foreground", m.foreground, "Stay in the foreground, log to stderr too");
    app.add_flag("-d,--debug", m.debug, "libfuse request tracing (implies -f)");
    app.add_option("--store", m.volume.store, "Store directory (catalog/, raw/, staging/)")->capture_default_str();
    app.add_option("--policy", m.volume.policy_file, "Retention policy, TOML (man dgcfs-policy.5); SIGHUP reloads");
    app.add_option("--device", device, "Training device")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
    app.add_option("--workers", m.volume.workers, "Training workers")->check(CLI::Range(1, 64))->capture_default_str();
    app.add_option("--train-budget", budget, "Seconds of training per chunk (overrides the policy)");
    app.add_option("--cache-mb", cache_mb, "Memory for generated archive chunks")->capture_default_str();
    app.add_option("--base", m.volume.base_models,
                   "Base model from `dgcctl warmup` to fine-tune chunks from (kept in the store; repeatable)")
        ->check(CLI::ExistingFile);
    app.add_flag("--sync-close", m.volume.sync_on_close,
                 "close() of a written file returns only once its bytes are on disk (default: fsync does that)");
    bool no_passthrough = false;
    app.add_flag("--no-passthrough", no_passthrough,
                 "Send every write through the daemon, even where the kernel offers passthrough");
    app.add_option("-o", m.fuse_options, "Mount options (comma separated), as for mount(8)")->allow_extra_args(false);
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    m.passthrough = !no_passthrough;

    m.volume.device = device == "cpu"    ? dgc::trainer::Device::kCpu
                      : device == "cuda" ? dgc::trainer::Device::kCuda
                                         : dgc::trainer::Device::kAuto;
    if (budget >= 0) m.volume.train_budget_s = budget;
    m.volume.cache_bytes = cache_mb << 20;
    // The daemon chdirs to / when it detaches: make every path absolute first.
    std::error_code ec;
    m.volume.store = std::filesystem::absolute(m.volume.store, ec).string();
    if (!m.volume.policy_file.empty())
        m.volume.policy_file = std::filesystem::absolute(m.volume.policy_file, ec).string();
    m.mountpoint = std::filesystem::absolute(m.mountpoint, ec).string();
    m.volume.mountpoint = m.mountpoint;
    std::filesystem::create_directories(m.volume.store, ec);
    if (ec) {
        std::cerr << "dgcfs: cannot create store " << m.volume.store << ": " << ec.message() << "\n";
        return 1;
    }
    dgc::tools::setup_logging(log_level, m.foreground || m.debug, m.volume.store + "/dgcfs.log");
    return dgc::fs::run_mount(m);
}
