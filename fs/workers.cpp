#include "fs/workers.h"
#include "fs/names.h"

#include <unistd.h>

#include <chrono>

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

void WorkerPool::wake() { cv_.notify_all(); }

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

bool WorkerPool::claim(JobRow& job) {
    auto jobs = catalog_.jobs();
    if (!jobs) {
        logger("fs")->error("job queue unreadable: {}", jobs.status().message());
        return false;
    }
    std::lock_guard lk(mu_);
    for (const auto& j : *jobs) {
        if (claimed_.count({j.trace, j.chunk})) continue;
        claimed_.insert({j.trace, j.chunk});
        job = j;
        return true;
    }
    return false;
}

void WorkerPool::run(int slot) {
    for (;;) {
        {
            std::unique_lock lk(mu_);
            if (stopping_) return;
        }
        JobRow job;
        if (!claim(job)) {
            std::unique_lock lk(mu_);
            cv_.wait_for(lk, std::chrono::seconds(1), [&] { return stopping_; });
            continue;
        }
        process(slot, job);
        std::lock_guard lk(mu_);
        claimed_.erase({job.trace, job.chunk});
        progress_.erase(slot);
    }
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
        FILE* out = std::fopen(scratch.c_str(), "wb");
        if (!out) return Status::io(scratch + ": cannot create scratch copy for training");
        std::string buf(1 << 20, '\0');
        for (uint64_t off = 0; off < reader->size();) {
            auto n = reader->read(off, buf);
            if (!n || *n == 0) {
                std::fclose(out);
                ::unlink(scratch.c_str());
                return n ? Status::corrupt(t.path + ": raw segment shorter than its index") : n.status();
            }
            std::fwrite(buf.data(), 1, *n, out);
            off += *n;
        }
        std::fclose(out);
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
    if (!tr || !tr->has_value()) return;  // deleted meanwhile; its jobs went with it
    const TraceRow t = **tr;
    {
        std::lock_guard lk(mu_);
        progress_[slot] = WorkerProgress{t.id, t.path, job.chunk, t.chunks, 0, wall_clock_ns()};
    }
    auto fail = [&](const std::string& why) {
        const std::string reason = "chunk " + std::to_string(job.chunk) + ": " + why;
        log->error("training {} failed, raw kept: {}", printable(t.path), printable(reason));
        events_.add(t.path + ": " + reason);
        (void)catalog_.mark_unmodelable(t.id, reason);
    };
    std::vector<ChunkRow> chunks;
    if (auto st = catalog_.env().read([&](Txn& x) { chunks = get_chunks(x, t.id); }); !st) return fail(st.message());
    if (job.chunk >= chunks.size()) return fail("chunk row missing");
    const ChunkRow& row = chunks[job.chunk];
    auto recs = chunk_records(slot, t, row);
    if (!recs) return fail(recs.status().message());
    std::span<const PacketRecord> span(*recs);

    PcapFormat fmt;
    fmt.linktype = t.out_linktype;
    fmt.nanosecond = t.nanosecond;
    trainer::TrainOptions opts;
    opts.device = opts_.device;
    opts.steps = opts_.train_steps ? opts_.train_steps() : 0;
    opts.progress = [this, slot](double f) {
        std::lock_guard lk(mu_);
        if (auto it = progress_.find(slot); it != progress_.end()) it->second.fraction = f;
    };
    auto lib = library_.snapshot();
    log->info("training {} chunk {}/{} ({} packets)", printable(t.path), job.chunk + 1, t.chunks, row.count);
    auto model = trainer::train_chunk(fmt, span, *lib, opts);
    if (!model) return fail(model.status().message());

    ModelCommit mc;
    mc.trace = t.id;
    mc.chunk = job.chunk;
    mc.blob = model->blob;
    if (model->parent_id.empty()) mc.keyframe_id = "t" + std::to_string(t.id) + "c" + std::to_string(job.chunk);
    mc.row = row;
    mc.row.done = true;
    mc.row.packets = model->packets;
    mc.row.synth_bytes = model->synth_bytes;
    mc.row.model_bytes = model->blob.size();
    mc.row.fidelity = model->fidelity;
    mc.row.joint = model->joint;
    mc.row.train_seconds = model->train_seconds;
    mc.row.parent_id = model->parent_id;
    if (auto st = catalog_.commit_model(mc); !st) return fail(st.message());
    if (!mc.keyframe_id.empty()) library_.add(mc.keyframe_id, mc.blob);
    log->info("modelled {} chunk {}/{}: {} bytes of model ({}), mean JSD {:.4f}, {:.1f} s", printable(t.path),
              job.chunk + 1, t.chunks, mc.blob.size(),
              model->parent_id.empty() ? std::string("keyframe") : "delta of " + model->parent_id, model->fidelity,
              model->train_seconds);
    if (opts_.on_committed) opts_.on_committed(t.id);
}

}  // namespace dgc::fs
