// Open files: staging files being written, raw segments and generated archive files.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "codec/log.h"
#include "fs/clock.h"
#include "fs/names.h"
#include "codec/raw_segment.h"
#include "fs/volume.h"
#include "fs/retry.h"

namespace dgc::fs {

struct Handle {
    enum class Kind { kStaging, kRaw, kArchive };
    explicit Handle(Kind k) : kind(k) {}
    Kind kind;
    bool writer = false;
    bool direct = false;  // staging: reads and writes go straight to the staging file
    uint64_t trace = 0;   // raw: whose bytes, for raw_opens_
    // raw and archive: the trace as opened. The handle keeps its segment fd (raw) and this
    // row, so it reads on, and stats, after raw expires or the path goes (POSIX: an unlinked
    // open file stays readable).
    TraceRow row;
    std::shared_ptr<StagingFile> staging;
    std::mutex mu;  // the raw reader caches one frame and is not thread-safe
    std::optional<RawSegmentReader> raw;
    std::shared_ptr<const ArchiveFile> archive;
};

namespace {
Handle* handle_of(uint64_t fh) { return reinterpret_cast<Handle*>(fh); }
bool wants_write(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

}  // namespace

uint64_t Volume::open_staging(const std::shared_ptr<StagingFile>& f, const std::string& rel, bool writer, int flags) {
    bool cached_readers = false;
    if (auto t = trace_at(rel)) {
        std::lock_guard lk(raw_opens_mu_);
        cached_readers = raw_opens_.count(t->id) > 0;
    }
    auto* h = new Handle(Handle::Kind::kStaging);
    h->writer = writer;
    h->staging = f;
    std::lock_guard lk(f->mu);
    // The I/O mode is chosen by the first open and shared by all until the last closes.
    // Not during ingest: raw readers (page-cached) may open the committed trace any moment.
    // Not for O_DIRECT: passthrough would hand its unaligned tail to the staging file's own
    // filesystem, which refuses it (EINVAL); through the daemon any size works.
    if (f->opens == 0) f->direct = !cached_readers && !f->ingesting && !(flags & O_DIRECT);
    h->direct = f->direct;
    ++f->opens;
    return reinterpret_cast<uint64_t>(h);
}

int Volume::staging_from_trace(const TraceRow& t, bool copy_bytes, std::shared_ptr<StagingFile>& out) {
    // Writing to an accepted file: a new staging copy; its ingest replaces the old trace.
    // Opening is no write: mtime moves only when bytes do (or with O_TRUNC, which is one).
    auto f = staging_->create(t.path, t.mode, copy_bytes ? t.mtime_ns : wall_clock_ns(), t.uid, t.gid);
    if (!f) return -EIO;
    if (copy_bytes) {
        auto enc = catalog_->frame_index(t.id);
        auto idx = enc ? decode_frame_index(*enc) : Result<RawFrameIndex>(enc.status());
        auto r = idx ? RawSegmentReader::open(layout_.raw_path(t.id), *idx) : Result<RawSegmentReader>(idx.status());
        if (!r) {
            logger("fs")->error("cannot copy {} for writing: {}", printable(t.path), printable(r.status().message()));
            (void)staging_->remove(t.path);
            return -EIO;
        }
        std::string buf(1 << 20, '\0');
        for (uint64_t off = 0; off < r->size();) {
            auto n = r->read(off, buf);
            if (!n || *n == 0 || ::pwrite((*f)->fd, buf.data(), *n, static_cast<off_t>(off)) != ssize_t(*n)) {
                (void)staging_->remove(t.path);
                return -EIO;
            }
            off += *n;
        }
        (*f)->settle_file_mtime();  // the copy is not a direct write of the caller's
    }
    out = *f;
    return 0;
}

int Volume::create(const std::string& path, mode_t mode, int flags, uint64_t* fh, const Caller& who) {
    auto w = where(path);
    if (w.view == View::kArchive || w.view == View::kRoot) return -EROFS;
    if (w.view != View::kRetention || w.rel.empty()) return -EACCES;
    if (int rc = name_error(w.rel); rc != 0) return rc;
    if (!parent_exists(w.rel)) return -ENOENT;
    if (auto t = trace_at(w.rel); t && t->raw_present) {
        if (flags & O_EXCL) return -EEXIST;
        if (held(*t)) return -EPERM;
    }
    if (auto f = settled_staging(w.rel)) {
        if (flags & O_EXCL) return -EEXIST;
        if (::ftruncate(f->fd, 0) != 0) return -errno;
        std::lock_guard lk(f->mu);
        f->dirty = true;
        f->mtime_ns = wall_clock_ns();
    }
    struct stat st {};
    if (getattr(path, &st) == 0 && S_ISDIR(st.st_mode)) return -EISDIR;
    auto existing = staging_->find(w.rel);
    if (existing) {
        *fh = open_staging(existing, w.rel, true, flags);
        return 0;
    }
    auto f = staging_->create(w.rel, mode & 07777, wall_clock_ns(), who.uid, who.gid);
    if (!f) {
        logger("fs")->error("create {}: {}", printable(w.rel), printable(f.status().message()));
        return -EIO;
    }
    *fh = open_staging(*f, w.rel, true, flags);
    return 0;
}

int Volume::open(const std::string& path, int flags, uint64_t* fh) {
    auto w = where(path);
    if (w.view == View::kOutside) return -ENOENT;
    if (w.view == View::kRoot || w.rel.empty()) return -EISDIR;
    const bool writer = wants_write(flags) || (flags & O_TRUNC);
    if (w.view == View::kArchive) {
        if (writer) return -EROFS;
        auto t = trace_at(w.rel);
        if (!t || !all_modelled(*t)) return archive_dir_exists(w.rel) ? -EISDIR : -ENOENT;
        auto f = archive_->open(t->id);
        if (!f) {
            logger("fs")->error("archive open {}: {}", printable(w.rel), printable(f.status().message()));
            return -EIO;
        }
        auto* h = new Handle(Handle::Kind::kArchive);
        h->archive = *f;
        h->row = *t;
        *fh = reinterpret_cast<uint64_t>(h);
        return 0;
    }
    auto f = writer ? settled_staging(w.rel) : staging_->find(w.rel);
    if (f) {
        if (flags & O_TRUNC) {
            if (::ftruncate(f->fd, 0) != 0) return -errno;
            std::lock_guard lk(f->mu);
            f->dirty = true;
            f->mtime_ns = wall_clock_ns();
        }
        *fh = open_staging(f, w.rel, writer, flags);
        return 0;
    }
    auto t = trace_at(w.rel);
    if (!t || !t->raw_present) return retention_dir_exists(w.rel) ? -EISDIR : -ENOENT;
    if (writer) {
        if (held(*t)) return -EPERM;
        std::shared_ptr<StagingFile> copy;
        if (int rc = staging_from_trace(*t, !(flags & O_TRUNC), copy); rc != 0) return rc;
        *fh = open_staging(copy, w.rel, true, flags);
        return 0;
    }
    auto enc = catalog_->frame_index(t->id);
    if (!enc) return -ENOENT;  // expired between lookup and open
    auto idx = decode_frame_index(*enc);
    if (!idx) return -EIO;
    {
        // Counted before the segment is opened, so the sweeper cannot expire it in between.
        std::lock_guard lk(raw_opens_mu_);
        ++raw_opens_[t->id];
    }
    auto r = RawSegmentReader::open(layout_.raw_path(t->id), std::move(idx.value()));
    if (!r) {
        {
            std::lock_guard lk(raw_opens_mu_);
            if (--raw_opens_[t->id] <= 0) raw_opens_.erase(t->id);
        }
        if (::access(layout_.raw_path(t->id).c_str(), F_OK) != 0) return -ENOENT;  // expired meanwhile
        logger("fs")->error("open {}: {}", printable(w.rel), printable(r.status().message()));
        return -EIO;
    }
    auto* h = new Handle(Handle::Kind::kRaw);
    h->raw.emplace(std::move(r.value()));
    h->trace = t->id;
    h->row = *t;
    *fh = reinterpret_cast<uint64_t>(h);
    return 0;
}

int Volume::fgetattr(uint64_t fh, struct stat* st) {
    Handle* h = handle_of(fh);
    if (h->kind == Handle::Kind::kStaging) return staging_stat(*h->staging, st);
    fill_trace_stat(h->row, h->kind == Handle::Kind::kArchive, st);
    return 0;
}

int Volume::read(uint64_t fh, char* buf, size_t size, off_t off) {
    Handle* h = handle_of(fh);
    if (off < 0) return -EINVAL;
    switch (h->kind) {
        case Handle::Kind::kStaging: {
            ssize_t n = ::pread(h->staging->fd, buf, size, off);
            return n < 0 ? -errno : static_cast<int>(n);
        }
        case Handle::Kind::kRaw: {
            std::lock_guard lk(h->mu);
            auto n = h->raw->read(static_cast<uint64_t>(off), std::span<char>(buf, size));
            if (!n) {
                logger("fs")->error("raw read: {}", printable(n.status().message()));
                return -EIO;
            }
            return static_cast<int>(*n);
        }
        case Handle::Kind::kArchive: {
            auto n = archive_->read(h->archive, static_cast<uint64_t>(off), std::span<char>(buf, size));
            if (!n) {
                logger("fs")->error("archive read: {}", printable(n.status().message()));
                events_.add("archive read: " + n.status().message());
                return -EIO;
            }
            return static_cast<int>(*n);
        }
    }
    return -EINVAL;
}

int Volume::write(uint64_t fh, const char* buf, size_t size, off_t off) {
    Handle* h = handle_of(fh);
    if (h->kind != Handle::Kind::kStaging || !h->writer) return -EBADF;
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pwrite(h->staging->fd, buf + done, size - done, off + static_cast<off_t>(done));
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) continue;
            std::lock_guard lk(h->staging->mu);
            if (!h->staging->write_errno) h->staging->write_errno = err;
            return -err;
        }
        done += static_cast<size_t>(n);
    }
    std::lock_guard lk(h->staging->mu);
    h->staging->dirty = true;
    h->staging->mtime_ns = wall_clock_ns();
    return static_cast<int>(done);
}

int Volume::write_fd(uint64_t fh) {
    Handle* h = handle_of(fh);
    if (h->kind != Handle::Kind::kStaging || !h->writer) return -EBADF;
    return h->staging->fd;
}

void Volume::note_written(uint64_t fh, ssize_t result) {
    Handle* h = handle_of(fh);
    std::lock_guard lk(h->staging->mu);
    if (result < 0) {
        if (!h->staging->write_errno) h->staging->write_errno = static_cast<int>(-result);
        return;
    }
    h->staging->dirty = true;
    h->staging->mtime_ns = wall_clock_ns();
}

std::optional<Volume::BackingFile> Volume::backing_file(uint64_t fh) {
    Handle* h = handle_of(fh);
    if (h->kind != Handle::Kind::kStaging || !h->direct) return std::nullopt;
    return BackingFile{h->staging->id, h->staging->fd};
}

void Volume::refuse_staging(const std::string& path, const std::string& why) {
    logger("fs")->error("close of {}: {}; the file is not accepted", printable(path), printable(why));
    events_.add(path + ": " + why + "; not accepted");
    (void)staging_->remove(path);
}

int Volume::flush(uint64_t fh) {
    Handle* h = handle_of(fh);
    if (h->kind != Handle::Kind::kStaging || !h->writer) return 0;
    int failed = 0;
    std::string path;
    {
        std::lock_guard lk(h->staging->mu);
        failed = h->staging->write_errno, path = h->staging->path;
    }
    if (failed) {
        // A capture with a hole where a write failed is not the writer's file: it is dropped,
        // never accepted (the write-back cache had told the writer its write succeeded).
        refuse_staging(path, std::string("a write failed (") + std::strerror(failed) + ")");
        return -failed;
    }
    if (h->direct) {
        // Its writes never passed through write(): assume there were some.
        struct stat st {};
        (void)h->staging->catch_up_direct_writes(st);
        std::lock_guard lk(h->staging->mu);
        h->staging->dirty = true;
    }
    auto st = staging_->mark_closed(*h->staging);
    if (!st) {
        logger("fs")->error("close of {}: {}", printable(path), printable(st.message()));
        events_.add(path + ": close: " + st.message());
        return -errno_of(st);
    }
    return 0;
}

int Volume::release(uint64_t fh) {
    Handle* h = handle_of(fh);
    if (h->kind == Handle::Kind::kStaging) {
        bool abandoned = false;
        std::string path;
        {
            std::lock_guard lk(h->staging->mu);
            --h->staging->opens;
            h->staging->last_release_ns = wall_clock_ns();
            abandoned = h->writer && h->staging->opens == 0 && !h->staging->closed_once && !h->staging->gone;
            path = h->staging->path;
        }
        if (abandoned) {
            // Its writer's close failed before a close was recorded (the catalog could not
            // record it, or the kernel's writeback of its pages failed and no flush came), and
            // close(2) told the writer so. Nothing will ever close it: drop it, as a failed write is.
            refuse_staging(path, "its writer's close failed before it was recorded");
        }
    } else if (h->kind == Handle::Kind::kRaw) {
        std::lock_guard lk(raw_opens_mu_);
        if (--raw_opens_[h->trace] <= 0) {
            raw_opens_.erase(h->trace);
            sweep_requested_ = true;  // an expiry may have waited for this reader
        }
    }
    delete h;
    return 0;
}

int Volume::fsync(uint64_t fh, bool datasync) {
    Handle* h = handle_of(fh);
    if (h->kind != Handle::Kind::kStaging) return 0;
    int rc = datasync ? ::fdatasync(h->staging->fd) : ::fsync(h->staging->fd);
    return rc == 0 ? 0 : -errno;
}

int Volume::truncate(const std::string& path, off_t size, uint64_t fh) {
    if (size < 0) return -EINVAL;
    std::shared_ptr<StagingFile> f;
    if (fh) {
        Handle* h = handle_of(fh);
        if (h->kind != Handle::Kind::kStaging || !h->writer) return -EBADF;
        f = h->staging;
    } else {
        auto w = where(path);
        if (w.view == View::kArchive || w.view == View::kRoot) return -EROFS;
        if (w.view != View::kRetention || w.rel.empty()) return -EISDIR;
        f = settled_staging(w.rel);
        if (!f) {
            auto t = trace_at(w.rel);
            if (!t || !t->raw_present) return -ENOENT;
            if (held(*t)) return -EPERM;
            if (int rc = staging_from_trace(*t, size > 0, f); rc != 0) return rc;
            // No handle holds it open: the truncate itself is the whole write, so it is closed now.
            if (::ftruncate(f->fd, size) != 0) return -errno;
            {
                std::lock_guard lk(f->mu);
                f->dirty = true;
                f->last_release_ns = wall_clock_ns();
            }
            return staging_->mark_closed(*f) ? 0 : -EIO;
        }
    }
    if (::ftruncate(f->fd, size) != 0) return -errno;
    std::lock_guard lk(f->mu);
    f->dirty = true;
    f->mtime_ns = wall_clock_ns();
    return 0;
}

}  // namespace dgc::fs
