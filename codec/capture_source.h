// Internals shared by the classic pcap and pcapng readers: the bytes of a capture
// (memory-mapped file or an owned buffer) and the per-frame bookkeeping of CaptureInfo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "codec/capture_reader.h"

namespace dgc {

struct ByteSource {
    std::string name;                 // file name for messages
    const uint8_t* data = nullptr;
    size_t size = 0;
    std::shared_ptr<const void> owner;  // keeps `data` alive (mapping or buffer)
};

// Parses one frame into `out` and counts it in `info`. Every reader calls this.
void account_frame(CaptureInfo& info, uint32_t linktype, int64_t t_ns, const uint8_t* frame, uint32_t caplen,
                   uint32_t wirelen, PacketRecord& out);

// "pcap" magic numbers, in file order as read little-endian from byte 0.
bool is_classic_pcap_magic(uint32_t le_magic);
constexpr uint32_t kPcapngShbType = 0x0a0d0d0a;

Result<std::unique_ptr<CaptureReader>> open_classic_pcap(ByteSource src);
Result<std::unique_ptr<CaptureReader>> open_pcapng(ByteSource src);

}  // namespace dgc
