// Mounting a volume: what tools/dgcfs.cpp calls after parsing its command line.
#pragma once

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
};

// Mounts, daemonizes unless foreground, serves until unmounted (fusermount3 -u) or
// SIGINT/SIGTERM, then finishes in-flight work. SIGHUP reloads the policy. Returns the exit code.
int run_mount(const MountOptions& opts);

}  // namespace dgc::fs
