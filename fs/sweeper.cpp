#include "fs/sweeper.h"
#include "fs/names.h"

#include <unistd.h>

#include "codec/log.h"

namespace dgc::fs {

Result<std::set<std::string>> held_dirs(const Catalog& catalog) {
    std::set<std::string> out;
    auto st = catalog.env().read([&](Txn& x) {
        out.clear();
        auto c = x.cursor(db::kDirs);
        for (bool ok = c.first(); ok; ok = c.next())
            if (auto d = decode_dir(c.value()); d && d->hold) out.emplace(c.key());
    });
    if (!st) return st;
    return out;
}

bool under_held_dir(std::string_view path, const std::set<std::string>& held) {
    for (size_t end = 0; end != std::string_view::npos;) {
        end = path.find('/', end + 1);
        if (held.count(std::string(path.substr(0, end)))) return true;
    }
    return false;
}

TraceFacts facts_of(const TraceRow& t, bool dir_hold) {
    TraceFacts f;
    f.id = t.id;
    f.path = t.path;
    f.accepted_ns = t.accepted_ns;
    f.raw_present = t.raw_present;
    f.raw_stored = t.raw_stored;
    f.modelled = all_modelled(t);
    f.chunks_done = t.chunks_done;
    f.chunks = t.chunks;
    f.unmodelable = t.unmodelable;
    f.xattr_hold = t.hold || dir_hold;
    f.worst_fidelity = t.worst_fidelity;
    return f;
}

std::string Sweeper::regen_failure(uint64_t id) const {
    std::lock_guard lk(regen_mu_);
    auto it = regen_failures_.find(id);
    return it == regen_failures_.end() ? "" : it->second;
}

bool Sweeper::regenerates(const Decision& d) {
    if (!regenerates_ || regenerated_.count(d.id)) return true;
    auto st = regenerates_(d.id);
    if (st) {
        regenerated_.insert(d.id);
        std::lock_guard lk(regen_mu_);
        regen_failures_.erase(d.id);
        return true;
    }
    const std::string why = "raw kept: its models do not regenerate with this build: " + st.message();
    if (last_blocked_[d.id] != why) {
        logger("policy")->error("{}: {}", printable(d.path), printable(why));
        if (events_) events_->add(d.path + ": " + why);
    }
    last_blocked_[d.id] = why;
    std::lock_guard lk(regen_mu_);
    regen_failures_[d.id] = st.message();
    return false;
}

Result<std::vector<Decision>> Sweeper::sweep(const Policy& policy, int64_t now_ns, bool dry_run) {
    auto log = logger("policy");
    auto traces = catalog_.traces();
    if (!traces) return traces.status();
    auto held = held_dirs(catalog_);
    if (!held) return held.status();
    std::vector<TraceFacts> facts;
    for (const auto& t : *traces) facts.push_back(facts_of(t, under_held_dir(t.path, *held)));
    auto decisions = decide(policy, facts, now_ns);
    if (dry_run) return decisions;
    for (const auto& d : decisions) {
        switch (d.action) {
            case Action::kExpireRaw:
                if (!regenerates(d)) continue;
                if (in_use_ && in_use_(d.id)) {
                    const std::string why = "raw expires once its open readers close it";
                    if (last_blocked_[d.id] != why) log->info("{}: {}", printable(d.path), why);
                    last_blocked_[d.id] = why;
                    continue;
                }
                // expire_raw re-checks invariant 2 inside its transaction; the file goes only after.
                if (auto st = catalog_.expire_raw(d.id, now_ns); !st) {
                    log->warn("raw of {} kept: {}", printable(d.path), printable(st.message()));
                    continue;
                }
                ::unlink(layout_.raw_path(d.id).c_str());
                log->info("expired raw of {}: {}", printable(d.path), printable(d.reason));
                break;
            case Action::kDropTrace:
                if (auto st = catalog_.delete_trace(d.id); !st) {
                    log->error("could not drop {}: {}", printable(d.path), printable(st.message()));
                    if (events_) events_->add(d.path + ": " + st.message());
                    continue;
                }
                ::unlink(layout_.raw_path(d.id).c_str());
                log->info("dropped {} from the archive: {}", printable(d.path), printable(d.reason));
                break;
            case Action::kBlocked:
                if (last_blocked_[d.id] != d.reason) {
                    last_blocked_[d.id] = d.reason;
                    log->info("{}: {}", d.path.empty() ? "volume" : printable(d.path), printable(d.reason));
                }
                break;
        }
    }
    return decisions;
}

}  // namespace dgc::fs
