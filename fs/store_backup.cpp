#include "fs/store_backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <vector>

#include "codec/log.h"
#include "fs/catalog.h"
#include "fs/store_layout.h"

namespace dgc::fs {

namespace {

constexpr int kAttempts = 3;

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

std::string errno_text(int err) { return std::strerror(err); }

Status fsync_path(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return Status::io(path + ": cannot open to fsync: " + errno_text(errno));
    if (::fsync(fd.get()) != 0) return Status::io(path + ": fsync failed: " + errno_text(errno));
    return Status::ok();
}

// Open descriptors on every file of raw/ and staging/, by path: each keeps its bytes
// readable after the daemon unlinks it (see store_backup.h).
using Pinned = std::map<std::string, Fd>;

void raise_fd_limit() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &r);
    }
}

void pin_dir(const std::string& dir, Pinned& pinned) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;  // a store without staging/ yet: nothing to pin
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const std::string path = dir + "/" + e->d_name;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            pinned.emplace(path, Fd(fd));
        } else if (errno == EMFILE || errno == ENFILE) {
            logger("fs")->warn("backup: out of file descriptors after pinning {} files; the rest are opened later",
                               pinned.size());
            break;
        }
    }
    ::closedir(d);
}

// LMDB's compacting copy, under its own read transaction: one consistent snapshot.
Status copy_catalog(const std::string& from, const std::string& to) {
    MDB_env* env = nullptr;
    if (int rc = mdb_env_create(&env); rc != 0) return Status::io(from + ": mdb_env_create: " + mdb_strerror(rc));
    mdb_env_set_maxdbs(env, 16);
    mdb_env_set_maxreaders(env, 256);
    int rc = mdb_env_open(env, from.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc != 0) {
        mdb_env_close(env);
        return Status::io(from + ": cannot open the catalog: " + mdb_strerror(rc));
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
        rc = mdb_env_copy2(env, to.c_str(), MDB_CP_COMPACT);
        if (rc != MDB_MAP_RESIZED) break;
        // The daemon grew the map since we opened it: adopt the new size and start over.
        std::error_code ec;
        std::filesystem::remove(to + "/data.mdb", ec);
        rc = mdb_env_set_mapsize(env, 0);
    }
    mdb_env_close(env);
    if (rc != 0) return Status::io(from + ": compacting copy to " + to + " failed: " + mdb_strerror(rc));
    // LMDB creates the copy under the umask; the store keeps its catalog private (0600).
    if (::chmod((to + "/data.mdb").c_str(), 0600) != 0) return Status::io(to + "/data.mdb: chmod: " + errno_text(errno));
    if (auto st = fsync_path(to + "/data.mdb"); !st) return st;
    return fsync_path(to);
}

struct Needed {
    std::vector<std::pair<uint64_t, uint64_t>> raw;  // trace id, raw_stored
    std::vector<uint64_t> staging;
    uint64_t traces = 0;
};

Result<Needed> rows_of_copy(const std::string& catalog_dir) {
    Needed n;
    {
        auto cat = Catalog::open(catalog_dir, true);
        if (!cat) return cat.status();
        auto traces = (*cat)->traces();
        if (!traces) return traces.status();
        for (const auto& t : *traces)
            if (t.raw_present) n.raw.emplace_back(t.id, t.raw_stored);
        n.traces = traces->size();
        auto staging = (*cat)->staging_rows();
        if (!staging) return staging.status();
        for (const auto& s : *staging)
            if (s.closed) n.staging.push_back(s.id);
    }
    // Reading the copy made a reader table; it is volatile and a mount makes its own.
    std::error_code ec;
    std::filesystem::remove(catalog_dir + "/lock.mdb", ec);
    return n;
}

// Copies `from` (through its pinned descriptor when there is one) to the new file `to`.
// NotFound when the source is gone and was never pinned.
Result<uint64_t> copy_file(const std::string& from, Pinned& pinned, const std::string& to) {
    Fd opened;
    int src = -1;
    if (auto it = pinned.find(from); it != pinned.end()) {
        src = it->second.get();
    } else {
        opened = Fd(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
        if (opened.get() < 0)
            return errno == ENOENT ? Status::not_found(from + ": removed before it could be copied")
                                   : Status::io(from + ": cannot open: " + errno_text(errno));
        src = opened.get();
    }
    Fd dst(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (dst.get() < 0) return Status::io(to + ": cannot create: " + errno_text(errno));
    std::vector<char> buf(size_t(1) << 20);
    uint64_t off = 0;
    for (;;) {
        ssize_t n = ::pread(src, buf.data(), buf.size(), static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Status::io(from + ": read failed: " + errno_text(errno));
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(dst.get(), buf.data() + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return Status::io(to + ": write failed: " + errno_text(errno));
            done += w;
        }
        off += static_cast<uint64_t>(n);
    }
    if (::fsync(dst.get()) != 0) return Status::io(to + ": fsync failed: " + errno_text(errno));
    return off;
}

Status make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Status::io(path + ": cannot create: " + errno_text(errno));
    return Status::ok();
}

Status prepare_target(const std::string& dir) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) {
        if (!std::filesystem::is_directory(dir, ec)) return Status::invalid(dir + ": exists and is not a directory");
        if (!std::filesystem::is_empty(dir, ec))
            return Status::invalid(dir + ": not empty (a backup goes into a new or empty directory)");
    } else if (!std::filesystem::create_directories(dir, ec) || ec) {
        return Status::io(dir + ": cannot create: " + ec.message());
    }
    return Status::ok();
}

void empty_target(const std::string& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) std::filesystem::remove_all(e.path(), ec);
}

Result<BackupReport> backup_once(const StoreLayout& src, const StoreLayout& dst, const BackupProgress& progress) {
    for (const auto& d : {dst.catalog_dir(), dst.raw_dir(), dst.staging_dir()})
        if (auto st = make_dir(d); !st) return st;
    Pinned pinned;
    pin_dir(src.raw_dir(), pinned);
    pin_dir(src.staging_dir(), pinned);
    if (auto st = copy_catalog(src.catalog_dir(), dst.catalog_dir()); !st) return st;
    auto need = rows_of_copy(dst.catalog_dir());
    if (!need) return need.status();

    BackupReport rep;
    rep.traces = need->traces;
    rep.catalog_bytes = std::filesystem::file_size(dst.catalog_dir() + "/data.mdb");
    const uint64_t files = need->raw.size() + need->staging.size();
    auto copied = [&] {
        if (progress) progress(rep.raw_files + rep.staging_files, files);
    };
    for (const auto& [id, stored] : need->raw) {
        copied();
        auto n = copy_file(src.raw_path(id), pinned, dst.raw_path(id));
        if (!n) return n.status();
        if (*n != stored)
            return Status::corrupt(src.raw_path(id) + ": " + std::to_string(*n) + " bytes, the catalog says " +
                                   std::to_string(stored));
        rep.file_bytes += *n;
        ++rep.raw_files;
    }
    for (uint64_t id : need->staging) {
        copied();
        auto n = copy_file(src.staging_path(id), pinned, dst.staging_path(id));
        if (!n) return n.status();
        rep.file_bytes += *n;
        ++rep.staging_files;
    }
    for (const auto& d : {dst.raw_dir(), dst.staging_dir(), dst.root})
        if (auto st = fsync_path(d); !st) return st;
    return rep;
}

}  // namespace

Result<BackupReport> backup_store(const std::string& store, const std::string& dir, const BackupProgress& progress) {
    const StoreLayout src{store}, dst{dir};
    if (!std::filesystem::exists(src.catalog_dir() + "/data.mdb"))
        return Status::not_found(store + ": not a store (no catalog/data.mdb)");
    if (auto st = prepare_target(dir); !st) return st;
    raise_fd_limit();
    Status last;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
        auto rep = backup_once(src, dst, progress);
        if (rep) {
            rep->attempts = attempt;
            if (auto parent = std::filesystem::absolute(dir).parent_path(); !parent.empty()) (void)fsync_path(parent);
            return rep;
        }
        last = rep.status();
        empty_target(dir);
        if (last.code() != Status::Code::kNotFound) break;
        logger("fs")->info("backup: {}; starting over from a new snapshot", last.message());
    }
    return last;
}

}  // namespace dgc::fs
