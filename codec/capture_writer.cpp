#include "codec/capture_writer.h"

#include <vector>

#include "codec/byte_order.h"
#include "codec/frame_synth.h"

namespace dgc {
namespace {

// caplen/wirelen of one record as written, with the zero-payload option applied.
SynthLayout written_layout(const PcapFormat& fmt, const PacketRecord& r) {
    SynthLayout L = synth_layout(r, fmt.linktype);
    if (fmt.zero_payload && L.caplen != 0 && !L.icmp_error) L.caplen = L.wirelen;
    return L;
}

void append_record_header(const PcapFormat& fmt, const PacketRecord& r, uint32_t caplen, uint32_t wirelen,
                          std::string& out) {
    // Floor division: timestamps before 1970 still land in the right second.
    int64_t sec = r.t_ns / 1'000'000'000;
    int64_t ns = r.t_ns % 1'000'000'000;
    if (ns < 0) {
        ns += 1'000'000'000;
        --sec;
    }
    uint8_t h[16];
    store_le32(h, static_cast<uint32_t>(sec));
    store_le32(h + 4, static_cast<uint32_t>(fmt.nanosecond ? ns : ns / 1000));
    store_le32(h + 8, caplen);
    store_le32(h + 12, wirelen);
    out.append(reinterpret_cast<const char*>(h), sizeof h);
}

}  // namespace

std::string pcap_file_header(const PcapFormat& fmt) {
    uint8_t h[24];
    store_le32(h, fmt.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
    store_le16(h + 4, 2);
    store_le16(h + 6, 4);
    store_le32(h + 8, 0);
    store_le32(h + 12, 0);
    store_le32(h + 16, fmt.snaplen);
    store_le32(h + 20, fmt.linktype);
    return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

void append_pcap_records(const PcapFormat& fmt, std::span<const PacketRecord> records, std::string& out) {
    out.reserve(out.size() + pcap_records_size(fmt, records));
    std::vector<uint8_t> full;
    uint8_t frame[kMaxSynthHeaders];
    for (const PacketRecord& r : records) {
        const SynthLayout hdr = synth_layout(r, fmt.linktype);
        if (hdr.caplen == 0) continue;
        const SynthLayout L = written_layout(fmt, r);
        append_record_header(fmt, r, L.caplen, L.wirelen, out);
        if (L.caplen == hdr.caplen) {
            synthesize_headers(r, fmt.linktype, hdr, frame);
            out.append(reinterpret_cast<const char*>(frame), hdr.caplen);
        } else {
            full.assign(L.caplen, 0);
            synthesize_headers(r, fmt.linktype, hdr, full.data());
            out.append(reinterpret_cast<const char*>(full.data()), full.size());
        }
    }
}

uint64_t pcap_records_size(const PcapFormat& fmt, std::span<const PacketRecord> records) {
    uint64_t n = 0;
    for (const PacketRecord& r : records) {
        const SynthLayout L = written_layout(fmt, r);
        if (L.caplen != 0) n += 16 + L.caplen;
    }
    return n;
}

}  // namespace dgc
