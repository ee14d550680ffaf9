#include "trainer/dgc_upgrade.h"

#include <set>

#include "codec/log.h"

namespace dgc::trainer {

namespace {

std::string chunk_name(const std::string& what, size_t i) { return what + " chunk " + std::to_string(i); }

}  // namespace

Result<std::vector<ChunkChange>> outdated_chunks(const DgcFile& f) {
    std::vector<ChunkChange> out;
    for (size_t i = 0; i < f.chunks.size(); ++i) {
        const ChunkModel& m = f.chunks[i].model;
        auto format = blob_format(m.blob, "chunk " + std::to_string(i));
        if (!format) return format.status();
        if (!needs_upgrade(*format)) continue;
        ChunkChange c;
        c.index = i;
        c.old_format = *format;
        c.old_parent = m.parent_id;
        c.old_model_bytes = m.blob.size();
        c.old_synth_bytes = m.synth_bytes;
        c.old_packets = m.packets;
        out.push_back(std::move(c));
    }
    return out;
}

Result<DgcUpgrade> upgrade_dgc(const DgcFile& f, const UpgradeOptions& opts, const std::string& what) {
    auto outdated = outdated_chunks(f);
    if (!outdated) return in_context(outdated.status(), what);
    DgcUpgrade up;
    up.file = f;
    up.current = f.chunks.size() - outdated->size();
    if (outdated->empty()) return up;

    std::set<size_t> replaced;
    for (const auto& c : *outdated) replaced.insert(c.index);
    // A kept chunk decoding against a keyframe chunk this upgrade replaces would lose its parent.
    for (size_t i = 0; i < f.chunks.size(); ++i) {
        if (replaced.count(i) || f.chunks[i].model.parent_id.empty()) continue;
        for (size_t k : replaced)
            if (f.chunks[k].model.parent_id.empty() && f.chunks[i].model.parent_id == keyframe_chunk_id(k))
                return Status::unsupported(chunk_name(what, i) + " is current but decodes against the older keyframe of " +
                                           chunk_name(what, k) + ", which the upgrade would replace; upgrade refused");
    }

    const ModelLibrary old_library = f.library();
    ModelLibrary library;  // what the new models may build on: the table, kept keyframes, new keyframes
    for (const auto& [id, blob] : f.keyframes) library.add(id, blob);
    for (size_t i = 0; i < f.chunks.size(); ++i)
        if (!replaced.count(i) && f.chunks[i].model.parent_id.empty())
            library.add(keyframe_chunk_id(i), f.chunks[i].model.blob);

    for (ChunkChange change : *outdated) {
        const size_t i = change.index;
        const std::string name = chunk_name(what, i);
        const ChunkModel& old = f.chunks[i].model;
        auto source = generate_chunk(f.format, old.blob, old_library);
        if (!source) return in_context(source.status(), name);
        if (source->empty()) return Status::invalid(name + ": the old model regenerates no packets to train on");
        auto seed = blob_seed(old.blob, name);
        if (!seed) return seed.status();
        auto m = retrain_chunk(f.format, *source, library, *seed, opts.steps, opts.device, change);
        if (!m) return in_context(m.status(), name);
        if (m->parent_id.empty()) library.add(keyframe_chunk_id(i), m->blob);
        logger("trainer")->info("{}: format {} -> {}, {} -> {} model bytes", name, change.old_format, change.new_format,
                                change.old_model_bytes, change.new_model_bytes);
        up.file.chunks[i].model = std::move(*m);
        up.changes.push_back(std::move(change));
    }

    // Table models only replaced chunks named go with them; the rest stay as they were.
    std::set<std::string> named_before, named_now;
    for (size_t k : replaced) named_before.insert(f.chunks[k].model.parent_id);
    for (const auto& c : up.file.chunks) named_now.insert(c.model.parent_id);
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto& [id, blob] : up.file.keyframes) {
        if (named_before.count(id) && !named_now.count(id)) up.dropped.push_back(id);
        else kept.emplace_back(id, std::move(blob));
    }
    up.file.keyframes = std::move(kept);
    return up;
}

}  // namespace dgc::trainer
