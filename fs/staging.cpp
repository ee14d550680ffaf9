#include "fs/staging.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "codec/log.h"

namespace dgc::fs {

StagingFile::~StagingFile() {
    if (fd >= 0) ::close(fd);
}

namespace {
int64_t mtime_of(const struct stat& st) { return int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec; }
}  // namespace

int StagingFile::catch_up_direct_writes(struct stat& st) {
    if (::fstat(fd, &st) != 0) return -errno;
    const int64_t m = mtime_of(st);
    std::lock_guard lk(mu);
    if (direct && m > file_mtime_ns) mtime_ns = file_mtime_ns = m;
    return 0;
}

void StagingFile::settle_file_mtime() {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return;
    std::lock_guard lk(mu);
    file_mtime_ns = std::max(file_mtime_ns, mtime_of(st));
}

namespace {
StagingRow row_of(StagingFile& f) {
    return StagingRow{f.id, f.path, f.mode, f.mtime_ns, f.closed_once, f.uid, f.gid};
}
}  // namespace

Result<std::shared_ptr<StagingFile>> StagingArea::create(const std::string& path, uint32_t mode, int64_t now_ns,
                                                         int64_t uid, int64_t gid) {
    auto id = catalog_.allocate_id("staging");
    if (!id) return id.status();
    const std::string file = layout_.staging_path(*id);
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io(file + ": cannot create staging file: " + std::strerror(errno));
    auto f = std::make_shared<StagingFile>(*id, fd);
    f->path = path;
    f->mode = mode;
    f->mtime_ns = now_ns;
    f->uid = uid;
    f->gid = gid;
    if (auto st = catalog_.put_staging(row_of(*f)); !st) {
        unlink_file(file);
        return st;
    }
    std::shared_ptr<StagingFile> replaced;
    {
        std::lock_guard lk(mu_);
        auto& slot = by_path_[path];
        replaced = std::exchange(slot, f);
    }
    if (replaced) {
        std::lock_guard lk(replaced->mu);
        replaced->gone = true;
        (void)catalog_.drop_staging(replaced->id);
        unlink_file(layout_.staging_path(replaced->id));
    }
    return f;
}

Result<std::shared_ptr<StagingFile>> StagingArea::adopt(const StagingRow& row) {
    const std::string file = layout_.staging_path(row.id);
    int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return Status::io(file + ": staging file of '" + row.path + "' is missing: " + std::strerror(errno));
    auto f = std::make_shared<StagingFile>(row.id, fd);
    f->path = row.path;
    f->mode = row.mode;
    f->mtime_ns = row.mtime_ns;
    f->closed_once = row.closed;
    f->uid = row.uid;
    f->gid = row.gid;
    std::lock_guard lk(mu_);
    by_path_[row.path] = f;
    return f;
}

std::shared_ptr<StagingFile> StagingArea::find(const std::string& path) const {
    std::lock_guard lk(mu_);
    auto it = by_path_.find(path);
    return it == by_path_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<StagingFile>> StagingArea::all() const {
    std::lock_guard lk(mu_);
    std::vector<std::shared_ptr<StagingFile>> out;
    for (auto& [p, f] : by_path_) out.push_back(f);
    return out;
}

std::vector<std::string> StagingArea::paths_under(const std::string& dir_prefix) const {
    std::lock_guard lk(mu_);
    std::vector<std::string> out;
    for (auto it = by_path_.lower_bound(dir_prefix); it != by_path_.end(); ++it) {
        if (it->first.compare(0, dir_prefix.size(), dir_prefix) != 0) break;
        out.push_back(it->first);
    }
    return out;
}

Status StagingArea::persist(StagingFile& f) { return catalog_.put_staging(row_of(f)); }

Status StagingArea::mark_closed(StagingFile& f) {
    std::lock_guard lk(f.mu);
    if (f.gone) return {};
    if (f.dirty || !f.closed_once) {
        if (sync_on_close_ && ::fdatasync(f.fd) != 0)
            return Status::io(layout_.staging_path(f.id) + ": fdatasync failed: " + std::strerror(errno));
        f.dirty = false;
        if (!f.closed_once) {
            f.closed_once = true;
            if (auto st = persist(f); !st) {
                f.closed_once = false;
                return st;
            }
        }
    }
    return {};
}

Status StagingArea::rename(const std::string& from, const std::string& to) {
    std::shared_ptr<StagingFile> f, displaced;
    {
        std::lock_guard lk(mu_);
        auto it = by_path_.find(from);
        if (it == by_path_.end()) return Status::not_found(from + ": not a staging file");
        f = it->second;
        by_path_.erase(it);
        auto& slot = by_path_[to];
        displaced = std::exchange(slot, f);
    }
    if (displaced && displaced != f) {
        std::lock_guard lk(displaced->mu);
        displaced->gone = true;
        (void)catalog_.drop_staging(displaced->id);
        unlink_file(layout_.staging_path(displaced->id));
    }
    std::lock_guard lk(f->mu);
    f->path = to;
    return persist(*f);
}

Status StagingArea::remove(const std::string& path) {
    std::shared_ptr<StagingFile> f;
    {
        std::lock_guard lk(mu_);
        auto it = by_path_.find(path);
        if (it == by_path_.end()) return Status::not_found(path + ": not a staging file");
        f = it->second;
        by_path_.erase(it);
    }
    std::lock_guard lk(f->mu);
    f->gone = true;
    unlink_file(layout_.staging_path(f->id));
    return catalog_.drop_staging(f->id);
}

void StagingArea::forget(const std::shared_ptr<StagingFile>& f) {
    {
        std::lock_guard lk(mu_);
        auto it = by_path_.find(f->path);
        if (it != by_path_.end() && it->second == f) by_path_.erase(it);
    }
    unlink_file(layout_.staging_path(f->id));
}

void StagingArea::unlink_file(const std::string& file) {
    if (::unlink(file.c_str()) == 0 || errno == ENOENT) return;
    // Its row is gone already, so nothing would ever delete it before the next mount.
    logger("fs")->warn("{}: cannot delete staging file ({}); retrying", file, std::strerror(errno));
    std::lock_guard lk(mu_);
    undeleted_.push_back(file);
}

void StagingArea::retry_unlinks() {
    std::vector<std::string> files;
    {
        std::lock_guard lk(mu_);
        files.swap(undeleted_);
    }
    for (const auto& f : files)
        if (::unlink(f.c_str()) != 0 && errno != ENOENT) {
            std::lock_guard lk(mu_);
            undeleted_.push_back(f);
        }
}

std::vector<std::shared_ptr<StagingFile>> StagingArea::ready_for_ingest(int64_t now_ns, int64_t quiet_ns) {
    std::vector<std::shared_ptr<StagingFile>> out;
    for (auto& f : all()) {
        std::lock_guard lk(f->mu);
        if (f->opens == 0 && f->closed_once && !f->ingesting && !f->gone && now_ns - f->last_release_ns >= quiet_ns)
            out.push_back(f);
    }
    return out;
}

size_t StagingArea::size() const {
    std::lock_guard lk(mu_);
    return by_path_.size();
}

}  // namespace dgc::fs
