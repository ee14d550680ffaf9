#include "fs/job_order.h"

#include <algorithm>
#include <optional>

namespace dgc::fs {

JobStep next_job_step(std::span<const QueuedJob> jobs, bool keyframe_committing, bool room, bool idle_room) {
    // Until a job's parent is chosen, whether it adds a keyframe is open, and the library is
    // not settled for the jobs after it.
    bool settled = !keyframe_committing;
    std::optional<size_t> pick, frontier, analyse;
    uint64_t open_largest = 0;  // planned size of the largest open job from the frontier on
    for (size_t i = 0; i < jobs.size(); ++i) {
        const QueuedJob& j = jobs[i];
        if (j.skipped) continue;
        if (j.claimed) {
            if (!j.claimed_adds_no_keyframe) settled = false;
            continue;
        }
        if (j.chosen) {
            // Chosen only where settled, so a keyframe is the first open job: it goes first.
            if (j.chosen_keyframe) return {JobStep::kClaim, i};
            const bool overdue = j.passed_over >= kMaxPassedOver;
            if (!pick || (overdue && jobs[*pick].passed_over < kMaxPassedOver) ||
                (!overdue && jobs[*pick].passed_over < kMaxPassedOver && j.packets > jobs[*pick].packets))
                pick = i;
            continue;
        }
        if (frontier) open_largest = std::max(open_largest, j.planned);
        if (settled) {
            settled = false;
            if (j.busy) continue;
            if (j.prepared) return {JobStep::kPrepare, i, true};
            if (j.direct) return {JobStep::kClaim, i};
            if (room) return {JobStep::kPrepare, i, true};
            frontier = i;
            open_largest = j.planned;
            continue;
        }
        if (!analyse && idle_room && !j.busy && !j.prepared && !j.direct) analyse = i;
    }
    // Every open job waits for the frontier's choice: one at least twice the largest chosen
    // chunk is where the largest-first order matters (the changing bench-ingest capture's
    // SYN-flood hours; chunks of a steady link differ by a few percent), so the frontier is
    // prepared past the packet bound. The count bound still holds.
    if (frontier && pick && idle_room && open_largest >= 2 * jobs[*pick].packets)
        return {JobStep::kPrepare, *frontier, true};
    if (analyse) return {JobStep::kPrepare, *analyse, false};
    if (pick) return {JobStep::kClaim, *pick};
    if (frontier) return {JobStep::kClaim, *frontier};
    return {};
}

}  // namespace dgc::fs
