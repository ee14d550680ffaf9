// train_chunk / generate_chunk: encoding, parent choice, reuse or fitting, the stored blob and
// the one generation that records a chunk's fidelity and exact synthetic size.
#include "trainer/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/report_verdict.h"
#include "codec/fidelity/semantics.h"
#include "codec/log.h"
#include "trainer/byte_io.h"
#include "trainer/chunk_tokens.h"
#include "trainer/model.h"
#include "trainer/model_blob.h"
#include "trainer/pipeline_policy.h"
#include "trainer/rng.h"
#include "trainer/synth_records.h"

namespace dgc::trainer {

const char* decision_name(ChunkDecision d) {
    switch (d) {
        case ChunkDecision::kKeyframe: return "keyframe";
        case ChunkDecision::kDelta: return "delta";
        case ChunkDecision::kReused: return "reused";
    }
    return "unknown";
}

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
    // Most chunks' whole pool fits (the changing bench-ingest capture: 9 of 11 deltas), and
    // each probe is a zstd -19 pass over the blob: try the whole pool before searching.
    if (best.size() <= limit && hi > 0) {
        std::string all = with(hi);
        if (all.size() <= limit) return {std::move(all), hi};
    }
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

// Generates the stored bytes once, exactly as a reader later will (dequantised), and records
// what they regenerate: packet count, exact size, fidelity against the real chunk (`real`, its
// profile). `parent`: the parent's weights, for a delta. Returns the fidelity report; the
// records go to `synth` when given.
Result<fidelity::FidelityReport> measure(const PcapFormat& fmt, const fidelity::TraceProfile& real,
                                         const ParamSet* parent, ChunkModel& m,
                                         std::vector<PacketRecord>* synth = nullptr) {
    auto decoded = decode_blob(m.blob, "new chunk model");
    if (!decoded) return decoded.status();
    const bool delta = decoded->kind == BlobKind::kDelta;
    auto recs = generate_from(fmt, *decoded, delta ? *parent : decoded->params, "new chunk model");
    if (!recs) return recs.status();
    m.packets = recs->size();
    m.synth_bytes = pcap_records_size(fmt, *recs);
    auto report = fidelity::evaluate(real, fidelity::profile_trace(*recs));
    m.fidelity = report.score.average.value_or(0.0);
    m.joint = report.score.joint_average.value_or(0.0);
    if (synth) *synth = std::move(*recs);
    return report;
}

// Drift-aware reuse: the parent's weights as they are (a delta with no tensors, so every
// reader since format 5 regenerates it) and the chunk's own side information, first without
// a port pool, then with the pool the knob allows. The first whose regeneration passes
// `dgcctl eval`'s verdict against the chunk's own floor (and the volume's max_jsd) is the
// chunk's model; nullopt (and `why` says what missed) when neither does.
Result<std::optional<ChunkModel>> try_reuse(const PcapFormat& fmt, const ChunkAnalysis& a, const EncodedChunk& enc,
                                            const std::string& parent_id, const ParamSet& parent,
                                            const TrainOptions& opts, uint64_t budget, std::string& why) {
    const auto& [floor, sem_floor, real_sem] = *a.baseline;
    const auto& real = a.real;
    ModelBlob b;
    b.kind = BlobKind::kDelta;
    b.parent_id = parent_id;
    b.seed = opts.seed;
    std::vector<uint64_t> limits{0};
    if (!enc.tail_ports.empty()) limits.push_back(budget);
    for (uint64_t limit : limits) {
        ChunkModel m;
        size_t pool = 0;
        std::tie(m.blob, pool) = encode_with_pool(b, enc, limit);
        if (limit > 0 && pool == 0) break;  // the same blob as the first try
        m.parent_id = parent_id;
        m.decision = ChunkDecision::kReused;
        std::vector<PacketRecord> synth;
        auto report = measure(fmt, real, &parent, m, &synth);
        if (!report) return report.status();
        const auto sem = fidelity::compare_semantics(real_sem, fidelity::profile_semantics(synth));
        const auto verdict = fidelity::judge(report->score, floor.score, &sem, &sem_floor);
        const bool ok = reuse_passes(verdict.pass, m.fidelity, opts.max_jsd);
        std::string over;  // the semantics checks over their floor + margin: name, value and floor
        std::array<bool, fidelity::kSemanticCount> failed{};
        for (int c = 0; c < fidelity::kSemanticCount; ++c)
            if (verdict.semantics[c] == fidelity::Verdict::kFail) {
                failed[c] = true;
                char v[64];
                std::snprintf(v, sizeof v, " %.3f/%.3f", sem.checks[c].value_or(0.0), sem_floor.checks[c].value_or(0.0));
                over += std::string(over.empty() ? " (" : ", ") + std::string(fidelity::kSemanticNames[c]) + v;
            }
        if (!over.empty()) over += ")";
        char line[320];
        std::snprintf(line, sizeof line,
                      "%s %s: 17-mean %.3f (floor %.3f), joint %.3f (floor %.3f), semantics %.3f (floor %.3f), "
                      "%d semantics checks over floor+%.2f%s, %zu pool ports%s",
                      ok ? "reused" : "reuse of", parent_id.c_str(), m.fidelity, floor.score.average.value_or(0.0),
                      m.joint, floor.score.joint_average.value_or(0.0), sem.mean.value_or(0.0),
                      sem_floor.mean.value_or(0.0), fidelity::failures(verdict.semantics), fidelity::kSemanticMargin,
                      over.c_str(), pool, ok ? "" : verdict.pass ? ": over the volume's max_jsd" : ": eval verdict fails");
        if (ok) {
            m.why = line;
            return std::optional<ChunkModel>(std::move(m));
        }
        why = line;
        const auto unmendable = check_no_pool_mends(failed);
        if (limit == 0 && limits.size() > 1 && unmendable) {
            why += "; a port pool cannot mend " + std::string(fidelity::kSemanticNames[*unmendable]);
            break;
        }
    }
    return std::optional<ChunkModel>();
}

}  // namespace

ReuseBaseline reuse_baseline(std::span<const PacketRecord> chunk) {
    return {fidelity::floor(chunk), fidelity::semantics_floor(chunk), fidelity::profile_semantics(chunk)};
}

namespace {

// A keyframe's loss on records, as choose_parent() scores a chunk.
double loss_on(const ParamSet& keyframe, std::span<const PacketRecord> records, uint32_t linktype, uint64_t seed) {
    return model_loss(keyframe, nullptr, 0, encode_chunk(records, linktype), kParentSampleFlows, seed);
}

}  // namespace

double own_traffic_loss(const std::string& blob, uint32_t linktype, uint64_t seed) {
    auto kb = decode_blob(blob, "library model");
    if (!kb || kb->kind != BlobKind::kKeyframe || kb->side.empty()) return std::numeric_limits<double>::quiet_NaN();
    PcapFormat fmt;
    fmt.linktype = linktype;
    auto recs = generate_from(fmt, *kb, kb->params, "library model");
    if (!recs || recs->empty()) return std::numeric_limits<double>::quiet_NaN();
    return loss_on(kb->params, *recs, linktype, seed);
}

namespace {

// own_traffic_loss() by the blob's content: a keyframe's is computed once a process, from the
// regeneration that measured it where this process trained it.
class OwnLossCache {
public:
    using Key = std::tuple<size_t, size_t, uint32_t, uint64_t>;  // blob hash and size, link type, seed
    static Key key(const std::string& blob, uint32_t linktype, uint64_t seed) {
        return {std::hash<std::string>{}(blob), blob.size(), linktype, seed};
    }
    std::optional<double> find(const Key& k) {
        std::lock_guard lk(mu_);
        auto it = known_.find(k);
        return it == known_.end() ? std::nullopt : std::optional<double>(it->second);
    }
    void add(const Key& k, double loss) {
        std::lock_guard lk(mu_);
        known_.emplace(k, loss);
    }

private:
    std::mutex mu_;
    std::map<Key, double> known_;
};

OwnLossCache& own_losses() {
    static OwnLossCache cache;
    return cache;
}

}  // namespace

ParentChoice choose_parent(const EncodedChunk& enc, const ModelLibrary& library, uint64_t seed) {
    ParentChoice best;
    if (enc.flows.empty()) return best;
    const std::string* best_blob = nullptr;
    for (const auto& [id, blob] : library.all()) {
        auto kb = decode_blob(blob, "library model " + id);
        if (!kb || kb->kind != BlobKind::kKeyframe) continue;
        double loss = model_loss(kb->params, nullptr, 0, enc, kParentSampleFlows, seed);
        logger("trainer")->debug("parent candidate {}: loss {:.3f}", id, loss);
        if (std::isfinite(loss) && loss < best.loss) {
            best.id = id, best.loss = loss, best.params = std::move(kb->params);
            best.side.version = kb->version, best.side.side = std::move(kb->side);
            best_blob = &blob;
        }
    }
    if (best_blob && !best.keyframe()) {
        const auto key = OwnLossCache::key(*best_blob, enc.side.linktype, seed);
        auto known = own_losses().find(key);
        if (!known) own_losses().add(key, *(known = own_traffic_loss(*best_blob, enc.side.linktype, seed)));
        best.own_loss = *known;
        logger("trainer")->debug("parent {}: loss {:.3f}, {:.3f} on its own traffic", best.id, best.loss, best.own_loss);
    }
    return best;
}

namespace {

// Why a chunk with a parent was not tried for reuse (reuse_tried() said no).
std::string reuse_skipped(const ParentChoice& choice, uint64_t packets, bool reuse_on) {
    if (!reuse_on) return "reuse off";
    if (!reuse_considered(packets))
        return "too small to judge reuse by (" + std::to_string(packets) + " < " + std::to_string(kMinReusePackets) +
               " packets)";
    char note[160];
    std::snprintf(note, sizeof note, "reuse not tried: parent loss %.3f is over %.0fx the %.3f its own traffic costs it",
                  choice.loss, kReuseMaxLossRatio, choice.own_loss);
    return note;
}

}  // namespace

ChunkAnalysis analyze_chunk(std::span<const PacketRecord> chunk, uint32_t linktype, bool with_baseline) {
    ChunkAnalysis a{encode_chunk(chunk, linktype), fidelity::profile_trace(chunk), std::nullopt, std::nullopt};
    if (with_baseline) a.baseline = reuse_baseline(chunk);
    return a;
}

Result<ChunkModel> train_chunk(const PcapFormat& fmt, std::span<const PacketRecord> chunk, const ModelLibrary& library,
                               const TrainOptions& opts, ChunkAnalysis* ahead) {
    auto log = logger("trainer");
    const auto t_start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
    if (chunk.empty()) return Status::invalid("train_chunk: empty chunk");
    if (!valid_bytes_per_packet(opts.bytes_per_packet))
        return Status::invalid("train_chunk: bytes per packet " + std::to_string(opts.bytes_per_packet) +
                               " is outside (0, 4]");

    ChunkAnalysis here;
    if (!ahead) here = analyze_chunk(chunk, fmt.linktype, false);
    ChunkAnalysis& a = ahead ? *ahead : here;
    EncodedChunk enc = std::move(a.enc);
    const bool cuda = opts.device == Device::kCuda || (opts.device == Device::kAuto && cuda_available());
    if (opts.device == Device::kCuda && !cuda_available())
        return Status::unsupported("train_chunk: --device cuda requested but CUDA is not available");

    if (!a.parent) a.parent = choose_parent(enc, library, opts.seed);
    const ParentChoice& choice = *a.parent;
    std::string parent_id = choice.id;  // cleared for a keyframe
    const ParamSet& parent = choice.params;
    const double best = choice.loss;
    const bool has_parent = !choice.keyframe();
    if (opts.on_parent_chosen) opts.on_parent_chosen(!has_parent);
    // The chunk's vocabularies in the parent's order, so that its weights' places name the
    // same hosts, ports, protocols and flags (a base model has no side to follow).
    if (has_parent && !choice.side.side.empty()) {
        auto like = parse_side(choice.side.side, "library model " + parent_id, choice.side.version);
        if (!like) return like.status();
        enc = encode_chunk(chunk, fmt.linktype, &*like);
    }
    const uint64_t budget = pool_fill_bytes(chunk.size(), opts.bytes_per_packet);
    const uint64_t side_bytes = zstd_compress(serialize_side(enc.side), 19).size();
    std::string why;
    if (has_parent && !reuse_tried(choice, chunk.size(), opts.reuse)) {
        why = reuse_skipped(choice, chunk.size(), opts.reuse);
    } else if (has_parent) {
        if (!a.baseline) a.baseline = reuse_baseline(chunk);
        auto reused = try_reuse(fmt, a, enc, parent_id, parent, opts, budget, why);
        if (!reused) return reused.status();
        if (reused->has_value()) {
            ChunkModel& m = **reused;
            m.side_bytes = side_bytes;
            m.budget_bytes = budget;
            m.train_seconds = elapsed();
            log->debug("{}", m.why);
            return std::move(m);
        }
    }

    ModelBlob blob;
    blob.seed = opts.seed;
    FitOptions fo;
    fo.seed = opts.seed;
    fo.cuda = cuda;
    fo.progress = opts.progress;
    fo.steps = opts.steps > 0 ? opts.steps : scaled_steps(default_train_steps(chunk.size()), opts.step_scale);
    ChunkModel m;
    char loss_note[96];
    if (has_parent) {
        fo.lora_rank = lora_rank_for(chunk.size(), side_bytes, opts.bytes_per_packet);
        auto fit = fit_delta(parent, enc, fo);
        blob.kind = BlobKind::kDelta;
        blob.parent_id = parent_id;
        blob.lora_rank = fo.lora_rank;
        blob.params = std::move(fit.params);
        m.decision = ChunkDecision::kDelta;
        std::snprintf(loss_note, sizeof loss_note, "delta of %s (parent loss %.3f, %d steps to %.3f)", parent_id.c_str(),
                      best, fit.steps, fit.loss);
        m.why = loss_note + (why.empty() ? std::string() : ": " + why);
    } else {
        if (parent_id.empty()) {
            m.why = library.all().empty() ? "keyframe: the library is empty" : "keyframe: no parent scores this chunk";
        } else {
            std::snprintf(loss_note, sizeof loss_note, "keyframe: best parent %s has loss %.3f > %.0f (strong drift)",
                          parent_id.c_str(), best, kParentMaxLoss);
            m.why = loss_note;
        }
        parent_id.clear();
        fo.zero_unused = true;
        if (opts.steps <= 0) fo.steps = scaled_steps(default_keyframe_steps(chunk.size()), opts.step_scale);
        auto fit = fit_keyframe({&enc}, fo);
        blob.kind = BlobKind::kKeyframe;
        blob.params = std::move(fit.params);
        m.decision = ChunkDecision::kKeyframe;
    }
    log->debug("{}", m.why);
    size_t pool = 0;
    std::tie(m.blob, pool) = encode_with_pool(std::move(blob), enc, budget);
    log->debug("blob {} bytes, {} of {} tail ports exact", m.blob.size(), pool, enc.tail_ports.size());
    m.parent_id = parent_id;
    m.side_bytes = side_bytes;
    m.budget_bytes = budget;
    m.lora_rank = parent_id.empty() ? 0 : fo.lora_rank;
    std::vector<PacketRecord> synth;
    if (auto report = measure(fmt, a.real, &parent, m, &synth); !report) return report.status();
    if (m.decision == ChunkDecision::kKeyframe && opts.reuse) {
        // What the chunks that will choose it compare their loss with, from this regeneration.
        if (auto kb = decode_blob(m.blob, "new keyframe"))
            own_losses().add(OwnLossCache::key(m.blob, fmt.linktype, opts.seed),
                             loss_on(kb->params, synth, fmt.linktype, opts.seed));
    }
    m.train_seconds = elapsed();
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
