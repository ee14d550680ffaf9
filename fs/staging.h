// Files being written in retention/: one staging file each, a catalog row that says
// whether a writer has closed it (what crash recovery accepts), and the in-memory
// bookkeeping that decides when the last writer is gone and ingest may start.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fs/catalog.h"
#include "fs/store_layout.h"

namespace dgc::fs {

struct StagingFile {
    StagingFile(uint64_t id_, int fd_) : id(id_), fd(fd_) {}
    ~StagingFile();
    const uint64_t id;
    const int fd;                    // O_RDWR; stays valid for open handles after ingest unlinks the file
    std::mutex mu;                   // guards everything below
    std::string path;
    uint32_t mode = 0644;
    int64_t mtime_ns = 0;
    int64_t uid = -1, gid = -1;      // owner (StagingRow); -1: the daemon's
    int opens = 0;                   // open handles (readers and writers)
    bool dirty = false;              // written since the last durable flush
    bool closed_once = false;        // catalog row says closed
    int64_t last_release_ns = 0;
    bool ingesting = false;
    bool gone = false;               // unlinked or replaced: ingest must not commit it
    // errno of a write that failed (0: none). Under the kernel's write-back cache the writer's
    // write(2) had already returned; its close(2) hears this and the file is not accepted.
    int write_errno = 0;
    // Direct I/O (kernel passthrough): while any handle is open, all of them read and write
    // the staging file itself, never through Volume::read/write, so the kernel sees one
    // consistent I/O mode for the inode.
    bool direct = false;
    int64_t file_mtime_ns = 0;       // the staging file's own mtime when last looked at

    // Direct writes bypass Volume::write: the staging file's own mtime tells when they
    // happened. Fills `st` with the file's stat; 0 or -errno. Both take mu themselves.
    int catch_up_direct_writes(struct stat& st);
    // After an explicit utimens: writes before it must not move mtime again.
    void settle_file_mtime();
};

class StagingArea {
public:
    StagingArea(Catalog& catalog, StoreLayout layout, bool sync_on_close)
        : catalog_(catalog), layout_(std::move(layout)), sync_on_close_(sync_on_close) {}

    // New empty staging file at `path` (replacing any staging file there).
    Result<std::shared_ptr<StagingFile>> create(const std::string& path, uint32_t mode, int64_t now_ns,
                                                int64_t uid = -1, int64_t gid = -1);
    // Adopts a staging row found at startup (crash recovery).
    Result<std::shared_ptr<StagingFile>> adopt(const StagingRow& row);

    std::shared_ptr<StagingFile> find(const std::string& path) const;
    std::vector<std::shared_ptr<StagingFile>> all() const;
    // Paths of staging files directly or indirectly under `dir_prefix` ("" = everything).
    std::vector<std::string> paths_under(const std::string& dir_prefix) const;

    // Writer closed (FUSE flush): record closed=true (durable), after flushing the bytes to
    // disk when sync_on_close. Either way they are in the kernel's page cache, which a
    // daemon crash does not touch (invariant 1).
    Status mark_closed(StagingFile& f);
    Status rename(const std::string& from, const std::string& to);
    // Unlink: forget it; open handles keep reading their fd.
    Status remove(const std::string& path);
    // After ingest committed (the commit dropped the row): forget it and delete the file.
    void forget(const std::shared_ptr<StagingFile>& f);
    Status persist(StagingFile& f);  // mode/mtime/path changes -> catalog row

    // Files whose last handle closed at least quiet_ns ago and that nobody is ingesting.
    std::vector<std::shared_ptr<StagingFile>> ready_for_ingest(int64_t now_ns, int64_t quiet_ns);
    size_t size() const;
    // Deletes again the staging files whose unlink failed (a disk fault), so a dropped file
    // does not linger until the next mount's recovery.
    void retry_unlinks();

private:
    void unlink_file(const std::string& file);  // a failure is remembered for retry_unlinks()

    Catalog& catalog_;
    StoreLayout layout_;
    const bool sync_on_close_;
    mutable std::mutex mu_;
    std::map<std::string, std::shared_ptr<StagingFile>> by_path_;
    std::vector<std::string> undeleted_;  // guarded by mu_
};

}  // namespace dgc::fs
