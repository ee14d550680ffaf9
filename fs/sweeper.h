// Applies the policy's decisions to the store: expire raw segments, drop traces whose
// model TTL ran out, and log every decision (including the ones invariant 2 blocks).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <string>
#include <vector>

#include "fs/catalog.h"
#include "fs/events.h"
#include "fs/policy.h"
#include "fs/store_layout.h"

namespace dgc::fs {

// `dir_hold`: a directory above the trace has a legal hold (held_dirs / under_held_dir).
TraceFacts facts_of(const TraceRow& t, bool dir_hold = false);

// Directories with a legal hold set by xattr; such a hold covers the directory's subtree.
Result<std::set<std::string>> held_dirs(const Catalog& catalog);
// Is `path` one of `held` or below one of them?
bool under_held_dir(std::string_view path, const std::set<std::string>& held);

class Sweeper {
public:
    // `in_use(id)`: a reader holds the trace's raw segment open. Its expiry waits for the
    // last reader to close (the file stays, like a busy file), so no stream is cut short.
    // `regenerates(id)`: "modelled" must mean "regenerates": every chunk of the trace decodes
    // and generates with this build, to the size the catalog promises. Checked once before
    // raw may go; a trace that fails keeps its raw and says why (regen_failure).
    Sweeper(Catalog& catalog, StoreLayout layout, RecentEvents* events,
            std::function<bool(uint64_t)> in_use = nullptr, std::function<Status(uint64_t)> regenerates = nullptr)
        : catalog_(catalog),
          layout_(std::move(layout)),
          events_(events),
          in_use_(std::move(in_use)),
          regenerates_(std::move(regenerates)) {}
    // Why the trace's models did not regenerate when raw was due to expire, or "".
    std::string regen_failure(uint64_t id) const;
    // dry_run: decide and return, change nothing (dgcctl expire --dry-run).
    Result<std::vector<Decision>> sweep(const Policy& policy, int64_t now_ns, bool dry_run);

private:
    bool regenerates(const Decision& d);  // logs and records a failure
    Catalog& catalog_;
    StoreLayout layout_;
    RecentEvents* events_;
    std::function<bool(uint64_t)> in_use_;
    std::function<Status(uint64_t)> regenerates_;
    std::set<uint64_t> regenerated_;  // checked: raw may go
    mutable std::mutex regen_mu_;
    std::map<uint64_t, std::string> regen_failures_;
    std::map<uint64_t, std::string> last_blocked_;  // log a blocked trace once per reason
};

}  // namespace dgc::fs
