#include "trainer/chunk_upgrade.h"

#include "codec/fidelity/semantics.h"
#include "trainer/model_blob.h"

namespace dgc::trainer {

Result<uint8_t> blob_format(std::string_view blob, const std::string& what) {
    auto b = decode_blob(blob, what);
    if (!b) return b.status();
    return b->version;
}

Result<uint64_t> blob_seed(std::string_view blob, const std::string& what) {
    auto b = decode_blob(blob, what);
    if (!b) return b.status();
    return b->seed;
}

uint8_t writer_format() { return kBlobVersion; }
bool needs_upgrade(uint8_t format) { return format < kBlobVersion; }

Result<ChunkModel> retrain_chunk(const PcapFormat& fmt, std::span<const PacketRecord> source, const ModelLibrary& library,
                                 uint64_t seed, int steps, Device device, ChunkChange& change) {
    TrainOptions opts;
    opts.device = device;
    opts.steps = steps;
    opts.seed = seed;
    auto m = train_chunk(fmt, source, library, opts);
    if (!m) return m.status();
    // train_chunk generated once to measure the 17 metrics; the semantics need the records.
    auto regen = generate_chunk(fmt, m->blob, library);
    if (!regen) return regen.status();
    change.new_format = kBlobVersion;
    change.new_parent = m->parent_id;
    change.new_model_bytes = m->blob.size();
    change.new_synth_bytes = m->synth_bytes;
    change.new_packets = m->packets;
    change.mean17 = m->fidelity;
    change.joint = m->joint;
    change.semantics = fidelity::semantics(source, *regen).mean;
    return m;
}

Status in_context(const Status& s, const std::string& what) {
    std::string m = what + ": " + s.message();
    switch (s.code()) {
        case Status::Code::kOk: return s;
        case Status::Code::kInvalidInput: return Status::invalid(std::move(m));
        case Status::Code::kNotFound: return Status::not_found(std::move(m));
        case Status::Code::kIoError: return Status::io(std::move(m));
        case Status::Code::kCorrupt: return Status::corrupt(std::move(m));
        case Status::Code::kUnsupported: return Status::unsupported(std::move(m));
        case Status::Code::kBusy: return Status::busy(std::move(m));
        case Status::Code::kInternal: break;
    }
    return Status::internal(std::move(m));
}

}  // namespace dgc::trainer
