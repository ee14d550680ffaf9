#include "trainer/trace_codec.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "codec/capture_writer.h"
#include "codec/linktype.h"
#include "trainer/model_blob.h"

namespace dgc::trainer {

Result<PcapFormat> output_format(const CaptureInfo& info) {
    if (!info.modelable)
        return Status::unsupported(info.path + ": link type " + linktype_name(info.linktype) +
                                   " cannot be modelled (kept raw only)");
    PcapFormat f;
    f.linktype = info.linktype == 1 ? 1 : 101;
    f.nanosecond = info.nanosecond;
    return f;
}

Result<DgcFile> compress_capture(const Capture& cap, const ModelLibrary& base, const CompressOptions& opts,
                                 const CompressProgress& progress) {
    auto fmt = output_format(cap.info);
    if (!fmt) return fmt.status();
    if (cap.records.empty()) return Status::invalid(cap.info.path + ": no packets to compress");
    DgcFile f;
    f.format = *fmt;
    f.source = std::filesystem::path(cap.info.path).filename().string();
    ModelLibrary lib = base;
    for (const auto& [id, blob] : base.all()) f.keyframes.emplace_back(id, blob);
    auto bounds = plan_chunks(cap.records, opts.chunk_seconds, opts.chunk_packets);
    for (size_t i = 0; i < bounds.size(); ++i) {
        std::span<const PacketRecord> chunk(cap.records.data() + bounds[i].first, bounds[i].count);
        TrainOptions to = opts.train;
        if (progress.fraction) {
            to.progress = [&, i](double x) { progress.fraction((static_cast<double>(i) + x) / bounds.size()); };
        }
        auto m = train_chunk(*fmt, chunk, lib, to);
        if (!m) return Status(m.status());
        // A chunk trained from scratch is a keyframe later chunks may build on; it is stored
        // once, as that chunk (DgcFile::library() lists it again under the same id).
        if (m->parent_id.empty()) lib.add(keyframe_chunk_id(i), m->blob);
        DgcChunk c;
        c.model = std::move(*m);
        c.real_packets = chunk.size();
        c.real_t0 = chunk.front().t_ns, c.real_t1 = chunk.front().t_ns;
        for (const auto& r : chunk) c.real_t0 = std::min(c.real_t0, r.t_ns), c.real_t1 = std::max(c.real_t1, r.t_ns);
        f.chunks.push_back(std::move(c));
        if (progress.chunk_done) progress.chunk_done(i, bounds.size(), f.chunks.back().model);
    }
    return f;
}

Result<std::string> expand_dgc(const DgcFile& f, size_t first, size_t last,
                               const std::function<void(size_t, size_t)>& chunk_done) {
    ModelLibrary lib = f.library();
    std::string out = pcap_file_header(f.format);
    for (size_t i = first; i <= last && i < f.chunks.size(); ++i) {
        auto recs = generate_chunk(f.format, f.chunks[i].model.blob, lib);
        if (!recs) return recs.status();
        const size_t before = out.size();
        append_pcap_records(f.format, *recs, out);
        if (out.size() - before != f.chunks[i].model.synth_bytes)
            return Status::internal("chunk " + std::to_string(i) + ": regenerated " + std::to_string(out.size() - before) +
                                    " bytes, recorded " + std::to_string(f.chunks[i].model.synth_bytes) +
                                    " (different build or machine?)");
        if (chunk_done) chunk_done(i - first + 1, std::min(last, f.chunks.size() - 1) - first + 1);
    }
    return out;
}

Status load_base_model(const std::string& path, ModelLibrary& lib, std::vector<std::pair<std::string, std::string>>* keep) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io(path + ": cannot open: " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string blob = ss.str();
    auto b = decode_blob(blob, path);
    if (!b) return b.status();
    if (b->kind != BlobKind::kKeyframe) return Status::invalid(path + ": a base model must be a keyframe, not a delta");
    std::string id = "base:" + std::filesystem::path(path).stem().string();
    if (keep) keep->emplace_back(id, blob);
    lib.add(id, std::move(blob));
    return Status::ok();
}

Result<std::pair<size_t, size_t>> parse_chunk_range(const std::string& spec, size_t count) {
    if (count == 0) return Status::invalid("no chunks");
    auto num = [](const std::string& s, size_t dflt) -> std::optional<size_t> {
        if (s.empty()) return dflt;
        if (!std::all_of(s.begin(), s.end(), ::isdigit) || s.size() > 18) return std::nullopt;
        return static_cast<size_t>(std::stoull(s));
    };
    std::optional<size_t> a, b;
    auto dots = spec.find("..");
    if (spec.empty()) a = 0, b = count - 1;
    else if (dots == std::string::npos) a = b = num(spec, 0);
    else a = num(spec.substr(0, dots), 0), b = num(spec.substr(dots + 2), count - 1);
    if (!a || !b || *a > *b || *b >= count)
        return Status::invalid("--chunks " + spec + ": expected A..B with 0 <= A <= B < " + std::to_string(count));
    return std::pair{*a, *b};
}

}  // namespace dgc::trainer
