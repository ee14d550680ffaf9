// The long capture `dgcctl bench-ingest` copies into a volume, built from dev traces (issue 12
// item 6). The recipe is pure (traces in memory → which frame goes where, at what time) so a
// unit test can pin it; only load_trace and write_pcap touch files.
//
// One hour: each trace aligned so its first frame is at the hour's start, cut at one hour,
// all merged by time (ties: trace order, then file order).
//  steady:   that hour repeated; hour h keeps 3 of every 4 flows, chosen by a hash of the
//            flow key keyed with h, and is shifted by h hours.
//  changing: hour h is its own hour built from the traces pool[(h + 7j) mod n], j = 0, 1, 2,
//            every flow kept; with the default pool of 20, no two of the first 20 hours mix
//            the same traces.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "codec/status.h"

namespace dgc::tools::bench {

inline constexpr int64_t kHourNs = 3'600'000'000'000;
// 2026-01-01T00:00:00Z: where hour 0 starts, so every build writes the same timestamps.
inline constexpr int64_t kCaptureStartNs = 1'767'225'600'000'000'000;

struct Frame {
    int64_t t_ns = 0;
    uint32_t wirelen = 0;
    uint64_t flow = 0;  // flow_key_hash of the frame's flow (non-IP frames share one key)
    std::string bytes;  // as captured
};

struct Trace {
    std::string name;
    uint32_t linktype = 0;
    std::vector<Frame> frames;  // file order
};

// One frame of the built capture: frame `frame` of trace `trace`, written at `t_ns`.
struct Pick {
    uint32_t trace = 0;
    uint32_t frame = 0;
    int64_t t_ns = 0;
    bool operator==(const Pick&) const = default;
};

enum class Variant { kSteady, kChanging };

// Frames of `t` inside one hour of its first frame, as (frame index, offset from that frame),
// in time order (stable, so equal timestamps keep file order).
struct Offset {
    uint32_t frame = 0;
    int64_t offset_ns = 0;
};
std::vector<Offset> first_hour(const Trace& t);

// Whether steady hour `hour` keeps the flow: 3 of every 4 flow hashes, a different three
// quarters each hour.
bool steady_keeps(uint64_t flow, int hour);

// Hour h of the changing variant mixes these indices into a pool of n traces.
std::vector<uint32_t> changing_traces(int hour, uint32_t pool_size);

// The whole capture, in time order. Fails when traces differ in link type (naming both).
Result<std::vector<Pick>> build_capture(std::span<const Trace> traces, Variant v, int hours);

// Default trace lists: names in the dev corpus (all classic pcap, Ethernet).
const std::vector<std::string>& steady_trace_names();
const std::vector<std::string>& changing_trace_names();

// Reads a capture with libpcap and hashes each frame's flow key.
Result<Trace> load_trace(const std::string& path);

// Classic pcap, microsecond, little endian: the 24-byte header then one record per pick.
void write_pcap(std::span<const Trace> traces, std::span<const Pick> picks, std::ostream& out);

}  // namespace dgc::tools::bench
