// libfuse session lifecycle for one volume: mount, signals, daemonize, multithreaded loop, unmount.
#define FUSE_USE_VERSION 314
#include <fuse3/fuse.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "codec/log.h"
#include "fs/fuse_ops.h"
#include "fs/fuse_passthrough.h"
#include "fs/mount.h"

namespace dgc::fs {
namespace {

std::atomic<Volume*> g_volume{nullptr};

void on_sighup(int) {
    if (Volume* v = g_volume.load()) v->request_policy_reload();
}

// Before the daemon detaches, stderr is the operator's terminal (or the mount(8) caller):
// the reason goes there as well as to the log, which in the foreground is stderr already.
int fail_before_detach(const MountOptions& opts, const std::string& message) {
    logger("fs")->error("{}", message);
    if (!opts.foreground && !opts.debug) std::cerr << "dgcfs: " << message << "\n";
    return 1;
}

// Fails early, while the parent still has a terminal, on what would otherwise only show in the log.
Status preflight(const VolumeOptions& v) {
    if (!v.policy_file.empty())
        if (auto p = load_policy(v.policy_file); !p) return p.status();
    auto probe = Volume::open(v);
    return probe ? Status::ok() : probe.status();
}

}  // namespace

int run_mount(const MountOptions& opts) {
    auto log = logger("fs");
    if (auto st = preflight(opts.volume); !st) return fail_before_detach(opts, "cannot open the store: " + st.message());
    std::vector<std::string> args_s = {"dgcfs", "-o", "fsname=dgcfs,subtype=dgcfs,default_permissions"};
    if (opts.debug) args_s.push_back("-d");
    for (const auto& o : opts.fuse_options) {
        args_s.push_back("-o");
        args_s.push_back(o);
    }
    std::vector<char*> argv;
    for (auto& s : args_s) argv.push_back(s.data());
    struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

    FuseContext ctx;
    struct fuse* f = fuse_new(&args, fuse_operations_table(), sizeof(struct fuse_operations), &ctx);
    if (!f) return fail_before_detach(opts, "cannot set up the FUSE session (bad -o option?)");
    if (fuse_mount(f, opts.mountpoint.c_str()) != 0) {
        fuse_destroy(f);
        return fail_before_detach(opts, "cannot mount on " + opts.mountpoint + " (is /dev/fuse usable?)");
    }
    struct fuse_session* se = fuse_get_session(f);
    if (fuse_set_signal_handlers(se) != 0) {
        fuse_unmount(f);
        fuse_destroy(f);
        return fail_before_detach(opts, "cannot install the signal handlers");
    }
    // libfuse treats SIGHUP as "exit"; here it means "reload the policy".
    struct sigaction sa {};
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, nullptr);

    fuse_daemonize(opts.foreground || opts.debug ? 1 : 0);
    auto vol = Volume::open(opts.volume);
    if (!vol) {
        log->error("cannot open the store: {}", vol.status().message());
        fuse_remove_signal_handlers(se);
        fuse_unmount(f);
        fuse_destroy(f);
        return 1;
    }
    ctx.volume = vol->get();
    if (opts.passthrough) {
        ctx.passthrough = KernelPassthrough::install(se, *ctx.volume);
        if (!ctx.passthrough) log->warn("kernel passthrough: cannot install the session I/O hooks; writes go through the daemon");
    }
    g_volume = ctx.volume;
    (*vol)->start();
    log->info("mounted {} on {} (store {}, pid {})", "dgcfs", opts.mountpoint, opts.volume.store, ::getpid());
    if (opts.on_mounted) opts.on_mounted();

    struct fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, 16);
    int rc = fuse_loop_mt(f, cfg);
    fuse_loop_cfg_destroy(cfg);

    // Unmount first so the mount point is free while in-flight work finishes.
    if (opts.on_stopping) opts.on_stopping();
    fuse_remove_signal_handlers(se);
    signal(SIGHUP, SIG_DFL);
    g_volume = nullptr;
    fuse_unmount(f);
    (*vol)->shutdown();
    vol->reset();
    fuse_destroy(f);
    // libfuse's loop returns the number of the signal that ended it. SIGTERM and SIGINT are
    // how a service manager or an operator stops the daemon, and the shutdown above is the
    // clean one, so they exit 0 (systemd would otherwise mark every `systemctl stop` failed).
    return rc == 0 || rc == SIGTERM || rc == SIGINT ? 0 : 1;
}

}  // namespace dgc::fs
