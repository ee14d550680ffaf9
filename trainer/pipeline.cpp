// train_chunk / generate_chunk: encoding, parent choice, fitting, the stored blob and the
// one generation that records a chunk's fidelity and exact synthetic size.
#include "trainer/pipeline.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <tuple>

#include "codec/fidelity/fidelity.h"
#include "codec/log.h"
#include "trainer/byte_io.h"
#include "trainer/chunk_tokens.h"
#include "trainer/model.h"
#include "trainer/model_blob.h"
#include "trainer/pipeline_policy.h"
#include "trainer/rng.h"
#include "trainer/synth_records.h"

namespace dgc::trainer {

ChunkPlanner::ChunkPlanner(double chunk_seconds, uint64_t chunk_packets)
    : limit_ns_(chunk_seconds > 0 ? static_cast<int64_t>(chunk_seconds * 1e9) : 0), max_packets_(chunk_packets) {}

void ChunkPlanner::add(int64_t t) {
    const bool fresh = out_.empty() || (max_packets_ && out_.back().count >= max_packets_) ||
                       (limit_ns_ && t - start_t_ >= limit_ns_);
    if (fresh) {
        out_.push_back({seen_, 0});
        start_t_ = t;
    }
    ++out_.back().count;
    ++seen_;
}

std::vector<ChunkBounds> plan_chunks(std::span<const PacketRecord> records, double chunk_seconds,
                                     uint64_t chunk_packets) {
    ChunkPlanner p(chunk_seconds, chunk_packets);
    for (const auto& r : records) p.add(r.t_ns);
    return p.chunks();
}

namespace {

Result<std::vector<PacketRecord>> generate_from(const PcapFormat& fmt, const ModelBlob& b, const ParamSet& keyframe,
                                                const std::string& what) {
    auto side = parse_side(b.side, what, b.version);
    if (!side) return side.status();
    side->linktype = fmt.linktype;
    const uint64_t seed = mix64(b.seed ^ static_cast<uint64_t>(side->t0));
    const auto t0 = std::chrono::steady_clock::now();
    SampledTokens tok = sample_tokens(keyframe, b.kind == BlobKind::kDelta ? &b.params : nullptr, b.lora_rank, *side, seed);
    const auto t1 = std::chrono::steady_clock::now();
    auto recs = synthesize_records(*side, tok.flows, tok.packets, seed);
    logger("trainer")->debug("generated {} records: sampling {:.3f} s, records {:.3f} s", recs.size(),
                             std::chrono::duration<double>(t1 - t0).count(),
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
    return recs;
}

// The blob with the largest pool of the chunk's heaviest tail ports that keeps it within
// `limit` bytes (no pool when the model alone fills it), and that pool's size. Bigger pools
// never compress smaller by much, so a binary search over the pool size finds it.
std::pair<std::string, size_t> encode_with_pool(ModelBlob blob, const EncodedChunk& enc, uint64_t limit) {
    ChunkSide side = enc.side;
    auto with = [&](size_t k) {
        side.pool = pool_of(enc.tail_ports, k);
        blob.side = serialize_side(side);
        return encode_blob(blob);
    };
    std::string best = with(0);
    size_t lo = 0, hi = enc.tail_ports.size();
    while (best.size() <= limit && lo < hi) {
        const size_t mid = lo + (hi - lo + 1) / 2;
        std::string b = with(mid);
        if (b.size() <= limit) {
            lo = mid, best = std::move(b);
        } else {
            hi = mid - 1;
        }
    }
    return {std::move(best), lo};
}

}  // namespace

Result<ChunkModel> train_chunk(const PcapFormat& fmt, std::span<const PacketRecord> chunk, const ModelLibrary& library,
                               const TrainOptions& opts) {
    auto log = logger("trainer");
    const auto t_start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
    if (chunk.empty()) return Status::invalid("train_chunk: empty chunk");
    if (!valid_bytes_per_packet(opts.bytes_per_packet))
        return Status::invalid("train_chunk: bytes per packet " + std::to_string(opts.bytes_per_packet) +
                               " is outside (0, 4]");

    EncodedChunk enc = encode_chunk(chunk, fmt.linktype);
    const bool cuda = opts.device == Device::kCuda || (opts.device == Device::kAuto && cuda_available());
    if (opts.device == Device::kCuda && !cuda_available())
        return Status::unsupported("train_chunk: --device cuda requested but CUDA is not available");

    // Parent: the library keyframe with the lowest loss on a sample of this chunk.
    std::string parent_id;
    ParamSet parent;
    double best = std::numeric_limits<double>::infinity();
    if (!enc.flows.empty()) {
        for (const auto& [id, blob] : library.all()) {
            auto kb = decode_blob(blob, "library model " + id);
            if (!kb || kb->kind != BlobKind::kKeyframe) continue;
            double loss = model_loss(kb->params, nullptr, 0, enc, kParentSampleFlows, opts.seed);
            log->debug("parent candidate {}: loss {:.3f}", id, loss);
            if (std::isfinite(loss) && loss < best) best = loss, parent_id = id, parent = std::move(kb->params);
        }
    }

    ModelBlob blob;
    blob.seed = opts.seed;
    FitOptions fo;
    fo.seed = opts.seed;
    fo.cuda = cuda;
    fo.progress = opts.progress;
    fo.steps = opts.steps > 0 ? opts.steps : default_train_steps(chunk.size());
    const uint64_t side_bytes = zstd_compress(serialize_side(enc.side), 19).size();
    if (!parent_id.empty() && best <= kParentMaxLoss) {
        fo.lora_rank = lora_rank_for(chunk.size(), side_bytes, opts.bytes_per_packet);
        auto fit = fit_delta(parent, enc, fo);
        blob.kind = BlobKind::kDelta;
        blob.parent_id = parent_id;
        blob.lora_rank = fo.lora_rank;
        blob.params = std::move(fit.params);
        log->debug("delta vs {}: {} steps, loss {:.3f} (parent {:.3f})", parent_id, fit.steps, fit.loss, best);
    } else {
        parent_id.clear();
        auto fit = fit_keyframe({&enc}, fo);
        blob.kind = BlobKind::kKeyframe;
        blob.params = std::move(fit.params);
        parent = blob.params;
        log->debug("keyframe: {} steps, loss {:.3f}", fit.steps, fit.loss);
    }
    ChunkModel m;
    size_t pool = 0;
    std::tie(m.blob, pool) = encode_with_pool(std::move(blob), enc, pool_fill_bytes(chunk.size(), opts.bytes_per_packet));
    log->debug("blob {} bytes, {} of {} tail ports exact", m.blob.size(), pool, enc.tail_ports.size());
    m.parent_id = parent_id;
    m.side_bytes = side_bytes;
    m.budget_bytes = pool_fill_bytes(chunk.size(), opts.bytes_per_packet);
    m.lora_rank = parent_id.empty() ? 0 : fo.lora_rank;
    m.train_seconds = elapsed();

    // Generate once from the stored bytes (dequantised), exactly as a reader later will.
    auto decoded = decode_blob(m.blob, "new chunk model");
    if (!decoded) return decoded.status();
    ParamSet kf;
    if (decoded->kind == BlobKind::kDelta) {
        auto pb = decode_blob(*library.find(parent_id), "library model " + parent_id);
        if (!pb) return pb.status();
        kf = std::move(pb->params);
    }
    auto synth = generate_from(fmt, *decoded, decoded->kind == BlobKind::kDelta ? kf : decoded->params, "new chunk model");
    if (!synth) return synth.status();
    m.packets = synth->size();
    m.synth_bytes = pcap_records_size(fmt, *synth);
    auto report = fidelity::evaluate(chunk, *synth);
    m.fidelity = report.score.average.value_or(0.0);
    m.joint = report.score.joint_average.value_or(0.0);
    return m;
}

Result<std::vector<PacketRecord>> generate_chunk(const PcapFormat& fmt, const std::string& blob,
                                                 const ModelLibrary& library) {
    auto b = decode_blob(blob, "chunk model");
    if (!b) return b.status();
    if (b->side.empty()) return Status::invalid("chunk model: a base model carries no chunk to generate");
    if (b->kind == BlobKind::kKeyframe) return generate_from(fmt, *b, b->params, "chunk model");
    const std::string* pb = library.find(b->parent_id);
    if (!pb) return Status::not_found("chunk model: parent model '" + b->parent_id + "' is not in the library");
    auto parent = decode_blob(*pb, "library model " + b->parent_id);
    if (!parent) return parent.status();
    return generate_from(fmt, *b, parent->params, "chunk model");
}

}  // namespace dgc::trainer
