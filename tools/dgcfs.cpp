// dgcfs: mount a retention volume (man dgcfs.8). Every start-up error is reported on stderr
// with exit status 1 before the daemon detaches; usage errors exit 2.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli.h"
#include "codec/log.h"
#include "dgcfs_metrics.h"
#include "fs/mount.h"
#include "log_setup.h"
#include "mount_args.h"
#include "sd_notify.h"
#include "store_lock.h"
#include "trainer/model.h"

namespace {

namespace fsys = std::filesystem;
using dgc::Status;

constexpr const char* kDefaultConfig = "/etc/dgcfs/dgcfs.toml";

// The long options that may also appear in a mount -o list or as keys of the config file.
const std::set<std::string> kOwnOptions = {"store",    "mountpoint", "policy",     "device",     "workers",
                                           "train-steps", "cache-mb", "read-ahead", "base",     "sync-close", "no-passthrough", "bytes-per-packet",
                                           "log-level", "config",    "mkdir",      "metrics-file", "metrics-interval"};

std::string errno_text(int err) { return std::strerror(err); }

void detach_dead_mount(const std::string& path) {
    const char* argv[] = {"fusermount3", "-u", "-z", path.c_str(), nullptr};
    pid_t pid = 0;
    if (::posix_spawnp(&pid, "fusermount3", nullptr, nullptr, const_cast<char* const*>(argv), environ) == 0)
        ::waitpid(pid, nullptr, 0);
}

// A mount point is an existing, empty directory: mounting over files would hide them, and
// mounting on a regular file gives a volume on which every access fails.
Status check_mountpoint(const std::string& path, bool create) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && errno == ENOTCONN) {
        // The dgcfs that served it died (kill -9, OOM): detach the dead mount, as a restart
        // by the service manager needs. A live one would answer, and holds the store lock.
        std::cerr << "dgcfs: mount point " << path << ": " << errno_text(ENOTCONN)
                  << "; detaching the dead mount left by a previous dgcfs\n";
        detach_dead_mount(path);
    }
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ENOENT && create) {
            std::error_code ec;
            fsys::create_directories(path, ec);
            if (ec) return Status::io("mount point " + path + ": cannot create: " + ec.message());
            return Status::ok();
        }
        return Status::io("mount point " + path + ": " + errno_text(err));
    }
    if (!S_ISDIR(st.st_mode)) return Status::invalid("mount point " + path + ": " + errno_text(ENOTDIR));
    std::error_code ec;
    fsys::directory_iterator it(path, ec);
    if (ec) return Status::io("mount point " + path + ": " + ec.message());
    if (it != fsys::directory_iterator())
        return Status::invalid("mount point " + path + ": " + errno_text(ENOTEMPTY) +
                               " (dgcfs mounts only on an empty directory)");
    return Status::ok();
}

Status check_readable(const std::string& what, const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::io(what + " " + path + ": " + errno_text(errno));
    ::close(fd);
    return Status::ok();
}

// The store exists (created if need be) and takes files: the lock file is the first one.
dgc::Result<dgc::tools::StoreLock> prepare_store(const std::string& store) {
    std::error_code ec;
    fsys::create_directories(store, ec);
    if (ec) return Status::io("store " + store + ": cannot create: " + ec.message());
    if (!fsys::is_directory(store, ec)) return Status::invalid("store " + store + ": " + errno_text(ENOTDIR));
    if (::access(store.c_str(), W_OK) != 0) return Status::io("store " + store + ": not writable: " + errno_text(errno));
    return dgc::tools::StoreLock::acquire(store);
}

std::string absolute(const std::string& p) {
    std::error_code ec;
    return p.empty() ? p : fsys::absolute(p, ec).lexically_normal().string();
}

}  // namespace

int main(int argc, char** argv) {
    dgc::trainer::pin_blas_kernels();
    CLI::App app{"dgcfs — retention volume for packet captures by deep generative compression"};
    dgc::tools::add_version_flag(app, "dgcfs");
    dgc::fs::MountOptions m;
    std::string device = "auto", log_level = "info";
    std::vector<std::string> positionals;
    int train_steps = -1;
    double bytes_per_packet = 0;
    size_t cache_mb = 96;
    bool no_passthrough = false, mkdir_mountpoint = false;
    app.add_option("MOUNTPOINT", positionals,
                   "Directory to mount on; mount(8) passes the store first (`dgcfs STORE MOUNTPOINT`)")
        ->expected(0, 2);
    app.add_option("--mountpoint", m.mountpoint, "Directory to mount on (for the config file)");
    app.add_flag("-f,--foreground", m.foreground, "Stay in the foreground, log to stderr too");
    app.add_flag("-d,--debug", m.debug, "libfuse request tracing (implies -f)");
    app.add_option("--store", m.volume.store, "Store directory (catalog/, raw/, staging/)")->capture_default_str();
    app.add_option("--policy", m.volume.policy_file, "Retention policy, TOML (man dgcfs-policy.5); SIGHUP reloads");
    app.add_option("--device", device, "Training device")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
    app.add_option("--workers", m.volume.workers, "Training workers")->check(CLI::Range(1, 64))->capture_default_str();
    app.add_option("--train-steps", train_steps, "Optimizer steps per chunk (overrides the policy)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--bytes-per-packet", bytes_per_packet,
                   "Model bytes per packet a chunk may spend (0 < X <= 4; overrides the policy's [training] value, "
                   "not its rules)")
        ->check(CLI::Range(1e-9, 4.0));
    app.add_option("--cache-mb", cache_mb, "Memory for generated archive chunks")->capture_default_str();
    app.add_option("--read-ahead", m.volume.read_ahead,
                   "Threads generating archive/ chunks ahead of a reader, three chunks each at most (0: none)")
        ->check(CLI::Range(0, 16))
        ->capture_default_str();
    app.add_option("--base", m.volume.base_models,
                   "Base model from `dgcctl warmup` to fine-tune chunks from (kept in the store; repeatable)")
        ->allow_extra_args(false);  // one file per --base: the mount point follows
    app.add_flag("--sync-close", m.volume.sync_on_close,
                 "close() of a written file returns only once its bytes are on disk (default: fsync does that)");
    app.add_flag("--no-passthrough", no_passthrough,
                 "Send every write through the daemon, even where the kernel offers passthrough");
    app.add_flag("--mkdir", mkdir_mountpoint, "Create the mount point if it does not exist");
    dgc::tools::MetricsOptions metrics;
    app.add_option("--metrics-file", metrics.file,
                   "Prometheus metrics rewritten while mounted, e.g. "
                   "/var/lib/prometheus/node-exporter/dgcfs.prom (node_exporter's textfile collector)");
    app.add_option("--metrics-interval", metrics.interval_s, "Seconds between metrics rewrites")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    std::string write_metrics;  // the metrics writer the daemon starts (dgcfs_metrics.h)
    pid_t metrics_parent = 0;
    app.add_option("--write-metrics", write_metrics)->group("");
    app.add_option("--metrics-parent", metrics_parent)->group("");
    app.add_option("-o", m.fuse_options, "Mount options (comma separated), as for mount(8)")->allow_extra_args(false);
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
    auto* config = app.set_config("--config", "",
                                  "Settings file (TOML, keys are the long option names); without a mount point, " +
                                      std::string(kDefaultConfig));

    app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is not silently ignored
    std::vector<std::string> raw(argv + 1, argv + argc);
    std::vector<std::string> args = dgc::tools::translate_mount_args(raw, kOwnOptions);
    auto parse = [&](const std::vector<std::string>& a) {
        std::vector<std::string> owned = {argv[0]};
        owned.insert(owned.end(), a.begin(), a.end());
        std::vector<char*> ptrs;
        for (auto& s : owned) ptrs.push_back(s.data());
        app.parse(static_cast<int>(ptrs.size()), ptrs.data());
    };
    try {
        parse(args);
        // The service form: everything from the config file.
        if (positionals.empty() && m.mountpoint.empty() && write_metrics.empty() && config->count() == 0 &&
            fsys::exists(kDefaultConfig)) {
            args.insert(args.end(), {"--config", kDefaultConfig});
            parse(args);
        }
    } catch (const CLI::FileError& e) {
        std::cerr << "dgcfs: " << e.what() << "\n";
        return dgc::tools::kExitFailure;
    } catch (const CLI::ConfigError& e) {
        // A settings file that does not parse stops a start like a bad policy does.
        std::cerr << "dgcfs: config " << config->as<std::string>() << ": " << e.what() << "\n";
        return dgc::tools::kExitFailure;
    } catch (const CLI::ParseError& e) {
        return dgc::tools::exit_for_parse_error(app, e);
    }
    if (!write_metrics.empty()) {
        metrics.file = write_metrics;
        metrics.store = m.volume.store;
        return dgc::tools::run_metrics_writer(metrics, metrics_parent);
    }
    if (positionals.size() == 2) {
        // mount(8)'s SOURCE: the store when it is a path; a bare label ("dgcfs") names nothing.
        if (app.get_option("--store")->count() == 0 && positionals[0].find('/') != std::string::npos)
            m.volume.store = positionals[0];
        positionals.erase(positionals.begin());
    }
    if (!positionals.empty()) m.mountpoint = positionals[0];
    if (m.mountpoint.empty()) {
        std::cerr << "dgcfs: no mount point given (on the command line, or as `mountpoint` in " << kDefaultConfig
                  << " or the --config file)\nRun with --help for more information.\n";
        return dgc::tools::kExitUsage;
    }
    m.passthrough = !no_passthrough;
    m.volume.device = device == "cpu"    ? dgc::trainer::Device::kCpu
                      : device == "cuda" ? dgc::trainer::Device::kCuda
                                         : dgc::trainer::Device::kAuto;
    if (train_steps >= 0) m.volume.train_steps = train_steps;
    if (bytes_per_packet > 0) m.volume.bytes_per_packet = bytes_per_packet;
    m.volume.cache_bytes = cache_mb << 20;
    // The daemon chdirs to / when it detaches: make every path absolute first.
    m.volume.store = absolute(m.volume.store);
    m.volume.policy_file = absolute(m.volume.policy_file);
    for (auto& b : m.volume.base_models) b = absolute(b);
    metrics.file = absolute(metrics.file);
    metrics.store = m.volume.store;
    m.mountpoint = absolute(m.mountpoint);
    m.volume.mountpoint = m.mountpoint;

    auto fail = [](const Status& st) {
        std::cerr << "dgcfs: " << st.message() << "\n";
        return dgc::tools::kExitFailure;
    };
    if (auto st = check_mountpoint(m.mountpoint, mkdir_mountpoint); !st) return fail(st);
    if (!m.volume.policy_file.empty())
        if (auto st = check_readable("policy", m.volume.policy_file); !st) return fail(st);
    for (const auto& b : m.volume.base_models)
        if (auto st = check_readable("base model", b); !st) return fail(st);
    if (!metrics.file.empty())
        if (auto st = dgc::tools::check_metrics_file(metrics.file); !st) return fail(st);
    auto lock = prepare_store(m.volume.store);
    if (!lock) return fail(lock.status());
    if (auto st = dgc::tools::setup_logging(log_level, m.foreground || m.debug, m.volume.store + "/dgcfs.log"); !st)
        return fail(st);

    // The daemon's pid changes when it detaches; the lock (held by the inherited fd) stays.
    pid_t metrics_writer = -1;
    m.on_mounted = [&] {
        lock->record_pid(::getpid());
        if (!metrics.file.empty() && (metrics_writer = dgc::tools::start_metrics_writer(metrics)) < 0)
            dgc::logger("fs")->error("metrics file {}: cannot start its writer", metrics.file);
        dgc::tools::sd_notify("READY=1\nMAINPID=" + std::to_string(::getpid()));
    };
    m.on_stopping = [&] {
        dgc::tools::sd_notify("STOPPING=1");
        dgc::tools::stop_metrics_writer(metrics_writer);
    };
    return dgc::fs::run_mount(m);
}
