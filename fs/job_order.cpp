#include "fs/job_order.h"

#include <optional>

namespace dgc::fs {

JobStep next_job_step(std::span<const QueuedJob> jobs, bool keyframe_committing, bool room, bool idle_room) {
    // Until a job's parent is chosen, whether it adds a keyframe is open, and the library is
    // not settled for the jobs after it.
    bool settled = !keyframe_committing;
    std::optional<size_t> pick, frontier, analyse;
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
        if (settled) {
            settled = false;
            if (j.busy) continue;
            if (j.prepared) return {JobStep::kPrepare, i, true};
            if (j.direct) return {JobStep::kClaim, i};
            if (room) return {JobStep::kPrepare, i, true};
            frontier = i;
            continue;
        }
        if (!analyse && idle_room && !j.busy && !j.prepared && !j.direct) analyse = i;
    }
    if (analyse) return {JobStep::kPrepare, *analyse, false};
    if (pick) return {JobStep::kClaim, *pick};
    if (frontier) return {JobStep::kClaim, *frontier};
    return {};
}

}  // namespace dgc::fs
