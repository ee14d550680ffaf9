// The FUSE operation table: each operation translates its arguments for Volume and
// passes back 0 / a count / -errno. No exception crosses into libfuse.
#define FUSE_USE_VERSION 314
#include <fuse3/fuse.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "codec/log.h"
#include "fs/fuse_ops.h"
#include "fs/names.h"
#include "fs/fuse_passthrough.h"
#include "fs/volume.h"

namespace dgc::fs {
namespace {

FuseContext& ctx() { return *static_cast<FuseContext*>(fuse_get_context()->private_data); }
Volume& vol() { return *ctx().volume; }
Caller caller() {
    const auto* c = fuse_get_context();
    return Caller{static_cast<uint32_t>(c->uid), static_cast<uint32_t>(c->gid)};
}

template <typename F>
int guarded(const char* op, const char* path, F&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        logger("fs")->error("{} {}: {}", op, printable(path ? path : ""), printable(e.what()));
        return -EIO;
    } catch (...) {
        logger("fs")->error("{} {}: unknown exception", op, printable(path ? path : ""));
        return -EIO;
    }
}

void* op_init(struct fuse_conn_info* conn, struct fuse_config* cfg) {
    // Big writes make cp into retention/ cost few round trips (cp sizes its buffer from
    // st_blksize, which Volume reports as 1 MiB). No writeback cache: the kernel throttles
    // FUSE dirty pages hard, which made cp slower, not faster.
    conn->max_write = 1u << 20;
    // Request data is spliced from /dev/fuse into the staging file (op_write_buf): no copy
    // through our memory, which matters at 1 MiB per request. Not with the passthrough
    // hooks, which must see each request whole (and then writes skip the daemon anyway).
    if (ctx().passthrough)
        conn->want &= ~FUSE_CAP_SPLICE_READ;
    else if (conn->capable & FUSE_CAP_SPLICE_READ)
        conn->want |= FUSE_CAP_SPLICE_READ;
    conn->max_readahead = 1u << 20;
    // The namespace changes under the kernel (archive files appear, raw expires): short caches.
    cfg->entry_timeout = 1.0;
    cfg->attr_timeout = 1.0;
    cfg->negative_timeout = 0;
    cfg->use_ino = 0;
    cfg->nullpath_ok = 0;
    return fuse_get_context()->private_data;
}

int op_getattr(const char* path, struct stat* st, struct fuse_file_info* fi) {
    return guarded("getattr", path, [&] {
        int rc = path ? vol().getattr(path, st) : -ENOENT;
        // The kernel revalidates an open file's size before reads (auto_inval_data): a file
        // whose path went (raw expired, unlinked) must stay readable through its handle.
        if (rc == -ENOENT && fi) rc = vol().fgetattr(fi->fh, st);
        return rc;
    });
}

int op_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, struct fuse_file_info*,
               enum fuse_readdir_flags) {
    return guarded("readdir", path, [&] {
        std::vector<DirEntry> entries;
        if (int rc = vol().readdir(path, entries); rc != 0) return rc;
        filler(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
        filler(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
        for (const auto& e : entries)
            if (filler(buf, e.name.c_str(), &e.st, 0, static_cast<fuse_fill_dir_flags>(0))) break;
        return 0;
    });
}

int op_mkdir(const char* path, mode_t mode) {
    return guarded("mkdir", path, [&] { return vol().mkdir(path, mode, caller()); });
}

int op_rmdir(const char* path) {
    return guarded("rmdir", path, [&] { return vol().rmdir(path); });
}

int op_unlink(const char* path) {
    return guarded("unlink", path, [&] { return vol().unlink(path); });
}

int op_rename(const char* from, const char* to, unsigned int flags) {
    return guarded("rename", from, [&] { return vol().rename(from, to, flags); });
}

int op_chmod(const char* path, mode_t mode, struct fuse_file_info*) {
    return guarded("chmod", path, [&] { return vol().chmod(path, mode); });
}

int op_chown(const char* path, uid_t uid, gid_t gid, struct fuse_file_info*) {
    // The kernel has checked who may (default_permissions): root anything, an owner its group.
    return guarded("chown", path, [&] {
        auto id = [](auto v) { return v == static_cast<decltype(v)>(-1) ? int64_t(-1) : int64_t(v); };
        return vol().chown(path, id(uid), id(gid));
    });
}

int op_utimens(const char* path, const struct timespec tv[2], struct fuse_file_info*) {
    return guarded("utimens", path, [&] { return vol().utimens(path, tv); });
}

int op_truncate(const char* path, off_t size, struct fuse_file_info* fi) {
    return guarded("truncate", path, [&] { return vol().truncate(path ? path : "", size, fi ? fi->fh : 0); });
}

int op_create(const char* path, mode_t mode, struct fuse_file_info* fi) {
    return guarded("create", path, [&] { return vol().create(path, mode, fi->flags, &fi->fh, caller()); });
}

int op_open(const char* path, struct fuse_file_info* fi) {
    return guarded("open", path, [&] {
        int rc = vol().open(path, fi->flags, &fi->fh);
        // archive/ and raw bytes never change under an open path: let the page cache keep them.
        if (rc == 0 && (fi->flags & O_ACCMODE) == O_RDONLY && std::strncmp(path, "/archive/", 9) == 0)
            fi->keep_cache = 1;
        return rc;
    });
}

int op_read(const char* path, char* buf, size_t size, off_t off, struct fuse_file_info* fi) {
    return guarded("read", path, [&] { return vol().read(fi->fh, buf, size, off); });
}

int op_write(const char* path, const char* buf, size_t size, off_t off, struct fuse_file_info* fi) {
    return guarded("write", path, [&] { return vol().write(fi->fh, buf, size, off); });
}

int op_write_buf(const char* path, struct fuse_bufvec* buf, off_t off, struct fuse_file_info* fi) {
    return guarded("write", path, [&] {
        int fd = vol().write_fd(fi->fh);
        if (fd < 0) return fd;
        const size_t size = fuse_buf_size(buf);
        struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
        dst.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
        dst.buf[0].fd = fd;
        dst.buf[0].pos = off;
        ssize_t n = fuse_buf_copy(&dst, buf, FUSE_BUF_SPLICE_NONBLOCK);
        vol().note_written(fi->fh, n);
        return static_cast<int>(n);
    });
}

int op_flush(const char* path, struct fuse_file_info* fi) {
    return guarded("flush", path, [&] { return vol().flush(fi->fh); });
}

int op_release(const char* path, struct fuse_file_info* fi) {
    return guarded("release", path, [&] {
        if (ctx().passthrough) ctx().passthrough->released(fi->fh);
        return vol().release(fi->fh);
    });
}

int op_fsync(const char* path, int datasync, struct fuse_file_info* fi) {
    return guarded("fsync", path, [&] { return vol().fsync(fi->fh, datasync != 0); });
}

int op_statfs(const char* path, struct statvfs* st) {
    return guarded("statfs", path, [&] { return vol().statfs(st); });
}

int op_setxattr(const char* path, const char* name, const char* value, size_t size, int) {
    return guarded("setxattr", path, [&] { return vol().setxattr(path, name, std::string(value, size), caller()); });
}

int op_getxattr(const char* path, const char* name, char* value, size_t size) {
    return guarded("getxattr", path, [&] {
        std::string v;
        if (int rc = vol().getxattr(path, name, v); rc != 0) return rc;
        if (size == 0) return static_cast<int>(v.size());
        if (size < v.size()) return -ERANGE;
        std::memcpy(value, v.data(), v.size());
        return static_cast<int>(v.size());
    });
}

int op_listxattr(const char* path, char* list, size_t size) {
    return guarded("listxattr", path, [&] {
        std::vector<std::string> names;
        if (int rc = vol().listxattr(path, names); rc != 0) return rc;
        std::string all;
        for (const auto& n : names) all.append(n).push_back('\0');
        if (size == 0) return static_cast<int>(all.size());
        if (size < all.size()) return -ERANGE;
        std::memcpy(list, all.data(), all.size());
        return static_cast<int>(all.size());
    });
}

int op_removexattr(const char* path, const char* name) {
    return guarded("removexattr", path, [&] { return vol().removexattr(path, name, caller()); });
}

}  // namespace

const struct fuse_operations* fuse_operations_table() {
    static const struct fuse_operations ops = [] {
        struct fuse_operations o {};
        o.init = op_init;
        o.getattr = op_getattr;
        o.readdir = op_readdir;
        o.mkdir = op_mkdir;
        o.rmdir = op_rmdir;
        o.unlink = op_unlink;
        o.rename = op_rename;
        o.chmod = op_chmod;
        o.chown = op_chown;
        o.utimens = op_utimens;
        o.truncate = op_truncate;
        o.create = op_create;
        o.open = op_open;
        o.read = op_read;
        o.write = op_write;
        o.write_buf = op_write_buf;
        o.flush = op_flush;
        o.release = op_release;
        o.fsync = op_fsync;
        o.statfs = op_statfs;
        o.setxattr = op_setxattr;
        o.getxattr = op_getxattr;
        o.listxattr = op_listxattr;
        o.removexattr = op_removexattr;
        return o;
    }();
    return &ops;
}

}  // namespace dgc::fs
