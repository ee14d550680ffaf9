#define FUSE_USE_VERSION 314
#include "fs/fuse_passthrough.h"

#include <fuse3/fuse_lowlevel.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "codec/log.h"
#include "fs/fuse_passthrough_wire.h"
#include "fs/volume.h"

namespace dgc::fs {
namespace {

// <linux/fuse.h> of Linux 6.9+; Debian 12's kernel headers are older.
struct BackingMap {
    int32_t fd;
    uint32_t flags;
    uint64_t padding;
};
constexpr unsigned long kBackingOpen = _IOW(229, 1, BackingMap);
constexpr unsigned long kBackingClose = _IOW(229, 2, uint32_t);

// The custom I/O callbacks get libfuse's userdata (the struct fuse), not ours.
KernelPassthrough* g_instance = nullptr;

}  // namespace

KernelPassthrough* KernelPassthrough::install(struct fuse_session* se, Volume& vol) {
    static const struct fuse_custom_io io = {&KernelPassthrough::writev_hook, &KernelPassthrough::read_hook, nullptr,
                                             nullptr};
    const int fd = fuse_session_fd(se);
    auto* p = new KernelPassthrough(fd, vol);  // lives as long as the process: hooks may run until exit
    if (fuse_session_custom_io(se, &io, fd) != 0) {
        delete p;
        return nullptr;
    }
    g_instance = p;
    return p;
}

ssize_t KernelPassthrough::read_hook(int fd, void* buf, size_t len, void*) {
    ssize_t n = ::read(fd, buf, len);
    if (n > 0) g_instance->inspect_request(static_cast<const char*>(buf), static_cast<size_t>(n));
    return n;
}

ssize_t KernelPassthrough::writev_hook(int fd, struct iovec* iov, int count, void*) {
    return g_instance->send_reply(fd, iov, count);
}

void KernelPassthrough::inspect_request(const char* msg, size_t len) {
    auto h = wire::parse_request({msg, len});
    if (!h) return;
    if (h->opcode == wire::kOpInit) {
        offered_ = wire::init_offers_passthrough({msg, len});
    } else if (!enabled_ || (h->opcode != wire::kOpOpen && h->opcode != wire::kOpCreate)) {
        return;
    }
    std::lock_guard lk(mu_);
    pending_[h->unique] = h->opcode;
}

ssize_t KernelPassthrough::send_reply(int fd, struct iovec* iov, int count) {
    auto plain = [&] { return ::writev(fd, iov, count); };
    if (count != 2) return plain();
    auto rh = wire::parse_reply({static_cast<const char*>(iov[0].iov_base), iov[0].iov_len});
    if (!rh) return plain();
    uint32_t opcode = 0;
    {
        std::lock_guard lk(mu_);
        auto it = pending_.find(rh->unique);
        if (it == pending_.end()) return plain();
        opcode = it->second;
        pending_.erase(it);
    }
    if (rh->error != 0) return plain();
    std::vector<char> body(static_cast<const char*>(iov[1].iov_base),
                           static_cast<const char*>(iov[1].iov_base) + iov[1].iov_len);
    struct iovec patched[2] = {iov[0], {body.data(), body.size()}};
    if (opcode == wire::kOpInit) {
        if (!offered_ || !wire::ask_passthrough(body)) return plain();
        enabled_ = true;
        logger("fs")->info("kernel passthrough: on (writes into retention/ bypass the daemon)");
        return ::writev(fd, patched, 2);
    }
    auto fh = wire::open_reply_fh(body, opcode);
    if (!fh) return plain();
    const int32_t id = acquire(*fh);
    if (id < 0) return plain();
    wire::set_passthrough(body, opcode, id);
    ssize_t n = ::writev(fd, patched, 2);
    if (n < 0) released(*fh);  // the open was interrupted: no release will come for it
    return n;
}

int32_t KernelPassthrough::acquire(uint64_t fh) {
    if (!enabled_) return -1;
    auto b = vol_.backing_file(fh);
    if (!b) return -1;
    std::lock_guard lk(mu_);
    auto it = backings_.find(b->key);
    if (it == backings_.end()) {
        // One kernel backing id per staging file while handles are open: the kernel refuses
        // two different backing files for one inode.
        BackingMap map{b->fd, 0, 0};
        const int id = ::ioctl(dev_fd_, kBackingOpen, &map);
        if (id < 0) {
            logger("fs")->warn("kernel passthrough: off, the kernel refused a backing file ({}); "
                               "writes go through the daemon",
                               std::strerror(errno));
            enabled_ = false;
            return -1;
        }
        it = backings_.emplace(b->key, Backing{id, 0}).first;
    }
    ++it->second.refs;
    key_of_fh_[fh] = b->key;
    return it->second.id;
}

void KernelPassthrough::released(uint64_t fh) {
    std::lock_guard lk(mu_);
    auto k = key_of_fh_.find(fh);
    if (k == key_of_fh_.end()) return;
    auto it = backings_.find(k->second);
    key_of_fh_.erase(k);
    if (it == backings_.end() || --it->second.refs > 0) return;
    uint32_t id = static_cast<uint32_t>(it->second.id);
    if (::ioctl(dev_fd_, kBackingClose, &id) != 0)
        logger("fs")->warn("kernel passthrough: closing backing id {}: {}", id, std::strerror(errno));
    backings_.erase(it);
}

}  // namespace dgc::fs
