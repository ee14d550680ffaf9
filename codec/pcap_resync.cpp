#include "codec/pcap_resync.h"

#include "codec/byte_order.h"
#include "codec/timestamp.h"

namespace dgc {

PcapRecordHeader load_record_header(const uint8_t* p, const PcapRecordLayout& l) {
    const bool be = l.big_endian;
    return {load32(p, be), load32(p + 4, be), load32(p + 8, be), load32(p + 12, be)};
}

int64_t record_time_ns(const PcapRecordHeader& h, const PcapRecordLayout& l) {
    return pcap_ts_to_ns(h.sec, h.frac, l.nanosecond);
}

HeaderFault header_fault(const PcapRecordHeader& h, const PcapRecordLayout& l, std::optional<int64_t> prev_ns) {
    if (h.caplen > l.max_caplen) return HeaderFault::kCaplenOverMax;
    if (l.snaplen != 0 && h.caplen > l.snaplen) return HeaderFault::kCaplenOverSnaplen;
    if (h.caplen > h.wirelen) return HeaderFault::kCaplenOverWirelen;
    if (h.wirelen == 0) return HeaderFault::kEmpty;
    if (h.wirelen > kMaxWirelen) return HeaderFault::kWirelenOverMax;
    if (h.frac >= (l.nanosecond ? 1'000'000'000u : 1'000'000u)) return HeaderFault::kFraction;
    if (prev_ns) {
        const int64_t t = record_time_ns(h, l);
        if ((t > *prev_ns ? t - *prev_ns : *prev_ns - t) > kMaxRecordGapNs) return HeaderFault::kTimeJump;
    }
    return HeaderFault::kNone;
}

std::string implausible_header(const PcapRecordHeader& h, const PcapRecordLayout& l,
                               std::optional<int64_t> prev_ns) {
    const std::string caplen = "caplen " + std::to_string(h.caplen);
    switch (header_fault(h, l, prev_ns)) {
        case HeaderFault::kNone: return {};
        case HeaderFault::kCaplenOverMax: return caplen + " exceeds the maximum " + std::to_string(l.max_caplen);
        case HeaderFault::kCaplenOverSnaplen: return caplen + " exceeds the snaplen " + std::to_string(l.snaplen);
        case HeaderFault::kCaplenOverWirelen:
            return caplen + " exceeds the length on the wire " + std::to_string(h.wirelen);
        case HeaderFault::kEmpty: return "empty record (length 0)";
        case HeaderFault::kWirelenOverMax:
            return "length on the wire " + std::to_string(h.wirelen) + " exceeds " + std::to_string(kMaxWirelen);
        case HeaderFault::kFraction:
            return "fraction of a second " + std::to_string(h.frac) + " is not below " +
                   (l.nanosecond ? "1000000000" : "1000000");
        case HeaderFault::kTimeJump:
            return "timestamp " + std::to_string(h.sec) + " s is more than a day from the record before it";
    }
    return {};
}

RecordChain chain_at(const uint8_t* data, size_t size, size_t pos, const PcapRecordLayout& l, size_t want,
                     bool strict) {
    RecordChain c;
    std::optional<int64_t> prev;
    while (c.records < want && pos <= size && size - pos >= l.header_bytes) {
        const PcapRecordHeader h = load_record_header(data + pos, l);
        if (strict ? header_fault(h, l, prev) != HeaderFault::kNone : unreadable_header(h, l) || zero_header(h)) break;
        if (size - pos - l.header_bytes < h.caplen) break;
        pos += l.header_bytes + h.caplen;
        prev = record_time_ns(h, l);
        ++c.records;
        c.reaches_end = pos == size;
    }
    return c;
}

std::optional<size_t> find_resync(const uint8_t* data, size_t size, size_t from, const PcapRecordLayout& l,
                                  size_t want) {
    for (size_t q = from; q < size && size - q >= l.header_bytes; ++q) {
        if (chain_holds(chain_at(data, size, q, l, want, true), want)) return q;
    }
    return std::nullopt;
}

}  // namespace dgc
