// Volume lifecycle: opening the store, crash recovery, and the background threads.
#include "fs/volume.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "codec/log.h"
#include "fs/clock.h"
#include "fs/ingest.h"
#include "fs/names.h"
#include "fs/retry.h"
#include "trainer/trace_codec.h"

namespace dgc::fs {

Result<std::unique_ptr<Volume>> Volume::open(const VolumeOptions& opts) {
    std::unique_ptr<Volume> v(new Volume(opts));
    v->layout_.root = opts.store;
    for (const auto& d : {v->layout_.root, v->layout_.raw_dir(), v->layout_.staging_dir()}) {
        std::error_code ec;
        std::filesystem::create_directories(d, ec);
        if (ec) return Status::io(d + ": cannot create store directory: " + ec.message());
    }
    auto cat = Catalog::open(v->layout_.catalog_dir(), false);
    if (!cat) return cat.status();
    v->catalog_ = std::move(cat.value());
    if (!opts.policy_file.empty()) {
        auto p = load_policy(opts.policy_file);
        if (!p) return p.status();
        v->policy_ = std::make_shared<const Policy>(std::move(p.value()));
    } else {
        v->policy_ = std::make_shared<const Policy>();
    }
    v->staging_ = std::make_unique<StagingArea>(*v->catalog_, v->layout_, v->opts_.sync_on_close);
    v->archive_ = std::make_unique<ArchiveCache>(*v->catalog_, v->library_, opts.cache_bytes, opts.read_ahead);
    Volume* self = v.get();
    auto in_use = [self](uint64_t id) {
        std::lock_guard lk(self->raw_opens_mu_);
        return self->raw_opens_.count(id) > 0;
    };
    v->sweeper_ = std::make_unique<Sweeper>(*v->catalog_, v->layout_, &v->events_, in_use,
                                            [self](uint64_t id) { return self->regenerates(id); });
    WorkerOptions wo;
    wo.workers = opts.workers;
    wo.device = opts.device;
    wo.train_steps = [self] {
        return self->opts_.train_steps ? *self->opts_.train_steps : self->policy()->train_steps;
    };
    wo.bytes_per_packet = [self](const std::string& path) {
        auto p = self->policy();
        return p->bytes_per_packet_for(path, self->opts_.bytes_per_packet.value_or(p->bytes_per_packet));
    };
    wo.reuse = [self] { return self->policy()->reuse; };
    wo.max_jsd = [self](const std::string& path) { return self->policy()->effective(path).max_jsd; };
    wo.on_committed = [self](uint64_t, uint64_t packets) {
        self->throughput_.modelled(packets);
        self->sweep_requested_ = true;
        self->bg_cv_.notify_all();
    };
    v->workers_ = std::make_unique<WorkerPool>(*v->catalog_, v->layout_, v->library_, v->events_, wo);
    if (auto st = v->recover(); !st) return st;
    return v;
}

Volume::~Volume() {
    shutdown();
    archive_.reset();  // joins its read-ahead threads while the library they read is still here
}

Status Volume::recover() {
    auto log = logger("fs");
    auto rows = catalog_->staging_rows();
    if (!rows) return rows.status();
    std::set<std::string> keep;
    for (const auto& r : *rows) {
        if (!r.closed) {
            // Its writer never closed it: never half-accept (invariant 1 covers closed files only).
            log->warn("discarding {}: its writer had not closed it when the daemon stopped", printable(r.path));
            (void)catalog_->drop_staging(r.id);
            continue;
        }
        auto f = staging_->adopt(r);
        if (!f) {
            log->error("{}", printable(f.status().message()));
            events_.add(f.status().message());
            continue;
        }
        keep.insert(std::to_string(r.id));
        log->info("re-ingesting {} (closed before the daemon stopped)", printable(r.path));
    }
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(layout_.staging_dir(), ec))
        if (!keep.count(e.path().filename().string())) std::filesystem::remove(e.path(), ec);

    auto traces = catalog_->traces();
    if (!traces) return traces.status();
    std::set<std::string> live;
    for (const auto& t : *traces)
        if (t.raw_present) live.insert(std::to_string(t.id) + ".zst");
    for (const auto& e : std::filesystem::directory_iterator(layout_.raw_dir(), ec))
        if (!live.count(e.path().filename().string())) {
            log->info("removing orphan raw segment {}", e.path().string());
            std::filesystem::remove(e.path(), ec);
        }
    for (const auto& t : *traces)
        if (t.raw_present && ::access(layout_.raw_path(t.id).c_str(), R_OK) != 0) {
            log->error("raw segment of {} is missing: {}", printable(t.path), layout_.raw_path(t.id));
            events_.add(t.path + ": raw segment missing");
        }
    for (const auto& file : opts_.base_models) {
        std::vector<std::pair<std::string, std::string>> loaded;
        trainer::ModelLibrary scratch;
        if (auto st = trainer::load_base_model(file, scratch, &loaded); !st) return st;
        for (const auto& [id, blob] : loaded) {
            if (auto st = catalog_->add_base_model(id, blob); !st) return st;
            log->info("base model {} ({} bytes) in the library as {}", file, blob.size(), id);
        }
    }
    auto lib = catalog_->library();
    if (!lib) return lib.status();
    for (auto& [id, blob] : *lib) library_.add(id, std::move(blob));
    // Older builds made I/O faults permanent verdicts (issue 15): those traces train again.
    if (auto again = catalog_->requeue_unmodelable(io_fault_reason); again)
        for (const auto& p : *again) log->warn("{}: marked unmodelable by an I/O fault, not by its data; its chunks are queued again", p);
    auto jobs = catalog_->jobs();
    if (jobs && !jobs->empty()) log->info("{} training jobs resume from the queue", jobs->size());
    return {};
}

std::shared_ptr<const Policy> Volume::policy() const {
    std::lock_guard lk(policy_mu_);
    return policy_;
}

void Volume::reload_policy() {
    auto log = logger("policy");
    if (opts_.policy_file.empty()) {
        log->info("SIGHUP: no --policy file, built-in defaults stay");
        return;
    }
    auto p = load_policy(opts_.policy_file);
    if (!p) {
        log->error("policy reload failed, the previous policy stays: {}", printable(p.status().message()));
        events_.add(p.status().message());
        return;
    }
    {
        std::lock_guard lk(policy_mu_);
        policy_ = std::make_shared<const Policy>(std::move(p.value()));
    }
    log->info("policy reloaded from {}", opts_.policy_file);
    sweep_requested_ = true;
}

void Volume::start() {
    std::lock_guard lk(bg_mu_);
    if (started_) return;
    started_ = true;
    started_ns_ = wall_clock_ns();
    workers_->start();
    ingest_thread_ = std::thread([this] { ingest_loop(); });
    housekeeping_thread_ = std::thread([this] { housekeeping_loop(); });
}

void Volume::shutdown() {
    {
        std::lock_guard lk(bg_mu_);
        if (!started_ || stopping_) return;
        stopping_ = true;
    }
    auto log = logger("fs");
    log->info("shutting down: ingesting closed files, letting running training jobs commit");
    bg_cv_.notify_all();
    if (ingest_thread_.joinable()) ingest_thread_.join();
    // Files closed within the quiet period are accepted now rather than after the restart.
    for (auto& f : staging_->ready_for_ingest(INT64_MAX, 0)) run_ingest(f);
    workers_->stop();
    if (housekeeping_thread_.joinable()) housekeeping_thread_.join();
    write_status_file();
    log->info("stopped cleanly");
}

void Volume::ingest_loop() {
    for (;;) {
        {
            std::unique_lock lk(bg_mu_);
            bg_cv_.wait_for(lk, std::chrono::milliseconds(100), [&] { return stopping_; });
            if (stopping_) return;
        }
        staging_->retry_unlinks();
        const int64_t quiet = policy()->quiet_ms * 1'000'000;
        for (auto& f : staging_->ready_for_ingest(wall_clock_ns(), quiet)) run_ingest(f);
    }
}

void Volume::run_ingest(const std::shared_ptr<StagingFile>& f) {
    IngestRequest req;
    struct stat st {};
    (void)f->catch_up_direct_writes(st);
    {
        std::lock_guard lk(f->mu);
        if (f->opens > 0 || f->gone || f->ingesting) return;
        f->ingesting = true;
        req.staging_id = f->id;
        req.path = f->path;
        req.mode = f->mode;
        req.mtime_ns = f->mtime_ns;
        req.uid = f->uid;
        req.gid = f->gid;
    }
    auto pol = policy();
    req.chunk_seconds = pol->chunk_seconds;
    req.chunk_packets = pol->chunk_packets;
    std::optional<uint64_t> replaced;
    if (auto old = catalog_->trace_at(req.path); old && old->has_value()) {
        replaced = (*old)->id;
        if (keep_unchanged(f, req, **old)) return;
    }
    auto out = ingest_staging(*catalog_, layout_, req, [&] {
        std::lock_guard lk(f->mu);
        return !f->gone;
    });
    // A closed file is never given up on: it waits in staging, retried ever less often.
    const int failures = out ? 0 : ++ingest_failures_[f->id];
    const int64_t wait_ms = out ? 0 : backoff_ms(Backoff{1000, 30000, 0}, failures);
    {
        std::lock_guard lk(f->mu);
        f->ingesting = false;
        if (!out && !f->gone) f->last_release_ns = wall_clock_ns() + wait_ms * 1'000'000;
    }
    if (!out) {
        if (out.status().code() != Status::Code::kNotFound) {
            logger("ingest")->error("ingest of {} failed (attempt {}), staging kept, retrying in {:.1f} s: {}",
                                    printable(req.path), failures, double(wait_ms) / 1000,
                                    printable(out.status().message()));
            events_.add(req.path + ": " + out.status().message());
        }
        return;
    }
    ingest_failures_.erase(f->id);
    staging_->forget(f);
    if (auto t = catalog_->trace(out->trace); t && *t) throughput_.accepted((*t)->packets, (*t)->raw_size);
    if (replaced && *replaced != out->trace) ::unlink(layout_.raw_path(*replaced).c_str());
    if (!out->unmodelable.empty()) events_.add(req.path + ": unmodelable: " + out->unmodelable);
    workers_->wake();
    sweep_requested_ = true;
}

Status Volume::regenerates(uint64_t id) {
    try {
        return generate_all(id);
    } catch (const std::exception& e) {  // a model this build cannot take apart must not stop the sweeper
        return Status::corrupt("trace " + std::to_string(id) + ": generation threw: " + e.what());
    }
}

Status Volume::generate_all(uint64_t id) {
    auto t = catalog_->trace(id);
    if (!t) return t.status();
    if (!*t) return Status::not_found("trace " + std::to_string(id) + " is gone");
    auto f = archive_->open(id);
    if (!f) return f.status();
    std::string buf(1 << 20, '\0');
    uint64_t total = 0;
    for (;;) {
        auto n = archive_->read(*f, total, buf);
        if (!n) return n.status();
        if (*n == 0) break;
        total += *n;
    }
    if (total != (*t)->synth_size)
        return Status::corrupt("archive/" + (*t)->path + " regenerates " + std::to_string(total) +
                               " bytes where the catalog promises " + std::to_string((*t)->synth_size));
    return {};
}

bool Volume::keep_unchanged(const std::shared_ptr<StagingFile>& f, const IngestRequest& req, const TraceRow& t) {
    auto same = same_bytes_as_raw(*catalog_, layout_, layout_.staging_path(f->id), t);
    if (!same) logger("ingest")->warn("{}: cannot compare with its accepted bytes, ingesting it anew: {}",
                                      printable(req.path), printable(same.status().message()));
    if (!same || !*same) return false;
    // Its writer wrote nothing new (touch, or the same bytes again): the trace, its models and
    // its archive/ file stay; only the file's metadata changes.
    bool kept = false;
    auto st = catalog_->env().write([&](Txn& x) {
        kept = false;
        auto row = get_trace(x, t.id);
        if (!row || !row->raw_present) return;
        {
            std::lock_guard lk(f->mu);
            if (f->gone) return;
        }
        row->mode = req.mode;
        row->mtime_ns = req.mtime_ns;
        row->uid = req.uid;
        row->gid = req.gid;
        put_trace(x, *row);
        x.del(db::kStaging, be64(req.staging_id));
        kept = true;
    });
    if (st && !kept) return false;  // the trace went meanwhile: an ordinary ingest
    {
        std::lock_guard lk(f->mu);
        f->ingesting = false;
        if (!st && !f->gone) f->last_release_ns = wall_clock_ns() + 30'000'000'000;  // retry later
    }
    if (!st) {
        logger("ingest")->error("{}: keeping the accepted trace failed, retrying: {}", printable(req.path), printable(st.message()));
        return true;
    }
    staging_->forget(f);
    logger("ingest")->info("{}: closed unchanged, the accepted trace and its models stay", printable(req.path));
    return true;
}

void Volume::housekeeping_loop() {
    int64_t last_sweep = 0, last_status = 0;
    for (;;) {
        {
            std::unique_lock lk(bg_mu_);
            bg_cv_.wait_for(lk, std::chrono::milliseconds(200), [&] { return stopping_; });
            if (stopping_) return;
        }
        if (reload_requested_.exchange(false)) reload_policy();
        const int64_t now = wall_clock_ns();
        auto pol = policy();
        if (sweep_requested_.exchange(false) || now - last_sweep >= pol->sweep_interval_s * 1'000'000'000) {
            last_sweep = now;
            if (auto r = sweeper_->sweep(*pol, now, false); !r) {
                logger("policy")->error("sweep failed: {}", printable(r.status().message()));
                events_.add("policy sweep: " + r.status().message());
            }
        }
        if (now - last_status >= 1'000'000'000) {
            last_status = now;
            write_status_file();
        }
    }
}

void Volume::write_status_file() {
    using nlohmann::json;
    json j;
    j["pid"] = ::getpid();
    j["mountpoint"] = opts_.mountpoint;
    j["store"] = layout_.root;
    j["policy_file"] = opts_.policy_file;
    j["updated_s"] = wall_clock_ns() / 1'000'000'000;
    j["started_s"] = started_ns_ / 1'000'000'000;
    {
        std::lock_guard lk(bg_mu_);
        j["running"] = started_ && !stopping_;
    }
    j["staging_files"] = staging_->size();
    j["cache_bytes"] = archive_->cached_bytes();
    const auto running = workers_->progress();
    throughput_.tick(!running.empty());
    j["rates"] = throughput_.json();
    json jobs = json::array();
    for (const auto& p : running)
        jobs.push_back({{"trace", p.trace},
                        {"path", p.path},
                        {"chunk", p.chunk},
                        {"chunks", p.chunks},
                        {"fraction", p.fraction},
                        {"started_s", double(p.started_ns) / 1e9}});
    j["jobs"] = jobs;
    json errs = json::array();
    for (const auto& [t, m] : events_.snapshot()) errs.push_back({{"time_s", t}, {"message", m}});
    j["recent_errors"] = errs;
    const std::string tmp = layout_.status_path() + ".tmp";
    {
        // It names the captures: readable by the daemon's user only, like the catalog.
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return;
        (void)::fchmod(fd, 0600);  // a .tmp left by an older daemon kept its mode
        const std::string text = j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        // On a full disk the old status stays: an empty or torn one would read as "not running".
        bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
        ok = ::close(fd) == 0 && ok;
        if (!ok) {
            ::unlink(tmp.c_str());
            return;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, layout_.status_path(), ec);
}

}  // namespace dgc::fs
