// The retention/ and archive/ namespaces: lookups, listings and the metadata operations.
#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "codec/log.h"
#include "fs/clock.h"
#include "fs/names.h"
#include "fs/sweeper.h"
#include "fs/volume.h"

namespace dgc::fs {
namespace {

constexpr const char* kRetention = "retention";
constexpr const char* kArchive = "archive";
// st_blksize: cp and most tools size their I/O buffer from it, and each write() becomes one
// FUSE request, so a large value means few round trips (max_write is 1 MiB too).
constexpr blksize_t kPreferredIo = 1 << 20;


void set_time(struct stat* st, int64_t ns) {
    st->st_mtim.tv_sec = ns / 1'000'000'000;
    st->st_mtim.tv_nsec = ns % 1'000'000'000;
    st->st_ctim = st->st_mtim;
    st->st_atim = st->st_mtim;
}

// Rows written before owners were kept, and the daemon's own entries, carry -1.
void set_owner(struct stat* st, int64_t uid, int64_t gid) {
    st->st_uid = uid >= 0 ? static_cast<uid_t>(uid) : ::getuid();
    st->st_gid = gid >= 0 ? static_cast<gid_t>(gid) : ::getgid();
}

void dir_stat(struct stat* st, mode_t perm, int64_t mtime_ns, int64_t uid = -1, int64_t gid = -1) {
    *st = {};
    st->st_mode = S_IFDIR | perm;
    st->st_nlink = 2;
    st->st_blksize = kPreferredIo;
    set_owner(st, uid, gid);
    set_time(st, mtime_ns);
}

// A lookup of a name that could never have been created: too long is the caller's answer
// already (as on any local filesystem); a name that is not UTF-8 simply does not exist, so
// that create() gets to say why it refuses one.
int lookup_name_error(const std::string& rel) {
    int rc = name_error(rel);
    return rc == -EILSEQ ? -ENOENT : rc;
}

std::string parent_of(const std::string& rel) {
    auto pos = rel.rfind('/');
    return pos == std::string::npos ? "" : rel.substr(0, pos);
}

}  // namespace

Volume::Where Volume::where(const std::string& path) {
    if (path == "/" || path.empty()) return {View::kRoot, ""};
    std::string p = path.substr(1);
    auto slash = p.find('/');
    std::string top = p.substr(0, slash);
    std::string rel = slash == std::string::npos ? "" : p.substr(slash + 1);
    if (top == kRetention) return {View::kRetention, rel};
    if (top == kArchive) return {View::kArchive, rel};
    return {View::kOutside, p};
}

std::optional<TraceRow> Volume::trace_at(const std::string& rel) {
    auto t = catalog_->trace_at(rel);
    if (!t) throw std::runtime_error(t.status().message());
    return *t;
}

std::shared_ptr<StagingFile> Volume::settled_staging(const std::string& rel) {
    // Metadata changes wait for a running ingest, which commits under the path it started with.
    for (;;) {
        auto f = staging_->find(rel);
        if (!f) return nullptr;
        {
            std::lock_guard lk(f->mu);
            if (!f->ingesting) return f;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool Volume::dir_held(const std::string& rel) {
    auto held = held_dirs(*catalog_);
    if (!held) throw std::runtime_error(held.status().message());
    return under_held_dir(rel, *held);
}

bool Volume::held(const TraceRow& t) {
    return t.hold || policy()->effective(t.path).hold.value_or(false) || dir_held(t.path);
}

bool Volume::retention_dir_exists(const std::string& rel) {
    if (rel.empty()) return true;
    const std::string prefix = rel + "/";
    if (!staging_->paths_under(prefix).empty()) return true;
    bool found = false;
    auto st = catalog_->env().read([&](Txn& t) {
        found = t.get(db::kDirs, rel).has_value();
        if (found) return;
        auto c = t.cursor(db::kPaths);
        for (bool ok = c.seek(prefix); ok && c.key().substr(0, prefix.size()) == prefix; ok = c.next()) {
            auto tr = get_trace(t, from_be64(c.value()));
            if (tr && tr->raw_present) {
                found = true;
                return;
            }
        }
    });
    if (!st) throw std::runtime_error(st.message());
    return found;
}

bool Volume::archive_dir_exists(const std::string& rel) {
    if (rel.empty()) return true;
    const std::string prefix = rel + "/";
    bool found = false;
    auto st = catalog_->env().read([&](Txn& t) {
        auto c = t.cursor(db::kPaths);
        for (bool ok = c.seek(prefix); ok && c.key().substr(0, prefix.size()) == prefix; ok = c.next()) {
            auto tr = get_trace(t, from_be64(c.value()));
            if (tr && all_modelled(*tr)) {
                found = true;
                return;
            }
        }
    });
    if (!st) throw std::runtime_error(st.message());
    return found;
}

bool Volume::parent_exists(const std::string& rel) { return retention_dir_exists(parent_of(rel)); }

void Volume::fill_trace_stat(const TraceRow& t, bool archive, struct stat* st) const {
    *st = {};
    // archive/ is the same file regenerated: its owner, and whoever could read it, no one else.
    st->st_mode = S_IFREG | (archive ? (t.mode & 0444) : (t.mode & 07777));
    st->st_nlink = 1;
    set_owner(st, t.uid, t.gid);
    st->st_size = static_cast<off_t>(archive ? t.synth_size : t.raw_size);
    st->st_blocks = static_cast<blkcnt_t>(((archive ? t.model_bytes : t.raw_stored) + 511) / 512);
    st->st_blksize = kPreferredIo;
    set_time(st, t.mtime_ns);
}

int Volume::staging_stat(StagingFile& f, struct stat* st) {
    struct stat fst {};
    if (int rc = f.catch_up_direct_writes(fst); rc != 0) return rc;
    std::lock_guard lk(f.mu);
    *st = {};
    st->st_mode = S_IFREG | (f.mode & 07777);
    st->st_nlink = 1;
    set_owner(st, f.uid, f.gid);
    st->st_size = fst.st_size;
    st->st_blocks = fst.st_blocks;
    st->st_blksize = kPreferredIo;
    set_time(st, f.mtime_ns);
    return 0;
}

int Volume::getattr(const std::string& path, struct stat* st) {
    auto w = where(path);
    switch (w.view) {
        case View::kOutside: return -ENOENT;
        case View::kRoot: dir_stat(st, 0755, started_ns_); return 0;
        case View::kArchive:
            if (w.rel.empty()) return dir_stat(st, 0555, started_ns_), 0;
            if (int rc = lookup_name_error(w.rel); rc != 0) return rc;
            if (auto t = trace_at(w.rel); t && all_modelled(*t)) return fill_trace_stat(*t, true, st), 0;
            if (archive_dir_exists(w.rel)) return dir_stat(st, 0555, started_ns_), 0;
            return -ENOENT;
        case View::kRetention: break;
    }
    if (w.rel.empty()) return dir_stat(st, 0755, started_ns_), 0;
    if (int rc = lookup_name_error(w.rel); rc != 0) return rc;
    if (auto f = staging_->find(w.rel)) return staging_stat(*f, st);
    if (auto t = trace_at(w.rel); t && t->raw_present) return fill_trace_stat(*t, false, st), 0;
    std::optional<DirRow> d;
    auto s = catalog_->env().read([&](Txn& t) {
        if (auto v = t.get(db::kDirs, w.rel)) d = decode_dir(*v);
    });
    if (!s) throw std::runtime_error(s.message());
    if (d) return dir_stat(st, d->mode & 07777, d->mtime_ns, d->uid, d->gid), 0;
    if (retention_dir_exists(w.rel)) return dir_stat(st, 0755, started_ns_), 0;
    return -ENOENT;
}

int Volume::readdir(const std::string& path, std::vector<DirEntry>& out) {
    auto w = where(path);
    if (w.view == View::kOutside) return -ENOENT;
    if (w.view == View::kRoot) {
        for (const char* n : {kRetention, kArchive}) {
            DirEntry e{n, {}};
            dir_stat(&e.st, 0755, started_ns_);
            out.push_back(e);
        }
        return 0;
    }
    struct stat self {};
    if (int rc = getattr(path, &self); rc != 0) return rc;
    if (!S_ISDIR(self.st_mode)) return -ENOTDIR;
    const bool archive = w.view == View::kArchive;
    const std::string prefix = w.rel.empty() ? "" : w.rel + "/";
    std::map<std::string, bool> names;  // name -> is a directory
    auto add = [&](std::string_view full, bool visible_file) {
        std::string_view rest = full.substr(prefix.size());
        auto slash = rest.find('/');
        if (slash != std::string_view::npos)
            names[std::string(rest.substr(0, slash))] = true;
        else if (visible_file)
            names.emplace(std::string(rest), false);
    };
    auto st = catalog_->env().read([&](Txn& t) {
        names.clear();
        auto c = t.cursor(db::kPaths);
        for (bool ok = c.seek(prefix); ok && c.key().substr(0, prefix.size()) == prefix; ok = c.next()) {
            auto tr = get_trace(t, from_be64(c.value()));
            if (!tr) continue;
            bool visible = archive ? all_modelled(*tr) : tr->raw_present;
            std::string_view rest = c.key().substr(prefix.size());
            if (rest.find('/') != std::string_view::npos) {
                // A directory only appears in archive/ when something modelled lies beneath it.
                if (!visible) continue;
            }
            add(c.key(), visible);
        }
        if (archive) return;
        auto d = t.cursor(db::kDirs);
        for (bool ok = d.seek(prefix); ok && d.key().substr(0, prefix.size()) == prefix; ok = d.next()) {
            std::string_view rest = d.key().substr(prefix.size());
            if (rest.find('/') == std::string_view::npos) names[std::string(rest)] = true;
        }
    });
    if (!st) throw std::runtime_error(st.message());
    if (!archive)
        for (const auto& p : staging_->paths_under(prefix)) add(p, true);
    for (const auto& [name, is_dir] : names) {
        DirEntry e{name, {}};
        if (getattr(path + "/" + name, &e.st) != 0) continue;  // vanished meanwhile
        out.push_back(std::move(e));
    }
    return 0;
}

int Volume::mkdir(const std::string& path, mode_t mode, const Caller& who) {
    auto w = where(path);
    if (w.view == View::kArchive || w.view == View::kRoot) return -EROFS;
    if (w.view != View::kRetention || w.rel.empty()) return -EEXIST;
    if (int rc = name_error(w.rel); rc != 0) return rc;
    struct stat st {};
    if (getattr(path, &st) == 0) return -EEXIST;
    if (!parent_exists(w.rel)) return -ENOENT;
    DirRow row{mode & 07777, wall_clock_ns()};
    row.uid = who.uid;
    row.gid = who.gid;
    auto s = catalog_->env().write([&](Txn& t) { t.put(db::kDirs, w.rel, encode(row)); });
    return s ? 0 : -EIO;
}

int Volume::rmdir(const std::string& path) {
    auto w = where(path);
    if (w.view != View::kRetention || w.rel.empty()) return w.view == View::kOutside ? -ENOENT : -EBUSY;
    std::vector<DirEntry> kids;
    if (int rc = readdir(path, kids); rc != 0) return rc;
    if (!kids.empty()) return -ENOTEMPTY;
    if (dir_held(w.rel)) return -EPERM;
    bool had = false;
    auto s = catalog_->env().write([&](Txn& t) { had = t.del(db::kDirs, w.rel); });
    if (!s) return -EIO;
    return had ? 0 : -ENOENT;
}

int Volume::unlink(const std::string& path) {
    auto w = where(path);
    if (w.view == View::kArchive) return -EROFS;
    if (w.view != View::kRetention || w.rel.empty()) return -EISDIR;
    auto t = trace_at(w.rel);
    const bool is_held = t && held(*t);
    if (settled_staging(w.rel)) {
        if (is_held) return -EPERM;
        if (!staging_->remove(w.rel)) return -EIO;
        // A staging copy shadows the accepted trace it would replace: both go.
        if (!t) return 0;
    }
    if (!t || !t->raw_present) return -ENOENT;
    if (is_held) return -EPERM;
    // Deleting a file in retention/ is the operator's explicit choice: the trace goes entirely.
    if (!catalog_->delete_trace(t->id)) return -EIO;
    ::unlink(layout_.raw_path(t->id).c_str());
    logger("fs")->info("deleted {} (unlink in retention/)", printable(t->path));
    return 0;
}

int Volume::rename_trace(const TraceRow& t, const std::string& to) {
    std::optional<uint64_t> displaced;
    bool held = false;
    auto s = catalog_->env().write([&](Txn& x) {
        displaced.reset();
        held = false;
        if (auto other = trace_id_at(x, to); other && *other != t.id) {
            auto o = get_trace(x, *other);
            if (o && o->hold) {
                held = true;
                return;
            }
            delete_trace_rows(x, *other);
            displaced = other;
        }
        auto row = get_trace(x, t.id);
        if (!row) return;
        x.del(db::kPaths, row->path);
        row->path = to;
        put_trace(x, *row);
        x.put(db::kPaths, to, be64(t.id));
    });
    if (!s) return -EIO;
    if (held) return -EPERM;
    if (displaced) ::unlink(layout_.raw_path(*displaced).c_str());
    return 0;
}

int Volume::rename(const std::string& from, const std::string& to, unsigned flags) {
    auto a = where(from), b = where(to);
    if (a.view == View::kArchive || b.view == View::kArchive) return -EROFS;
    if (a.view != View::kRetention || b.view != View::kRetention || a.rel.empty() || b.rel.empty()) return -EBUSY;
    constexpr unsigned kNoReplace = 1, kExchange = 2;  // RENAME_NOREPLACE, RENAME_EXCHANGE
    if (flags & kExchange) return -EINVAL;
    if (int rc = name_error(b.rel); rc != 0) return rc;
    struct stat src {}, dst {};
    if (int rc = getattr(from, &src); rc != 0) return rc;
    const bool dst_exists = getattr(to, &dst) == 0;
    if (dst_exists && (flags & kNoReplace)) return -EEXIST;
    if (dst_exists && S_ISDIR(dst.st_mode)) return -EISDIR;
    if (!parent_exists(b.rel)) return -ENOENT;
    // Directory renames would rewrite every key below them; tools fall back to copy + delete.
    if (S_ISDIR(src.st_mode)) return -EXDEV;
    // Neither a held file nor one under a held directory moves, and none is replaced.
    if (auto target = trace_at(b.rel); target && held(*target)) return -EPERM;
    if (auto source = trace_at(a.rel); source && held(*source)) return -EPERM;
    if (auto f = settled_staging(a.rel)) {
        settled_staging(b.rel);
        return staging_->rename(a.rel, b.rel) ? 0 : -EIO;
    }
    auto t = trace_at(a.rel);
    if (!t || !t->raw_present) return -ENOENT;
    if (settled_staging(b.rel)) (void)staging_->remove(b.rel);
    return rename_trace(*t, b.rel);
}

// The three kinds of retention entry that carry mode and mtime: a settled staging file, an
// accepted trace whose raw bytes are still there, and an explicit directory row.
int Volume::update_retention_meta(const std::string& path, const std::function<void(Meta&)>& set) {
    auto w = where(path);
    if (w.view == View::kArchive || w.view == View::kRoot) return -EROFS;
    if (w.view != View::kRetention || w.rel.empty()) return -ENOENT;
    auto apply = [&](uint32_t& mode, int64_t& mtime_ns, int64_t& uid, int64_t& gid) {
        Meta m{mode, mtime_ns, uid, gid};
        set(m);
        mode = m.mode, mtime_ns = m.mtime_ns, uid = m.uid, gid = m.gid;
    };
    if (auto f = settled_staging(w.rel)) {
        f->settle_file_mtime();
        std::lock_guard lk(f->mu);
        apply(f->mode, f->mtime_ns, f->uid, f->gid);
        return staging_->persist(*f) ? 0 : -EIO;
    }
    int rc = -ENOENT;
    auto s = catalog_->env().write([&](Txn& x) {
        rc = -ENOENT;
        if (auto id = trace_id_at(x, w.rel)) {
            auto t = get_trace(x, *id);
            if (t && t->raw_present) {
                apply(t->mode, t->mtime_ns, t->uid, t->gid);
                put_trace(x, *t);
                rc = 0;
            }
        } else if (auto v = x.get(db::kDirs, w.rel)) {
            auto d = decode_dir(*v).value_or(DirRow{});
            apply(d.mode, d.mtime_ns, d.uid, d.gid);
            x.put(db::kDirs, w.rel, encode(d));
            rc = 0;
        }
    });
    if (!s) return -EIO;
    if (rc != -ENOENT || !retention_dir_exists(w.rel)) return rc;
    // An implicit directory (there because of its files' paths) gets a row once its mode or
    // owner changes; a new mtime alone is not kept, as before.
    DirRow d{0755, started_ns_};
    apply(d.mode, d.mtime_ns, d.uid, d.gid);
    if (d.mode == 0755 && d.uid < 0 && d.gid < 0) return 0;
    s = catalog_->env().write([&](Txn& x) {
        if (!x.get(db::kDirs, w.rel)) x.put(db::kDirs, w.rel, encode(d));
    });
    return s ? 0 : -EIO;
}

int Volume::chmod(const std::string& path, mode_t mode) {
    return update_retention_meta(path, [&](Meta& m) { m.mode = mode & 07777; });
}

int Volume::chown(const std::string& path, int64_t uid, int64_t gid) {
    return update_retention_meta(path, [&](Meta& m) {
        if (uid >= 0) m.uid = uid;
        if (gid >= 0) m.gid = gid;
    });
}

int Volume::utimens(const std::string& path, const struct timespec tv[2]) {
    if (tv && tv[1].tv_nsec == UTIME_OMIT)  // still answers EROFS/ENOENT like any other update
        return update_retention_meta(path, [](Meta&) {});
    int64_t mtime = wall_clock_ns();
    if (tv && tv[1].tv_nsec != UTIME_NOW) mtime = int64_t(tv[1].tv_sec) * 1'000'000'000 + tv[1].tv_nsec;
    return update_retention_meta(path, [&](Meta& m) { m.mtime_ns = mtime; });
}

int Volume::statfs(struct statvfs* st) { return ::statvfs(layout_.root.c_str(), st) == 0 ? 0 : -errno; }

}  // namespace dgc::fs
