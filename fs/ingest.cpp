#include "fs/ingest.h"
#include "fs/names.h"
#include "fs/retry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <set>

#include "codec/linktype.h"
#include "codec/log.h"
#include "codec/raw_segment.h"
#include "trainer/pipeline.h"

namespace dgc::fs {

std::string unmodelable_reason(const CaptureInfo& info, size_t records) {
    if (!info.modelable) {
        std::set<uint32_t> bad;
        for (const auto& i : info.interfaces)
            if (!linktype_modelable(i.linktype)) bad.insert(i.linktype);
        if (bad.empty()) bad.insert(info.linktype);
        std::string s = "link type";
        for (uint32_t lt : bad) s += " " + std::to_string(lt) + " (" + linktype_name(lt) + ")";
        return s + " not parsed down to IP";
    }
    if (records == 0) return "the capture holds no packets";
    if (info.ip_packets == 0) return "the capture holds no IP packets";
    return {};
}

uint32_t output_linktype(uint32_t input_linktype) {
    return input_linktype == static_cast<uint32_t>(LinkType::kEthernet) ? 1u : 101u;
}

Result<bool> same_bytes_as_raw(const Catalog& catalog, const StoreLayout& layout, const std::string& file,
                               const TraceRow& t) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return Status::io(file + ": " + std::strerror(errno));
    if (!t.raw_present || static_cast<uint64_t>(st.st_size) != t.raw_size) return false;
    auto enc = catalog.frame_index(t.id);
    if (!enc) return false;  // expired meanwhile: the bytes are new to the volume
    auto idx = decode_frame_index(*enc);
    if (!idx) return idx.status();
    auto raw = RawSegmentReader::open(layout.raw_path(t.id), std::move(idx.value()));
    if (!raw) return raw.status();
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::io(file + ": " + std::strerror(errno));
    std::string a(1 << 20, '\0'), b(1 << 20, '\0');
    bool same = true;
    for (uint64_t off = 0; same && off < t.raw_size;) {
        auto n = raw->read(off, b);
        if (!n || *n == 0) {
            ::close(fd);
            return n ? Status::io(layout.raw_path(t.id) + ": short raw segment") : n.status();
        }
        ssize_t got = ::pread(fd, a.data(), *n, static_cast<off_t>(off));
        same = got == static_cast<ssize_t>(*n) && std::memcmp(a.data(), b.data(), *n) == 0;
        off += *n;
    }
    ::close(fd);
    return same;
}

Result<IngestOutcome> ingest_staging(Catalog& catalog, const StoreLayout& layout, const IngestRequest& req,
                                     const std::function<bool()>& commit_guard) {
    auto log = logger("ingest");
    const std::string staging = layout.staging_path(req.staging_id);
    auto id = catalog.allocate_id("trace");
    if (!id) return id.status();
    const std::string segment = layout.raw_path(*id);

    // The parse (chunk plan, record count) runs beside the raw segment's compression: the
    // two read the same staging file and share nothing, and ingest was the one step before
    // modelling that left the second core idle (bench-ingest: 0.8 s of 103 MB).
    // Streamed: only the chunk plan grows with the capture, never its records.
    trainer::ChunkPlanner planner(req.chunk_seconds, req.chunk_packets);
    uint64_t records = 0;
    auto scanned = std::async(std::launch::async, [&] {
        return scan_capture(staging, [&](const PacketRecord& r) {
            planner.add(r.t_ns);
            ++records;
        });
    });
    // Raw first: whatever the parser thinks of the bytes, they are kept (invariants 2 and 5).
    auto index = write_raw_segment(staging, segment);
    auto info = scanned.get();
    if (!index) {
        // A full disk must not keep a partial segment until the next mount: it is freed now,
        // and the staging file stays for the retry.
        ::unlink(segment.c_str());
        return index.status();
    }

    TraceRow t;
    t.id = *id;
    t.path = req.path;
    t.mode = req.mode;
    t.mtime_ns = req.mtime_ns;
    t.uid = req.uid;
    t.gid = req.gid;
    t.accepted_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    t.raw_size = index->raw_size();
    t.raw_stored = index->stored_size();

    IngestCommit c;
    c.staging_id = req.staging_id;
    c.frame_index = encode_frame_index(*index);
    if (!info && transient(info.status())) {
        ::unlink(segment.c_str());  // an I/O fault reading the staging file is no verdict on the capture
        return info.status();
    }
    if (!info) {
        t.unmodelable = info.status().message();
    } else {
        t.format = info->format;
        t.linktype = info->linktype;
        t.out_linktype = output_linktype(info->linktype);
        t.nanosecond = info->nanosecond;
        t.packets = records;
        t.warning = info->warning;
        t.skipped = info->skipped;
        t.unmodelable = unmodelable_reason(*info, records);
        if (t.unmodelable.empty()) {
            const auto& plan = planner.chunks();
            for (uint32_t i = 0; i < plan.size(); ++i) {
                ChunkRow row;
                row.trace = t.id;
                row.index = i;
                row.first = plan[i].first;
                row.count = plan[i].count;
                c.chunks.push_back(row);
            }
            t.chunks = static_cast<uint32_t>(plan.size());
            if (plan.empty()) t.unmodelable = "the chunk planner produced no chunks";
        }
    }
    c.trace = t;
    if (commit_guard && !commit_guard()) {
        ::unlink(segment.c_str());
        return Status::not_found(req.path + ": removed while it was being ingested");
    }
    if (auto st = catalog.commit_ingest(c); !st) {
        ::unlink(segment.c_str());
        return st;
    }
    if (!t.skipped.empty())  // the model leaves these bytes out; raw keeps them while it lasts
        log->warn("accepted {}: skipped damaged bytes, {}; {} valid records kept: {}", printable(t.path),
                  describe_skipped(t.skipped), t.packets, printable(t.warning));
    if (t.unmodelable.empty())
        log->info("accepted {}: {} bytes, {} packets, {} chunks queued", printable(t.path), t.raw_size, t.packets, t.chunks);
    else
        log->warn("accepted {} raw only ({} bytes): unmodelable: {}", printable(t.path), t.raw_size, t.unmodelable);
    return IngestOutcome{t.id, t.chunks, t.unmodelable};
}

}  // namespace dgc::fs
