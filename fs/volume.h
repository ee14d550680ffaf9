// The mounted volume without FUSE: the retention/ and archive/ namespaces over the store,
// background ingest, training workers, policy sweep and the status file. Operations take
// mount-relative paths ("/retention/a.pcap") and return 0 / a byte count, or -errno,
// which is all fs/fuse_*.cpp has to pass on.
#pragma once

#include <functional>
#include <map>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fs/archive.h"
#include "fs/catalog.h"
#include "fs/clock.h"
#include "fs/events.h"
#include "fs/ingest.h"
#include "fs/library_holder.h"
#include "fs/policy.h"
#include "fs/backpressure.h"
#include "fs/staging.h"
#include "fs/store_layout.h"
#include "fs/sweeper.h"
#include "fs/workers.h"

namespace dgc::fs {

struct VolumeOptions {
    std::string store = "/var/lib/dgcfs";
    std::string policy_file;                  // empty: built-in defaults (keep raw forever)
    std::string mountpoint;                   // for the status file only
    // Two: a 2-core machine models bench-ingest's captures 1.2-1.5x faster than with one
    // (BENCHMARKS.md), with the same models (WorkerPool::claim) and ~40 MiB more at peak.
    int workers = 2;
    trainer::Device device = trainer::Device::kAuto;
    std::optional<int> train_steps;           // overrides the policy's [training] steps
    std::optional<double> bytes_per_packet;   // overrides the policy's [training] bytes_per_packet, not its rules
    size_t cache_bytes = size_t(96) << 20;    // generated archive chunks kept in memory
    unsigned read_ahead = 2;                  // threads generating archive chunks ahead of a reader
    // close() of a written file waits for its bytes to reach the disk (power-loss safety
    // before fsync, at the price of a full flush per file). Off: like any local filesystem,
    // close() leaves the flush to the kernel and fsync(); a daemon crash loses nothing either way.
    bool sync_on_close = false;
    // Base models (`dgcctl warmup`) imported into the store's library at start: the first
    // chunks fine-tune one instead of paying for a keyframe of their own.
    std::vector<std::string> base_models;
};

struct DirEntry {
    std::string name;
    struct stat st{};
};

struct Handle;

// Who asks (fuse_get_context): holds are lifted by a file's owner or root only.
struct Caller {
    uint32_t uid = 0;
    uint32_t gid = 0;
};

class Volume {
public:
    static Result<std::unique_ptr<Volume>> open(const VolumeOptions& opts);
    ~Volume();
    void start();     // background threads; call after the mount exists
    void shutdown();  // ingest what is closed, let running jobs commit, stop threads
    void request_policy_reload() { reload_requested_ = true; }  // async-signal-safe

    int getattr(const std::string& path, struct stat* st);
    // The attributes of what an open handle reads, whatever its path names now.
    int fgetattr(uint64_t fh, struct stat* st);
    int readdir(const std::string& path, std::vector<DirEntry>& out);
    int mkdir(const std::string& path, mode_t mode, const Caller& who);
    int rmdir(const std::string& path);
    int unlink(const std::string& path);
    int rename(const std::string& from, const std::string& to, unsigned flags);
    int chmod(const std::string& path, mode_t mode);
    // uid/gid -1: unchanged. Who may chown is the kernel's check (default_permissions).
    int chown(const std::string& path, int64_t uid, int64_t gid);
    int utimens(const std::string& path, const struct timespec tv[2]);
    int truncate(const std::string& path, off_t size, uint64_t fh);  // fh 0: by path

    int create(const std::string& path, mode_t mode, int flags, uint64_t* fh, const Caller& who);
    int open(const std::string& path, int flags, uint64_t* fh);
    int read(uint64_t fh, char* buf, size_t size, off_t off);
    int write(uint64_t fh, const char* buf, size_t size, off_t off);
    // Zero-copy writes: the staging fd a write handle targets (or -errno), and the
    // bookkeeping every write needs afterwards.
    int write_fd(uint64_t fh);
    // `result`: what the write returned (bytes, or -errno: a failed write keeps the file from
    // being accepted at close).
    void note_written(uint64_t fh, ssize_t result);
    // The plain file behind a handle when its reads and writes may skip read()/write()
    // entirely (kernel passthrough): a staging file, named by a key that is the same for
    // every handle on it. Nothing for raw and archive handles, whose bytes are computed.
    struct BackingFile {
        uint64_t key;
        int fd;
    };
    std::optional<BackingFile> backing_file(uint64_t fh);
    int flush(uint64_t fh);
    int release(uint64_t fh);
    int fsync(uint64_t fh, bool datasync);
    int statfs(struct statvfs* st);

    int getxattr(const std::string& path, const std::string& name, std::string& value);
    int setxattr(const std::string& path, const std::string& name, const std::string& value, const Caller& who);
    int listxattr(const std::string& path, std::vector<std::string>& names);
    int removexattr(const std::string& path, const std::string& name, const Caller& who);

    const StoreLayout& layout() const { return layout_; }

private:
    enum class View { kRoot, kRetention, kArchive, kOutside };
    struct Where {
        View view;
        std::string rel;  // "" = the view's root
    };
    static Where where(const std::string& path);

    Volume(VolumeOptions opts) : opts_(std::move(opts)) {}
    Status recover();
    std::shared_ptr<const Policy> policy() const;
    void reload_policy();

    // namespace helpers (volume_tree.cpp)
    bool retention_dir_exists(const std::string& rel);
    bool archive_dir_exists(const std::string& rel);
    bool parent_exists(const std::string& rel);
    std::shared_ptr<StagingFile> settled_staging(const std::string& rel);  // waits out a running ingest
    std::optional<TraceRow> trace_at(const std::string& rel);
    // A legal hold on the trace itself, on a directory above it (xattr) or by policy.
    bool held(const TraceRow& t);
    bool dir_held(const std::string& rel);  // rel or a directory above it has an xattr hold
    int set_dir_hold(const std::string& rel, bool hold);
    void fill_trace_stat(const TraceRow& t, bool archive, struct stat* st) const;
    int staging_stat(StagingFile& f, struct stat* st);
    int rename_trace(const TraceRow& t, const std::string& to);
    struct Meta {
        uint32_t mode;
        int64_t mtime_ns, uid, gid;
    };
    int update_retention_meta(const std::string& path, const std::function<void(Meta&)>& set);
    int staging_from_trace(const TraceRow& t, bool copy_bytes, std::shared_ptr<StagingFile>& out);
    uint64_t open_staging(const std::shared_ptr<StagingFile>& f, const std::string& rel, bool writer, int flags);

    // background (volume.cpp)
    void ingest_loop();
    void housekeeping_loop();
    void run_ingest(const std::shared_ptr<StagingFile>& f);
    // Every chunk of the trace generates, to the promised size (the sweeper asks before expiry).
    Status regenerates(uint64_t id);
    Status generate_all(uint64_t id);
    // True when `f` turned out to hold `t`'s bytes unchanged and was settled without an ingest.
    bool keep_unchanged(const std::shared_ptr<StagingFile>& f, const IngestRequest& req, const TraceRow& t);
    void write_status_file();
    // A staging file its writer was told failed (a write or its close): dropped, logged, never accepted.
    void refuse_staging(const std::string& path, const std::string& why);

    VolumeOptions opts_;
    StoreLayout layout_;
    std::unique_ptr<Catalog> catalog_;
    std::unique_ptr<StagingArea> staging_;
    std::unique_ptr<ArchiveCache> archive_;
    std::unique_ptr<WorkerPool> workers_;
    std::unique_ptr<Sweeper> sweeper_;
    LibraryHolder library_;
    RecentEvents events_;
    Throughput throughput_{steady_clock_ns};  // ingest against modelling, for status.json

    mutable std::mutex policy_mu_;
    std::shared_ptr<const Policy> policy_;
    std::atomic<bool> reload_requested_{false};
    std::atomic<bool> sweep_requested_{true};

    // Open raw-segment handles by trace id (renames keep it): those are page-cached by the
    // kernel, which refuses a direct (passthrough) open of the same inode while they last.
    std::mutex raw_opens_mu_;
    std::map<uint64_t, int> raw_opens_;

    std::map<uint64_t, int> ingest_failures_;  // by staging id; only the ingest thread (or shutdown after it) touches it

    std::mutex bg_mu_;
    std::condition_variable bg_cv_;
    bool stopping_ = false;
    bool started_ = false;
    std::thread ingest_thread_, housekeeping_thread_;
    int64_t started_ns_ = 0;
};

}  // namespace dgc::fs
