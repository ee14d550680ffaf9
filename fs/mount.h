// Mounting a volume: what tools/dgcfs.cpp calls after parsing its command line.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fs/volume.h"

namespace dgc::fs {

struct MountOptions {
    std::string mountpoint;
    bool foreground = false;
    bool debug = false;                    // libfuse request tracing (implies foreground)
    bool passthrough = true;               // kernel passthrough for staging files, where offered
    std::vector<std::string> fuse_options; // each a -o argument
    VolumeOptions volume;
    // In the process that serves, once mounted and detached (readiness for the service
    // manager), and when unmounting starts.
    std::function<void()> on_mounted, on_stopping;
};

// Mounts, daemonizes unless foreground, serves until unmounted (fusermount3 -u) or
// SIGINT/SIGTERM, then finishes in-flight work. SIGHUP reloads the policy. Returns the exit
// code. Errors before detaching go to stderr as well as to the log.
int run_mount(const MountOptions& opts);

}  // namespace dgc::fs
