// Which queued chunk a free training worker takes on next, as a pure function of what each
// queued job's state is (unit-tested without a store).
//
// Two rules keep the models the same whatever --workers and whatever the timing: a chunk
// chooses its parent only once every chunk before it in the queue is known to add no
// keyframe to the library, and a chunk that will train a keyframe is claimed before anything
// after it. Within that, a worker prepares chunks ahead (reads and analyses them, and
// chooses their parents where the library is settled for them) and claims the largest
// chunk whose parent is chosen, so that a long chunk late in the queue does not run alone
// while the other workers have nothing left (the changing bench-ingest capture's SYN-flood
// hours).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dgc::fs {

struct QueuedJob {
    bool skipped = false;   // waiting out an I/O fault's backoff, or out of attempts
    bool direct = false;    // claimed without preparing (a retry, or its preparation failed)
    bool claimed = false;   // a worker runs it
    bool claimed_adds_no_keyframe = false;  // claimed, and its parent is chosen: it trains no keyframe
    bool busy = false;      // a worker is preparing it or choosing its parent
    bool prepared = false;  // read and analysed ahead
    bool chosen = false;    // prepared, and its parent chosen ahead
    bool chosen_keyframe = false;  // chosen: it will train a new keyframe
    uint64_t packets = 0;   // of a prepared chunk
    uint64_t planned = 0;   // the chunk's packets as the catalog plans it (0: not looked up)
    uint32_t passed_over = 0;  // chosen, and other chunks were claimed before it this many times
};

// A chosen chunk passed over this often is claimed next, largest or not: a stream of larger
// chunks never holds a small one back for long.
inline constexpr uint32_t kMaxPassedOver = 8;

struct JobStep {
    enum Kind { kWait, kClaim, kPrepare } kind = kWait;
    size_t index = 0;     // into the queue
    bool choose = false;  // kPrepare: also choose the parent (analysing first unless prepared)
    bool operator==(const JobStep&) const = default;
};

// `jobs`: the queue in order. `keyframe_committing`: a claimed job whose keyframe is being
// committed has left the queue but not yet reached the library. `room`: another chunk may be
// prepared and given its parent (the held ones are under their count and packet bounds).
// `idle_room`: another may be analysed while no parent can be chosen (under the count bound
// alone: the worker would idle otherwise, and a keyframe's training is long). Where a chunk
// still open (by its planned size) is at least twice every chosen one, the first open chunk is
// prepared and given its parent past `room` (not past the count bound): the larger one's
// choice waits for it, and it is the one the largest-first order must not leave to the end.
JobStep next_job_step(std::span<const QueuedJob> jobs, bool keyframe_committing, bool room, bool idle_room);

}  // namespace dgc::fs
