// What the volume benchmarks (bench-fs, bench-ingest) share: a dgcfs daemon started from the
// binary next to dgcctl in the foreground, waited for until mounted, its RSS, and timings.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace dgc::tools {

// Seconds f() took; its return value into *rc when given.
double seconds_of(const std::function<int()>& f, int* rc = nullptr);
// std::system's status of a shell command line.
int sh(const std::string& cmd);
// VmRSS of a process in KiB, -1 when it is gone.
long rss_kib(pid_t pid);
// Frames libpcap reads from the file, -1 when it cannot open it.
long count_packets(const std::string& path);
// `given`, or dgcfs beside the running dgcctl when empty.
std::string dgcfs_binary(const std::string& given);

struct Daemon {
    pid_t pid = -1;
    std::string mnt;
    // dgcfs -f --store STORE --policy POLICY ARGS... MNT, stderr appended to `log`; true once
    // retention/ shows under the mount point (30 s at most).
    bool start(const std::string& bin, const std::string& store, const std::string& policy, const std::string& m,
               const std::string& log, const std::vector<std::string>& args);
    // fusermount3 -u, then waits for the daemon to exit.
    void stop();
};

}  // namespace dgc::tools
