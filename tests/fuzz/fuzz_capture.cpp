// Fuzz target: arbitrary bytes as a capture file. The reader must never crash, hang or
// read out of bounds, and every IP record it yields must survive synthesis and parse
// back to the same IP-level record.
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/capture_reader.h"
#include "codec/frame_parse.h"
#include "codec/frame_synth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto reader = dgc::CaptureReader::open_memory("fuzz", std::string(reinterpret_cast<const char*>(data), size));
    if (!reader.ok()) return 0;
    dgc::PacketRecord r;
    uint8_t frame[dgc::kMaxSynthHeaders];
    while (true) {
        auto more = (*reader)->next(r);
        if (!more.ok() || !*more) break;
        const dgc::SynthLayout layout = dgc::synth_layout(r, 1);
        if (!r.is_ip() || layout.caplen == 0) continue;
        dgc::synthesize_headers(r, 1, layout, frame);
        dgc::PacketRecord back;
        back.t_ns = r.t_ns;
        dgc::parse_frame(1, frame, layout.caplen, back);
        if (!(dgc::ip_level(back) == dgc::ip_level(r))) __builtin_trap();
    }
    return 0;
}
