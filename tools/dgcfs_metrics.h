// dgcfs --metrics-file: Prometheus metrics for node_exporter's textfile collector, from the
// report `dgcctl status --json` gives. A child process writes them: the catalog may be
// opened only once per process (LMDB), and the serving daemon holds it.
#pragma once

#include <string>
#include <sys/types.h>

#include "codec/status.h"

namespace dgc::tools {

struct MetricsOptions {
    std::string store, file;
    double interval_s = 15;
};

// The directory of `file` takes new files (the rename is atomic only within it).
Status check_metrics_file(const std::string& file);

// Starts the writer (this executable in its hidden --write-metrics mode) for the serving
// daemon; stop_metrics_writer ends it after a last write that says the daemon is down.
pid_t start_metrics_writer(const MetricsOptions& o);
void stop_metrics_writer(pid_t writer);

// The writer's loop: rewrites `file` every interval until SIGTERM or until `parent` exits.
int run_metrics_writer(const MetricsOptions& o, pid_t parent);

}  // namespace dgc::tools
