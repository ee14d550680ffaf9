#include "fs/workers.h"
#include "fs/names.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include "codec/log.h"
#include "fs/clock.h"
#include "codec/raw_segment.h"

namespace dgc::fs {

WorkerPool::WorkerPool(Catalog& catalog, StoreLayout layout, LibraryHolder& library, RecentEvents& events,
                       WorkerOptions opts)
    : catalog_(catalog), layout_(std::move(layout)), library_(library), events_(events), opts_(std::move(opts)) {}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
    cursors_.resize(static_cast<size_t>(std::max(1, opts_.workers)));
    for (int i = 0; i < std::max(1, opts_.workers); ++i) threads_.emplace_back([this, i] { run(i); });
}

void WorkerPool::stop() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void WorkerPool::wake() {
    std::lock_guard lk(mu_);
    wake_locked();
}

void WorkerPool::wake_locked() {
    ++wakes_;
    cv_.notify_all();
}

std::vector<WorkerProgress> WorkerPool::progress() const {
    std::lock_guard lk(mu_);
    std::vector<WorkerProgress> out;
    for (auto& [slot, p] : progress_) out.push_back(p);
    return out;
}

bool WorkerPool::training(uint64_t trace) const {
    std::lock_guard lk(mu_);
    for (auto& [slot, p] : progress_)
        if (p.trace == trace) return true;
    return false;
}

WorkerPool::Work WorkerPool::next_work(const std::vector<JobRow>& jobs) {
    const int64_t now = wall_clock_ns();
    // The planned sizes of the chunks at the queue's head, where the next to prepare is.
    std::map<JobKey, uint64_t> planned;
    (void)catalog_.env().read([&](Txn& x) {
        std::set<uint64_t> traces;
        for (size_t i = 0; i < std::min<size_t>(jobs.size(), kPlannedLookahead); ++i)
            if (traces.insert(jobs[i].trace).second) {
                const auto rows = get_chunks(x, jobs[i].trace);  // by chunk index, as process() reads them
                for (uint32_t c = 0; c < rows.size(); ++c) planned[{jobs[i].trace, c}] = rows[c].count;
            }
    });
    std::lock_guard lk(mu_);
    std::set<JobKey> queued;
    for (const auto& j : jobs) queued.insert({j.trace, j.chunk});
    // What a deleted trace's jobs left behind goes (a chunk being prepared: when it is put back).
    std::erase_if(prepared_, [&](const auto& p) { return p.second && !queued.count(p.first); });
    std::erase_if(direct_, [&](const JobKey& k) { return !queued.count(k); });
    std::erase_if(passed_over_, [&](const auto& p) { return !queued.count(p.first); });
    const bool committing =
        std::any_of(claimed_.begin(), claimed_.end(), [&](const auto& c) { return !c.second && !queued.count(c.first); });
    uint64_t held_packets = 0;
    std::vector<QueuedJob> states(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
        const JobKey k{jobs[i].trace, jobs[i].chunk};
        QueuedJob& q = states[i];
        if (auto r = retries_.find(k); r != retries_.end()) {
            q.skipped = r->second.failures >= opts_.retry.max_attempts || r->second.next_ns > now;
            q.direct = true;
        }
        q.direct = q.direct || direct_.count(k);
        if (auto c = claimed_.find(k); c != claimed_.end()) q.claimed = true, q.claimed_adds_no_keyframe = c->second;
        if (auto p = prepared_.find(k); p != prepared_.end()) {
            q.busy = !p->second;
            if (p->second) {
                const auto& parent = p->second->analysis.parent;
                q.prepared = true;
                q.chosen = parent.has_value();
                q.chosen_keyframe = parent && parent->keyframe();
                q.packets = p->second->records.size();
                held_packets += q.packets;
            }
        }
        if (auto o = passed_over_.find(k); o != passed_over_.end()) q.passed_over = o->second;
        if (auto c = planned.find(k); c != planned.end()) q.planned = c->second;
    }
    const bool idle_room = prepared_.size() < kPreparedPerWorker * cursors_.size();
    const JobStep step = next_job_step(states, committing, idle_room && held_packets < kPreparedPackets, idle_room);
    Work w{step.kind, step.kind == JobStep::kWait ? JobRow{} : jobs[step.index], nullptr, step.choose};
    const JobKey key{w.job.trace, w.job.chunk};
    if (step.kind == JobStep::kClaim) {
        const QueuedJob& q = states[step.index];
        claimed_[key] = q.chosen && !q.chosen_keyframe;
        direct_.erase(key);
        passed_over_.erase(key);
        for (size_t i = 0; i < jobs.size(); ++i)
            if (i != step.index && q.chosen && states[i].chosen && !states[i].claimed)
                ++passed_over_[{jobs[i].trace, jobs[i].chunk}];
    } else if (step.kind == JobStep::kPrepare) {
        w.prepared = std::move(prepared_[key]);  // the entry stays, empty: busy
    }
    return w;
}

void WorkerPool::run(int slot) {
    for (;;) {
        uint64_t seen = 0;
        {
            std::unique_lock lk(mu_);
            if (stopping_) return;
            seen = wakes_;
        }
        auto jobs = catalog_.jobs();
        if (!jobs) logger("fs")->error("job queue unreadable: {}", jobs.status().message());
        Work w = jobs ? next_work(*jobs) : Work{};
        if (w.kind == JobStep::kPrepare) {
            prepare(slot, w);
            ::malloc_trim(0);  // the analysis's scratch, as after a job
            continue;
        }
        if (w.kind == JobStep::kWait) {
            // Woken at once by new jobs or a job that stops holding the others back; the
            // timeout catches retries whose backoff has run out.
            std::unique_lock lk(mu_);
            cv_.wait_for(lk, std::chrono::seconds(1), [&] { return stopping_ || wakes_ != seen; });
            continue;
        }
        process(slot, w.job);
        // A chunk's encoding, training and reuse check free hundreds of MB that glibc keeps
        // in the heap; hand them back so the daemon's footprint between jobs is its own.
        ::malloc_trim(0);
        std::lock_guard lk(mu_);
        claimed_.erase({w.job.trace, w.job.chunk});
        progress_.erase(slot);
        wake_locked();
    }
}

void WorkerPool::prepare(int slot, Work& w) {
    const JobKey key{w.job.trace, w.job.chunk};
    const bool reuse = !opts_.reuse || opts_.reuse();
    // Whatever goes wrong here goes wrong again when the job runs, which reports it.
    auto analysed = [&]() -> std::shared_ptr<Prepared> {
        auto tr = catalog_.trace(key.first);
        if (!tr || !tr->has_value()) return nullptr;
        const TraceRow& t = **tr;
        std::vector<ChunkRow> chunks;
        if (!catalog_.env().read([&](Txn& x) { chunks = get_chunks(x, t.id); }) || key.second >= chunks.size())
            return nullptr;
        auto recs = chunk_records(slot, t, chunks[key.second]);
        if (!recs) return nullptr;
        // Prepared while the library is not settled for it (a keyframe trains), the worker
        // would idle otherwise: the reuse baseline too, wherever a reuse may be tried. Else
        // only once its parent shows one will be (below).
        auto analysis = trainer::analyze_chunk(*recs, t.out_linktype,
                                               !w.choose && reuse && trainer::reuse_considered(recs->size()));
        logger("fs")->debug("prepared {} chunk {}/{} ahead ({} packets)", printable(t.path), key.second + 1, t.chunks,
                            recs->size());
        return std::make_shared<Prepared>(Prepared{t.path, t.chunks, std::move(*recs), std::move(analysis)});
    };
    std::shared_ptr<Prepared> p = w.prepared ? std::move(w.prepared) : analysed();
    if (p && w.choose) {
        // next_work() found every job before this one known to add no keyframe: the library
        // is the one this chunk's training would see.
        auto& a = p->analysis;
        a.parent = trainer::choose_parent(a.enc, *library_.snapshot(), trainer::TrainOptions{}.seed);
        logger("fs")->debug("chose the parent of {} chunk {}/{} ahead: {}", printable(p->path), key.second + 1,
                            p->chunks, a.parent->keyframe() ? "none, a new keyframe" : a.parent->id);
        // The reuse check's baseline, here rather than on the training worker, where one is tried.
        if (!a.baseline && trainer::reuse_tried(*a.parent, p->records.size(), reuse))
            a.baseline = trainer::reuse_baseline(p->records);
    }
    std::lock_guard lk(mu_);
    if (p) {
        prepared_[key] = std::move(p);
    } else {
        prepared_.erase(key);
        direct_.insert(key);
    }
    wake_locked();  // a worker waiting for this chunk's parent
}

Result<std::unique_ptr<CaptureReader>> WorkerPool::open_trace(const TraceRow& t, int slot) {
    // The raw segment is the only copy after ingest: expand it to a scratch file the reader can parse.
    auto enc = catalog_.frame_index(t.id);
    if (!enc) return enc.status();
    auto index = decode_frame_index(*enc);
    if (!index) return index.status();
    auto reader = RawSegmentReader::open(layout_.raw_path(t.id), *index);
    if (!reader) return reader.status();
    const std::string scratch =
        layout_.staging_dir() + "/train-" + std::to_string(t.id) + "-" + std::to_string(slot) + ".pcap";
    {
        // Every write is checked: a full disk must fail the job as an I/O fault, not leave
        // a short scratch copy that would read as an invalid capture.
        int out = ::open(scratch.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0) return Status::io(scratch + ": cannot create scratch copy for training: " + std::strerror(errno));
        auto failed = [&](Status st) {
            ::close(out);
            ::unlink(scratch.c_str());
            return st;
        };
        std::string buf(1 << 20, '\0');
        for (uint64_t off = 0; off < reader->size();) {
            auto n = reader->read(off, buf);
            if (!n || *n == 0)
                return failed(n ? Status::corrupt(t.path + ": raw segment shorter than its index") : n.status());
            for (size_t done = 0; done < *n;) {
                ssize_t w = ::write(out, buf.data() + done, *n - done);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) return failed(Status::io(scratch + ": write failed: " + std::strerror(errno)));
                done += static_cast<size_t>(w);
            }
            off += *n;
        }
        if (::close(out) != 0) {
            const int e = errno;
            ::unlink(scratch.c_str());
            return Status::io(scratch + ": close failed: " + std::strerror(e));
        }
    }
    // The reader maps the file: unlinked now, its blocks are freed when the reader goes.
    auto records = CaptureReader::open(scratch);
    ::unlink(scratch.c_str());
    return records;
}

Result<std::vector<PacketRecord>> WorkerPool::chunk_records(int slot, const TraceRow& t, const ChunkRow& row) {
    TraceCursor& cur = cursors_[static_cast<size_t>(slot)];
    if (!cur.reader || cur.trace != t.id || cur.next > row.first) {
        cur = {};
        auto r = open_trace(t, slot);
        if (!r) return r.status();
        cur.reader = std::move(r.value());
        cur.trace = t.id;
    }
    std::vector<PacketRecord> out;
    out.reserve(row.count);
    PacketRecord rec;
    while (cur.next < row.first + row.count) {
        auto more = cur.reader->next(rec);
        if (!more || !*more) {
            cur = {};
            return Status::corrupt(t.path + ": chunk " + std::to_string(row.index) + " ends past the records " +
                                   "the raw segment holds" + (more ? std::string() : ": " + more.status().message()));
        }
        if (cur.next++ >= row.first) out.push_back(rec);
    }
    if (cur.next >= t.packets) cur = {};  // the trace is done: free the scratch copy
    return out;
}

void WorkerPool::process(int slot, const JobRow& job) {
    auto log = logger("fs");
    auto tr = catalog_.trace(job.trace);
    if (!tr) {
        TraceRow unknown;
        unknown.id = job.trace;
        return retry_later(unknown, job, tr.status());
    }
    if (!tr->has_value()) return;  // deleted meanwhile; its jobs went with it
    const TraceRow t = **tr;
    {
        std::lock_guard lk(mu_);
        progress_[slot] = WorkerProgress{t.id, t.path, job.chunk, t.chunks, 0, wall_clock_ns()};
    }
    auto fail = [&](const Status& st) {
        if (transient(st)) return retry_later(t, job, st);
        const std::string reason = "chunk " + std::to_string(job.chunk) + ": " + st.message();
        log->error("training {} failed, raw kept: {}", printable(t.path), printable(reason));
        events_.add(t.path + ": " + reason);
        (void)catalog_.mark_unmodelable(t.id, reason);
    };
    std::vector<ChunkRow> chunks;
    if (auto st = catalog_.env().read([&](Txn& x) { chunks = get_chunks(x, t.id); }); !st) return fail(st);
    if (job.chunk >= chunks.size()) return fail(Status::corrupt("chunk row missing"));
    const ChunkRow& row = chunks[job.chunk];
    std::shared_ptr<Prepared> ahead;
    {
        std::lock_guard lk(mu_);
        if (auto p = prepared_.find({job.trace, job.chunk}); p != prepared_.end() && p->second) {
            ahead = std::move(p->second);
            prepared_.erase(p);
        }
    }
    Result<std::vector<PacketRecord>> recs = ahead ? std::move(ahead->records) : chunk_records(slot, t, row);
    if (!recs) return fail(recs.status());
    std::span<const PacketRecord> span(*recs);

    PcapFormat fmt;
    fmt.linktype = t.out_linktype;
    fmt.nanosecond = t.nanosecond;
    trainer::TrainOptions opts;
    opts.device = opts_.device;
    opts.steps = opts_.train_steps ? opts_.train_steps() : 0;
    if (opts_.bytes_per_packet) opts.bytes_per_packet = opts_.bytes_per_packet(t.path);
    if (opts_.reuse) opts.reuse = opts_.reuse();
    if (opts_.max_jsd) opts.max_jsd = opts_.max_jsd(t.path);
    opts.progress = [this, slot](double f) {
        std::lock_guard lk(mu_);
        if (auto it = progress_.find(slot); it != progress_.end()) it->second.fraction = f;
    };
    opts.on_parent_chosen = [this, &job](bool keyframe) {
        if (keyframe) return;
        std::lock_guard lk(mu_);
        claimed_[{job.trace, job.chunk}] = true;
        wake_locked();
    };
    auto lib = library_.snapshot();
    log->info("training {} chunk {}/{} ({} packets)", printable(t.path), job.chunk + 1, t.chunks, row.count);
    auto model = trainer::train_chunk(fmt, span, *lib, opts, ahead ? &ahead->analysis : nullptr);
    if (!model) return fail(model.status());

    ModelCommit mc;
    mc.trace = t.id;
    mc.chunk = job.chunk;
    mc.blob = model->blob;
    if (model->parent_id.empty()) mc.keyframe_id = keyframe_library_id(t.id, job.chunk);
    mc.row = row;
    mc.row.done = true;
    mc.row.packets = model->packets;
    mc.row.synth_bytes = model->synth_bytes;
    mc.row.model_bytes = model->blob.size();
    mc.row.fidelity = model->fidelity;
    mc.row.joint = model->joint;
    mc.row.train_seconds = model->train_seconds;
    mc.row.parent_id = model->parent_id;
    mc.row.decision = trainer::decision_name(model->decision);
    mc.row.why = model->why;
    // A commit that fails is the catalog's disk, never the data's fault.
    if (auto st = catalog_.commit_model(mc); !st) return retry_later(t, job, Status::io(st.message()));
    {
        std::lock_guard lk(mu_);
        retries_.erase({job.trace, job.chunk});
    }
    if (!mc.keyframe_id.empty()) library_.add(mc.keyframe_id, mc.blob);
    log->info("modelled {} chunk {}/{}: {} bytes of model, mean JSD {:.4f}, {:.1f} s; {}", printable(t.path),
              job.chunk + 1, t.chunks, mc.blob.size(), model->fidelity, model->train_seconds, model->why);
    if (opts_.on_committed) opts_.on_committed(t.id, row.count);
}

void WorkerPool::retry_later(const TraceRow& t, const JobRow& job, const Status& why) {
    int failures = 0;
    int64_t wait_ms = 0;
    {
        std::lock_guard lk(mu_);
        RetryState& r = retries_[{job.trace, job.chunk}];
        failures = ++r.failures;
        wait_ms = backoff_ms(opts_.retry, failures);
        r.next_ns = wall_clock_ns() + wait_ms * 1'000'000;
    }
    const std::string name = t.path.empty() ? "trace " + std::to_string(t.id) : printable(t.path);
    auto log = logger("fs");
    if (failures < opts_.retry.max_attempts) {
        log->warn("training {} chunk {} hit an I/O fault (attempt {}/{}), retrying in {:.1f} s: {}", name,
                  job.chunk + 1, failures, opts_.retry.max_attempts, double(wait_ms) / 1000, printable(why.message()));
        return;
    }
    log->error("training {} chunk {} hit an I/O fault {} times, the job stays queued for the next mount: {}", name,
               job.chunk + 1, failures, printable(why.message()));
    events_.add(t.path + ": chunk " + std::to_string(job.chunk) + " waits for the next mount: " + why.message());
}

}  // namespace dgc::fs
