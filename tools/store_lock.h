// One daemon per store: STORE/dgcfs.lock, flock()ed for the daemon's life, holds its pid.
// The kernel drops the lock when the process dies, even by kill -9, so a stale file never
// blocks the next start.
#pragma once

#include <string>
#include <sys/types.h>

#include "codec/status.h"

namespace dgc::tools {

class StoreLock {
public:
    // Busy when another process holds it; the message names the lock file and that pid.
    static Result<StoreLock> acquire(const std::string& store);
    StoreLock(StoreLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
    StoreLock& operator=(StoreLock&&) = delete;
    ~StoreLock();
    // Rewrites the pid (the daemon's changes when it detaches; the lock goes with the fd).
    void record_pid(pid_t pid) const;
    const std::string& path() const { return path_; }

private:
    StoreLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    int fd_;
    std::string path_;
};

// The pid recorded in a lock file, or 0 when there is none to read.
pid_t read_lock_pid(const std::string& lock_path);

}  // namespace dgc::tools
