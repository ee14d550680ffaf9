// Transient faults (a full disk, EIO, an LMDB map that cannot grow) are retried with
// backoff and never become a trace's permanent verdict; only what the data itself is
// (an invalid capture, a link type the codec cannot parse) may make it unmodelable.
#pragma once

#include <cstdint>
#include <string>

#include "codec/status.h"

namespace dgc::fs {

struct Backoff {
    int64_t base_ms = 1000;  // wait after the first failure
    int64_t cap_ms = 60000;  // no wait grows past this
    int max_attempts = 10;   // failures before a job waits for the next mount
};

// Milliseconds to wait after `failures` consecutive failures (>= 1): base doubling, capped.
int64_t backoff_ms(const Backoff& b, int failures);

// True when `st` is a fault of the store's disk or catalog rather than of the data.
bool transient(const Status& st);

// True when an unmodelable reason written by an older build names a fault of the disk or
// catalog (strerror's EIO or ENOSPC text, LMDB's map or commit errors, a training scratch
// file left empty by a full disk) rather than the data.
bool io_fault_reason(const std::string& reason);

// The errno a caller should see for a failed store operation: ENOSPC (or EDQUOT) when the
// disk is full, so a writer's close() says so; EIO otherwise. Status carries no errno, but
// every I/O message ends with strerror's text.
int errno_of(const Status& st);

}  // namespace dgc::fs
