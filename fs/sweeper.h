// Applies the policy's decisions to the store: expire raw segments, drop traces whose
// model TTL ran out, and log every decision (including the ones invariant 2 blocks).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fs/catalog.h"
#include "fs/events.h"
#include "fs/policy.h"
#include "fs/store_layout.h"

namespace dgc::fs {

TraceFacts facts_of(const TraceRow& t);

class Sweeper {
public:
    Sweeper(Catalog& catalog, StoreLayout layout, RecentEvents* events)
        : catalog_(catalog), layout_(std::move(layout)), events_(events) {}
    // dry_run: decide and return, change nothing (dgcctl expire --dry-run).
    Result<std::vector<Decision>> sweep(const Policy& policy, int64_t now_ns, bool dry_run);

private:
    Catalog& catalog_;
    StoreLayout layout_;
    RecentEvents* events_;
    std::map<uint64_t, std::string> last_blocked_;  // log a blocked trace once per reason
};

}  // namespace dgc::fs
