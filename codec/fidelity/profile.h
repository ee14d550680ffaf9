// Everything the fidelity metrics need from one trace, computed in one pass: the 17
// histograms, the five joint histograms, the per-second series (for the report) and the
// flow keys (for `replay`). Comparing two traces is then cheap, and a trace compared to
// several others (the floor, the report) is profiled once.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/fidelity/histogram.h"
#include "codec/flows.h"
#include "codec/record.h"

namespace dgc::fidelity {

enum Metric : int {
    kSa, kDa, kSp, kDp, kProto, kPktLen, kTtl, kTos, kTcpFlags, kIat,
    kPps, kBps, kDsrc, kFlowPkts, kFlowBytes, kFlowDur, kFlowStart, kMetricCount
};
enum JointMetric : int { kJProtoLen, kJSvcLen, kJFlowPktsDur, kJSvcFlowBytes, kJFlowGapLen, kJointCount };

// Names exactly as ../shared/spec/fidelity.md gives them (and as --json prints them).
inline constexpr std::array<std::string_view, kMetricCount> kMetricNames = {
    "sa", "da", "sp", "dp", "proto", "pkt_len", "ttl", "tos", "tcp_flags", "iat",
    "pps", "bps", "dsrc", "flow_pkts", "flow_bytes", "flow_dur", "flow_start"};
inline constexpr std::array<std::string_view, kJointCount> kJointNames = {
    "j_proto_len", "j_svc_len", "j_flow_pkts_dur", "j_svc_flow_bytes", "j_flow_gap_len"};

struct SecondSample {
    int64_t window = 0;     // floor(t / 1e9)
    uint64_t packets = 0;
    uint64_t bytes = 0;     // sum of ip_len
};

struct TraceProfile {
    uint64_t ip_packets = 0;
    uint64_t nonip_packets = 0;
    int64_t t0 = 0;  // earliest / latest t of the IP packets (0 when there are none)
    int64_t t1 = 0;
    std::array<Histogram, kMetricCount> metrics;
    std::array<Histogram, kJointCount> joint;
    std::vector<SecondSample> seconds;                    // non-empty windows, ascending
    std::vector<FlowKey> flow_keys;        // distinct keys, in order of first appearance
    std::vector<uint64_t> flows_per_key;   // flows of each of them (> 1 when idle gaps split a key)
    uint64_t flows = 0;
};

TraceProfile profile_trace(std::span<const PacketRecord> records);

}  // namespace dgc::fidelity
