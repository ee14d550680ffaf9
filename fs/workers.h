// Training workers: take jobs from the persistent LMDB queue, train each chunk with the
// trainer pipeline, commit the model (keyframes also into the library). A job leaves
// the queue only in the transaction that commits its model, so a crash just re-runs it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codec/capture_reader.h"
#include "fs/catalog.h"
#include "fs/events.h"
#include "fs/job_order.h"
#include "fs/library_holder.h"
#include "fs/retry.h"
#include "fs/store_layout.h"
#include "trainer/pipeline.h"

namespace dgc::fs {

struct WorkerProgress {
    uint64_t trace = 0;
    std::string path;
    uint32_t chunk = 0;
    uint32_t chunks = 0;
    double fraction = 0;
    int64_t started_ns = 0;
};

struct WorkerOptions {
    int workers = 2;
    trainer::Device device = trainer::Device::kAuto;
    std::function<int()> train_steps;  // read per job, so a policy reload applies
    std::function<double(const std::string& path)> bytes_per_packet;  // the storage knob for a trace, per job
    std::function<bool()> reuse;  // drift-aware reuse allowed (policy [training] reuse), per job
    std::function<std::optional<double>(const std::string& path)> max_jsd;  // the trace's fidelity gate, if any
    std::function<void(uint64_t trace, uint64_t packets)> on_committed;  // packets: the chunk's real ones
    Backoff retry;  // a job that fails on an I/O fault waits, then runs again
};

class WorkerPool {
public:
    WorkerPool(Catalog& catalog, StoreLayout layout, LibraryHolder& library, RecentEvents& events,
               WorkerOptions opts);
    ~WorkerPool();
    void start();
    // Lets running jobs finish and commit (their budget bounds the wait), then joins.
    void stop();
    void wake();  // new jobs were queued
    std::vector<WorkerProgress> progress() const;
    bool training(uint64_t trace) const;

private:
    // What a free worker does next (job_order.h); the claim or the preparation is recorded
    // before mu_ is released.
    struct Work;
    Work next_work(const std::vector<JobRow>& jobs);  // jobs: the queue, in order
    void run(int slot);
    // Reads and analyses the chunk unless it is prepared, and chooses its parent if asked.
    void prepare(int slot, Work& w);
    void wake_locked();  // mu_ held
    void process(int slot, const JobRow& job);
    // An I/O fault: the job stays queued and runs again after a backoff (or after the next
    // mount once its attempts are spent); the trace's other chunks go on meanwhile.
    void retry_later(const TraceRow& t, const JobRow& job, const Status& why);
    Result<std::unique_ptr<CaptureReader>> open_trace(const TraceRow& t, int slot);
    Result<std::vector<PacketRecord>> chunk_records(int slot, const TraceRow& t, const ChunkRow& row);

    Catalog& catalog_;
    StoreLayout layout_;
    LibraryHolder& library_;
    RecentEvents& events_;
    WorkerOptions opts_;
    std::vector<std::thread> threads_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    using JobKey = std::pair<uint64_t, uint32_t>;  // trace, chunk
    // Claimed jobs, and whether each is known to add nothing to the library (its parent is
    // chosen and it trains no keyframe). Until then, later jobs choose no parent.
    std::map<JobKey, bool> claimed_;
    uint64_t wakes_ = 0;  // bumped whenever a waiting worker may now claim a job
    struct RetryState {
        int failures = 0;
        int64_t next_ns = 0;
    };
    std::map<JobKey, RetryState> retries_;  // jobs that hit an I/O fault
    std::map<int, WorkerProgress> progress_;
    // Chunks prepared ahead, by job; nullptr while a worker prepares one or chooses its
    // parent. Bounded by count, and while parents can be chosen by packets too: each holds
    // its records and analysis (~10 MB for 36K packets), a chunk can be an hour of a busy
    // link, and the largest chosen chunks train first (two of them at once).
    struct Prepared {
        std::string path;  // the trace's, and its chunk count: for the log
        uint32_t chunks = 0;
        std::vector<PacketRecord> records;
        trainer::ChunkAnalysis analysis;
    };
    static constexpr size_t kPreparedPerWorker = 4;
    static constexpr uint64_t kPreparedPackets = 60'000;
    static constexpr size_t kPlannedLookahead = 64;  // queued jobs whose chunk sizes next_work() reads
    std::map<JobKey, std::shared_ptr<Prepared>> prepared_;
    std::set<JobKey> direct_;  // chunks whose preparation failed: claimed as they are, and the job reports why
    std::map<JobKey, uint32_t> passed_over_;  // chosen chunks, how often another was claimed first
    struct Work {
        JobStep::Kind kind = JobStep::kWait;
        JobRow job;
        std::shared_ptr<Prepared> prepared;  // kPrepare: the chunk's analysis if held
        bool choose = false;
    };
    // Per worker, a reader over its last trace's records: chunks are read in queue order,
    // so one pass over the raw bytes serves all the chunks a worker gets, and memory holds
    // one chunk, not the trace. A chunk behind the cursor starts a new pass.
    struct TraceCursor {
        uint64_t trace = 0;
        std::unique_ptr<CaptureReader> reader;
        uint64_t next = 0;  // index of the record reader->next() returns
    };
    std::vector<TraceCursor> cursors_;  // by slot; each touched only by its own worker
};

}  // namespace dgc::fs
