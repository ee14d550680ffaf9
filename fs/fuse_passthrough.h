// Kernel FUSE passthrough for staging files. Without it every write of a `cp` into
// retention/ is a synchronous round trip through this daemon; with it the kernel writes
// straight into the staging file and the daemon only sees open, flush and release.
//
// libfuse 3.14 (Debian 12) predates passthrough, so this takes over the session's /dev/fuse
// I/O (fuse_session_custom_io): it asks for passthrough in the INIT reply when the kernel
// offers it, and on OPEN/CREATE replies whose handle has a backing file (Volume::backing_file)
// registers that file with the kernel and names it in the reply. Where the kernel lacks
// passthrough or refuses it (no CAP_SYS_ADMIN, say), nothing is patched and writes take
// the ordinary path.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

struct fuse_session;
struct iovec;


namespace dgc::fs {

class Volume;

class KernelPassthrough {
public:
    // Takes over the session's I/O; call once, before the loop starts. Null on failure.
    static KernelPassthrough* install(struct fuse_session* se, Volume& vol);

    bool offered() const { return offered_; }  // the kernel's INIT offered it (known by op_init)
    void released(uint64_t fh);                // the handle closed: drop its backing reference

private:
    KernelPassthrough(int dev_fd, Volume& vol) : dev_fd_(dev_fd), vol_(vol) {}
    static ssize_t read_hook(int fd, void* buf, size_t len, void* userdata);
    static ssize_t writev_hook(int fd, struct iovec* iov, int count, void* userdata);
    void inspect_request(const char* msg, size_t len);
    ssize_t send_reply(int fd, struct iovec* iov, int count);
    int32_t acquire(uint64_t fh);

    const int dev_fd_;
    Volume& vol_;
    std::atomic<bool> offered_{false}, enabled_{false};
    std::mutex mu_;
    std::unordered_map<uint64_t, uint32_t> pending_;  // request unique -> opcode (INIT/OPEN/CREATE)
    struct Backing {
        int32_t id;
        int refs;
    };
    std::unordered_map<uint64_t, Backing> backings_;  // Volume::BackingFile::key -> kernel id
    std::unordered_map<uint64_t, uint64_t> key_of_fh_;
};

}  // namespace dgc::fs
