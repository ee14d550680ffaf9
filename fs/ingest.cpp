#include "fs/ingest.h"

#include <unistd.h>

#include <chrono>
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

Result<IngestOutcome> ingest_staging(Catalog& catalog, const StoreLayout& layout, const IngestRequest& req,
                                     const std::function<bool()>& commit_guard) {
    auto log = logger("ingest");
    const std::string staging = layout.staging_path(req.staging_id);
    auto id = catalog.allocate_id("trace");
    if (!id) return id.status();
    const std::string segment = layout.raw_path(*id);

    // Raw first: whatever the parser thinks of the bytes, they are kept (invariants 2 and 5).
    auto index = write_raw_segment(staging, segment);
    if (!index) return index.status();

    TraceRow t;
    t.id = *id;
    t.path = req.path;
    t.mode = req.mode;
    t.mtime_ns = req.mtime_ns;
    t.accepted_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    t.raw_size = index->raw_size();
    t.raw_stored = index->stored_size();

    IngestCommit c;
    c.staging_id = req.staging_id;
    c.frame_index = encode_frame_index(*index);
    // Streamed: only the chunk plan grows with the capture, never its records.
    trainer::ChunkPlanner planner(req.chunk_seconds, req.chunk_packets);
    uint64_t records = 0;
    auto info = scan_capture(staging, [&](const PacketRecord& r) {
        planner.add(r.t_ns);
        ++records;
    });
    if (!info) {
        t.unmodelable = info.status().message();
    } else {
        t.format = info->format;
        t.linktype = info->linktype;
        t.out_linktype = output_linktype(info->linktype);
        t.nanosecond = info->nanosecond;
        t.packets = records;
        t.warning = info->warning;
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
    if (t.unmodelable.empty())
        log->info("accepted {}: {} bytes, {} packets, {} chunks queued", t.path, t.raw_size, t.packets, t.chunks);
    else
        log->warn("accepted {} raw only ({} bytes): unmodelable: {}", t.path, t.raw_size, t.unmodelable);
    return IngestOutcome{t.id, t.chunks, t.unmodelable};
}

}  // namespace dgc::fs
