// Reading captures (classic pcap µs/ns either byte order, pcapng) into PacketRecords.
// Interface shared by fidelity, trainer and fs; implemented in capture_reader.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "codec/record.h"
#include "codec/skipped_range.h"
#include "codec/status.h"

namespace dgc {

// One capture interface: classic pcap has exactly one, pcapng one per IDB (each section's
// interfaces are appended in file order).
struct CaptureInterface {
    uint32_t linktype = 0;          // LINKTYPE (DLT_RAW 12/14 normalised to 101)
    uint32_t snaplen = 0;
    uint64_t ticks_per_sec = 0;     // timestamp resolution: 10^6, 10^9, 2^n...
};

struct CaptureInfo {
    std::string path;
    std::string format;           // "pcap" or "pcapng"
    bool nanosecond = false;      // classic pcap timestamp resolution
    bool big_endian = false;      // classic pcap byte order on disk
    uint32_t linktype = 0;        // of the first interface
    uint32_t snaplen = 0;
    bool modelable = false;       // every interface's link type parses down to IP
    uint64_t packets = 0;         // frames read
    uint64_t ip_packets = 0;
    uint64_t nonip_packets = 0;
    uint64_t truncated_packets = 0;  // caplen ended inside a header we wanted
    std::vector<CaptureInterface> interfaces;
    int64_t first_ns = 0;         // earliest and latest frame timestamp (0 when no frames)
    int64_t last_ns = 0;
    std::string warning;          // e.g. "file ends mid-record at byte 8812 (record 41)"; empty if clean
    // Bytes no record was read from: damage the reader resynchronised past, or a damaged
    // tail. Records on both sides of a range are read (classic pcap; pcapng stops at damage).
    std::vector<SkippedRange> skipped;
};

class CaptureReader {
public:
    // Fails with a message naming the file and what is wrong (empty, wrong magic, bad version...).
    static Result<std::unique_ptr<CaptureReader>> open(const std::string& path);
    // Same over bytes already in memory; `name` stands for the file in messages.
    static Result<std::unique_ptr<CaptureReader>> open_memory(const std::string& name, std::string bytes);
    virtual ~CaptureReader() = default;

    // Next frame into `out`. Returns true on a frame, false at a clean end; an error
    // names file, record index and byte offset. After the end, info() is final.
    virtual Result<bool> next(PacketRecord& out) = 0;
    virtual const CaptureInfo& info() const = 0;
};

struct Capture {
    CaptureInfo info;
    std::vector<PacketRecord> records;  // file order
};

// Whole file. A damaged tail is not an error when at least the header was sane:
// the records before it are returned and info.warning says what was cut.
Result<Capture> read_capture(const std::string& path);
// The same, one record at a time (memory stays flat for any file size); returns the info.
Result<CaptureInfo> scan_capture(const std::string& path, const std::function<void(const PacketRecord&)>& each);
Result<Capture> read_capture_memory(const std::string& name, std::string bytes);

}  // namespace dgc
