#include "fs/scrub_repair.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "codec/log.h"
#include "fs/scrub.h"

namespace dgc::fs {
namespace {

bool make_dirs(const std::string& path) {
    for (size_t p = path.find('/', 1);; p = path.find('/', p + 1)) {
        const std::string part = path.substr(0, p);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return false;
        if (p == std::string::npos) return true;
    }
}

// `dir/name`, or `dir/name.1`, `.2`… when taken: nothing already set aside is overwritten.
std::string free_name(const std::string& dir, const std::string& name) {
    std::string p = dir + "/" + name;
    for (int n = 1; ::access(p.c_str(), F_OK) == 0; ++n) p = dir + "/" + name + "." + std::to_string(n);
    return p;
}

bool fsync_path(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

RepairAction RepairAction::put(std::string db, std::string key, std::string value) {
    RepairAction a;
    a.kind = Kind::kPut;
    a.db = std::move(db);
    a.key = std::move(key);
    a.value = std::move(value);
    return a;
}

RepairAction RepairAction::replace(std::string db, std::string key, std::string old_value, std::string value) {
    RepairAction a = put(std::move(db), std::move(key), std::move(value));
    a.kind = Kind::kReplace;
    a.old_value = std::move(old_value);
    return a;
}

RepairAction RepairAction::move_row(std::string db, std::string key, std::string value) {
    RepairAction a = put(std::move(db), std::move(key), {});
    a.kind = Kind::kMoveRow;
    a.old_value = std::move(value);
    return a;
}

RepairAction RepairAction::drop_row(std::string db, std::string key) {
    RepairAction a = put(std::move(db), std::move(key), {});
    a.kind = Kind::kDropRow;
    return a;
}

RepairAction RepairAction::move_file(std::string path) {
    RepairAction a;
    a.kind = Kind::kMoveFile;
    a.key = std::move(path);
    return a;
}

RepairAction RepairAction::requeue(uint64_t trace, uint32_t chunk) {
    RepairAction a;
    a.kind = Kind::kRequeue;
    a.db = db::kJobs;
    a.job = {trace, chunk};
    return a;
}

bool Repairer::save_aside(const RepairAction& a) const {
    auto log = logger("scrub");
    const std::string dir = lost_found_dir(layout_) + "/catalog/" + a.db;
    if (!make_dirs(dir)) {
        log->error("{}: cannot create: {}", dir, std::strerror(errno));
        return false;
    }
    const std::string path = free_name(dir, hex(a.key));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < a.old_value.size();) {
        ssize_t n = ::write(fd, a.old_value.data() + done, a.old_value.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += size_t(n);
    }
    ok = ok && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) {
        log->error("{}: cannot save the {} row aside: {}", path, a.db, std::strerror(errno));
        return false;
    }
    fsync_path(dir);
    log->info("saved {} row {} to {}", a.db, hex(a.key), path);
    return true;
}

bool Repairer::move_file_aside(const std::string& path) const {
    auto log = logger("scrub");
    const std::string dir = lost_found_dir(layout_) + "/raw";
    if (!make_dirs(dir)) {
        log->error("{}: cannot create: {}", dir, std::strerror(errno));
        return false;
    }
    const std::string to = free_name(dir, path.substr(path.rfind('/') + 1));
    if (::rename(path.c_str(), to.c_str()) != 0) {
        log->error("{}: cannot move to {}: {}", path, to, std::strerror(errno));
        return false;
    }
    fsync_path(dir);
    fsync_path(layout_.raw_dir());
    log->info("moved {} to {}", path, to);
    return true;
}

void Repairer::apply(const std::function<void(const FindingRef&)>& repaired) {
    using K = RepairAction::Kind;
    std::vector<const Entry*> rows;
    for (const auto& e : actions_) {
        const auto& a = e.action;
        if (a.kind == K::kMoveFile) {
            if (move_file_aside(a.key)) repaired(e.ref);
            continue;
        }
        if ((a.kind == K::kMoveRow || a.kind == K::kReplace) && !save_aside(a)) continue;
        rows.push_back(&e);
    }
    if (rows.empty()) return;
    // Counters first, so a requeued job never takes the key of one already queued.
    auto st = catalog_.env().write([&](Txn& t) {
        for (int pass = 0; pass < 2; ++pass)
            for (const Entry* e : rows) {
                const auto& a = e->action;
                if ((a.db == db::kState) != (pass == 0)) continue;
                switch (a.kind) {
                    case K::kPut:
                    case K::kReplace: t.put(a.db, a.key, a.value); break;
                    case K::kMoveRow:
                    case K::kDropRow: t.del(a.db, a.key); break;
                    case K::kRequeue: t.put(db::kJobs, be64(next_counter(t, "job")), encode(a.job)); break;
                    case K::kMoveFile: break;
                }
            }
    });
    if (!st) {
        logger("scrub")->error("repair of the catalog failed, nothing in it changed: {}", st.message());
        return;
    }
    for (const Entry* e : rows) repaired(e->ref);
}

}  // namespace dgc::fs
