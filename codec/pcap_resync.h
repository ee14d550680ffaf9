// Classic pcap record headers judged one by one, and finding where records resume after
// damage, as pcapfix does: an offset is believed to start a record when a run of
// plausible headers from it chains exactly (each record ends where the next header
// begins) or chains to the end of the file. Pure functions over bytes, unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace dgc {

struct PcapRecordHeader {
    uint32_t sec = 0;
    uint32_t frac = 0;  // µs or ns, by the file's magic
    uint32_t caplen = 0;
    uint32_t wirelen = 0;
};

// What a file's header says its records look like.
struct PcapRecordLayout {
    bool big_endian = false;
    bool nanosecond = false;
    size_t header_bytes = 16;      // 24 in the Kuznetzov "modified" variant
    uint32_t snaplen = 0;          // 0: the file does not say
    uint32_t max_caplen = 262144;  // above it no reader takes the record
};

// Records in a row that must chain before an offset is believed after damage.
constexpr size_t kResyncChain = 3;
// libpcap's largest snaplen; BIG TCP and IPv6 jumbogram captures stay below it. A
// misaligned read takes a timestamp or an address for the length.
constexpr uint32_t kMaxWirelen = 262144;
// Consecutive records further apart than this are suspect (a garbage timestamp).
constexpr int64_t kMaxRecordGapNs = 86'400'000'000'000;  // one day

PcapRecordHeader load_record_header(const uint8_t* p, const PcapRecordLayout& l);

int64_t record_time_ns(const PcapRecordHeader& h, const PcapRecordLayout& l);

// What is wrong with a record header, first fault first. The scan past damage asks this
// at every byte offset, so it builds no strings.
enum class HeaderFault {
    kNone,
    kCaplenOverMax,
    kCaplenOverSnaplen,
    kCaplenOverWirelen,
    kEmpty,
    kWirelenOverMax,
    kFraction,
    kTimeJump,
};
HeaderFault header_fault(const PcapRecordHeader& h, const PcapRecordLayout& l, std::optional<int64_t> prev_ns);

// Why `h` does not look like a record header ("" when it does). `prev_ns` is the time of
// the record before it, when there is one.
std::string implausible_header(const PcapRecordHeader& h, const PcapRecordLayout& l,
                               std::optional<int64_t> prev_ns);

// The reader cannot take the record at all: caplen above max_caplen.
inline bool unreadable_header(const PcapRecordHeader& h, const PcapRecordLayout& l) {
    return h.caplen > l.max_caplen;
}

// Sixteen zero bytes: what a zero-filled block (the commonest damage) reads as. No
// writer records an empty packet at time 0.
inline bool zero_header(const PcapRecordHeader& h) {
    return (h.sec | h.frac | h.caplen | h.wirelen) == 0;
}

// Walks up to `want` records from `pos`. Strict: every header plausible (each timed
// against the one before it in the run). Not strict: readable and not zero. A run stops at the
// first header that fails or a record that runs past `size`.
struct RecordChain {
    size_t records = 0;        // records that chained
    bool reaches_end = false;  // the last of them ends exactly at `size`
};
RecordChain chain_at(const uint8_t* data, size_t size, size_t pos, const PcapRecordLayout& l, size_t want,
                     bool strict);

// A run long enough to believe: `want` records, or at least one that ends the file exactly.
inline bool chain_holds(const RecordChain& c, size_t want) {
    return c.records >= want || (c.records > 0 && c.reaches_end);
}

// The first offset in [from, size) where a strict run holds; nullopt when none does
// (the damage runs to the end of the file).
std::optional<size_t> find_resync(const uint8_t* data, size_t size, size_t from, const PcapRecordLayout& l,
                                  size_t want = kResyncChain);

}  // namespace dgc
