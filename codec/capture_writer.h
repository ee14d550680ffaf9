// Writing captures: pcap global header and per-record bytes synthesized from
// PacketRecords (the codec owns lengths, checksums and protocol legality).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "codec/record.h"
#include "codec/status.h"

namespace dgc {

struct PcapFormat {
    uint32_t linktype = 1;     // LINKTYPE of the output (Ethernet or raw IP for synthesized traffic)
    bool nanosecond = false;
    uint32_t snaplen = 262144;
    // Capture the payload too, as zeros (caplen = wire length, except an ICMP error's
    // inner packet). For tests: lets tshark verify TCP/UDP checksums, which it skips on
    // frames cut short by the snaplen.
    bool zero_payload = false;
};

// The 24-byte classic pcap file header (little endian).
std::string pcap_file_header(const PcapFormat& fmt);

// One pcap record (16-byte record header + synthesized frame) per PacketRecord,
// appended to `out`. Headers-only capture: caplen covers the headers, the wire length
// (link header + ip_len; non-IP: the record's) is kept in the pcap record header.
// Records the output link type cannot carry (non-IP on raw IP, IPv6 on LINKTYPE_IPV4)
// are left out; see codec/frame_synth.h for which fields survive the round trip.
void append_pcap_records(const PcapFormat& fmt, std::span<const PacketRecord> records, std::string& out);

// Exact byte size append_pcap_records would produce, without building frames.
uint64_t pcap_records_size(const PcapFormat& fmt, std::span<const PacketRecord> records);

}  // namespace dgc
