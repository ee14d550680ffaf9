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
    bool mapped = false;                // `data` is a read-only file mapping
    size_t released = 0;                // bytes before this were handed back (release_before)

    // Readers move forward only: once they are well past a mapped file's pages, those go
    // back to the kernel (read again from the file if touched), so a reader's footprint
    // is a window, not every page of a multi-GB capture it has passed. No-op for buffers.
    void release_before(size_t offset);
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
