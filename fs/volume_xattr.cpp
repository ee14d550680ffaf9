// user.dgcfs.* extended attributes: what the volume knows about each trace, and the hold switch.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "codec/log.h"
#include "fs/clock.h"
#include "fs/sweeper.h"
#include "fs/volume.h"
#include "fs/names.h"

namespace dgc::fs {
namespace {

constexpr const char* kPrefix = "user.dgcfs.";
const std::vector<std::string> kTraceAttrs = {"state",    "packets",     "chunks",      "raw_bytes", "model_bytes",
                                              "shared_model_bytes", "fidelity", "raw_expires", "skipped", "decisions", "hold"};

std::string iso_time(int64_t ns) {
    std::time_t s = ns / 1'000'000'000;
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

int Volume::getxattr(const std::string& path, const std::string& name, std::string& value) {
    if (name.rfind(kPrefix, 0) != 0) return -ENODATA;
    const std::string key = name.substr(std::string(kPrefix).size());
    auto w = where(path);
    if (w.view == View::kRoot) {
        if (key == "store") return value = layout_.root, 0;
        return -ENODATA;
    }
    if (w.view == View::kOutside || w.rel.empty()) return -ENODATA;
    if (w.view == View::kRetention) {
        if (auto f = staging_->find(w.rel)) {
            struct stat st {};
            if (::fstat(f->fd, &st) != 0) return -errno;
            if (key == "state") return value = "staging", 0;
            if (key == "raw_bytes") return value = std::to_string(st.st_size), 0;
            if (key == "hold") return value = "0", 0;
            return -ENODATA;
        }
    }
    auto t = trace_at(w.rel);
    if (!t || (w.view == View::kRetention && !t->raw_present) || (w.view == View::kArchive && !all_modelled(*t))) {
        struct stat st {};
        if (key != "hold" || getattr(path, &st) != 0 || !S_ISDIR(st.st_mode)) return -ENODATA;
        return value = dir_held(w.rel) ? "1" : "0", 0;
    }
    const bool modelled = all_modelled(*t);
    const std::string regen = sweeper_->regen_failure(t->id);
    if (key == "state") {
        value = regen.empty() ? trace_state(*t, workers_->training(t->id)) : "does not regenerate: " + regen;
    } else if (key == "packets") {
        value = std::to_string(t->packets);
    } else if (key == "chunks") {
        value = std::to_string(t->chunks);
    } else if (key == "raw_bytes") {
        value = std::to_string(t->raw_present ? t->raw_stored : 0);
    } else if (key == "model_bytes") {
        value = std::to_string(t->model_bytes);
    } else if (key == "shared_model_bytes") {
        auto shared = catalog_->shared_model_bytes(t->id);
        if (!shared) return -EIO;
        value = std::to_string(*shared);
    } else if (key == "fidelity") {
        if (!modelled) return -ENODATA;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.4f", t->fidelity);
        value = buf;
    } else if (key == "raw_expires") {
        if (!t->raw_present) return value = "expired " + iso_time(t->raw_expired_ns), 0;
        auto pol = policy();
        auto facts = facts_of(*t, dir_held(t->path));
        std::string blocker = raw_expiry_blocker(pol->effective(t->path), facts);
        auto at = raw_expiry_ns(*pol, facts);
        if (!at) value = "never (no raw TTL)";
        else if (!t->unmodelable.empty()) value = "never (unmodelable)";
        else if (!regen.empty()) value = "never while its models do not regenerate (" + regen + ")";
        else value = iso_time(*at) + (blocker.empty() ? "" : " (not before: " + blocker + ")");
    } else if (key == "skipped") {
        value = describe_skipped(t->skipped);
    } else if (key == "decisions") {
        std::vector<ChunkRow> chunks;
        if (!catalog_->env().read([&](Txn& x) { chunks = get_chunks(x, t->id); })) return -EIO;
        value = describe_decisions(chunks);
    } else if (key == "hold") {
        value = t->hold ? "1" : "0";
    } else {
        return -ENODATA;
    }
    return 0;
}

int Volume::set_dir_hold(const std::string& rel, bool hold) {
    auto st = catalog_->env().write([&](Txn& x) {
        DirRow d{0755, wall_clock_ns()};
        if (auto v = x.get(db::kDirs, rel)) d = decode_dir(*v).value_or(d);
        d.hold = hold;
        x.put(db::kDirs, rel, encode(d));
    });
    return st ? 0 : -EIO;
}

int Volume::setxattr(const std::string& path, const std::string& name, const std::string& value,
                     const Caller& who) {
    if (name != std::string(kPrefix) + "hold") return name.rfind(kPrefix, 0) == 0 ? -EPERM : -ENOTSUP;
    bool hold;
    if (value == "1" || value == "true") hold = true;
    else if (value == "0" || value == "false") hold = false;
    else return -EINVAL;
    auto w = where(path);
    if (w.view != View::kRetention && w.view != View::kArchive) return -ENOTSUP;
    if (w.rel.empty()) return -ENOTSUP;  // the view itself: a hold belongs on a directory in it
    if (staging_->find(w.rel)) return -EAGAIN;  // not accepted yet: nothing to hold
    struct stat st {};
    if (int rc = getattr(path, &st); rc != 0) return rc;
    // Anyone who may write the file (the kernel checks) may hold it; lifting a hold is the
    // owner's or root's act.
    if (!hold && who.uid != 0 && who.uid != st.st_uid) return -EPERM;
    int rc = -ENOENT;
    if (S_ISDIR(st.st_mode)) {
        rc = set_dir_hold(w.rel, hold);
    } else {
        auto s = catalog_->env().write([&](Txn& x) {
            rc = -ENOENT;
            auto id = trace_id_at(x, w.rel);
            if (!id) return;
            auto t = get_trace(x, *id);
            if (!t) return;
            t->hold = hold;
            put_trace(x, *t);
            rc = 0;
        });
        if (!s) return -EIO;
    }
    if (rc == 0) {
        logger("policy")->info("{}{}: legal hold {} by uid {}", printable(w.rel), S_ISDIR(st.st_mode) ? "/ (and below)" : "",
                               hold ? "set" : "released", who.uid);
        sweep_requested_ = true;
    }
    return rc;
}

int Volume::listxattr(const std::string& path, std::vector<std::string>& names) {
    auto w = where(path);
    if (w.view == View::kRoot) {
        names.push_back(std::string(kPrefix) + "store");
        return 0;
    }
    struct stat st {};
    if (int rc = getattr(path, &st); rc != 0) return rc;
    if (S_ISDIR(st.st_mode)) {
        names.push_back(std::string(kPrefix) + "hold");
        return 0;
    }
    for (const auto& a : kTraceAttrs) {
        std::string v;
        if (getxattr(path, kPrefix + a, v) == 0) names.push_back(kPrefix + a);
    }
    return 0;
}

int Volume::removexattr(const std::string& path, const std::string& name, const Caller& who) {
    if (name == std::string(kPrefix) + "hold") {
        // Lifting a legal hold must be deliberate: `setfattr -x` (or a tool copying xattrs)
        // does not do it by accident.
        logger("policy")->warn("{}: removing user.dgcfs.hold refused (uid {}); lift a hold with "
                               "setfattr -n user.dgcfs.hold -v 0",
                               printable(where(path).rel), who.uid);
        return -EPERM;
    }
    return name.rfind(kPrefix, 0) == 0 ? -EPERM : -ENODATA;
}

}  // namespace dgc::fs
