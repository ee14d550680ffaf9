#include "fs/store_report.h"

#include <sys/xattr.h>

#include <cstdio>
#include <filesystem>

namespace dgc::fs {

double StoreSummary::saving() const {
    if (original_bytes == 0) return 0;
    return 1.0 - double(raw_stored_bytes + model_bytes) / double(original_bytes);
}

std::string state_bucket(const TraceRow& t) {
    if (!t.unmodelable.empty()) return "unmodelable";
    if (all_modelled(t)) return t.raw_present ? "modelled" : "raw-expired";
    return t.chunks_done == 0 ? "queued" : "training";
}

StoreSummary summarize(const std::vector<TraceRow>& traces, const std::vector<ChunkRow>& chunks) {
    StoreSummary s;
    for (const auto& t : traces) {
        ++s.traces;
        ++s.by_state[state_bucket(t)];
        s.original_bytes += t.raw_size;
        if (t.raw_present) s.raw_stored_bytes += t.raw_stored;
        s.model_bytes += t.model_bytes;
        s.chunks_total += t.chunks;
    }
    for (const auto& c : chunks)
        if (c.done) {
            ++s.chunks_done;
            s.train_seconds += c.train_seconds;
        }
    return s;
}

Result<std::string> resolve_store(const std::string& path) {
    char buf[4096];
    ssize_t n = ::getxattr(path.c_str(), "user.dgcfs.store", buf, sizeof buf);
    if (n > 0) return std::string(buf, static_cast<size_t>(n));
    if (std::filesystem::exists(std::filesystem::path(path) / "catalog" / "data.mdb")) return path;
    return Status::not_found(path + ": neither a mounted dgcfs volume nor a store directory (no catalog/data.mdb)");
}

std::string human_bytes(uint64_t b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(b);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char out[32];
    std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return out;
}

}  // namespace dgc::fs
