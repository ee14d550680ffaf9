#include "codec/fidelity/bin_labels.h"

#include <cstdio>

#include "codec/fidelity/binning.h"
#include "codec/fidelity/svg_plot.h"

namespace dgc::fidelity {
namespace {

std::string fmt(const char* f, double v) {
    char b[32];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

}  // namespace

std::string dt_label(uint64_t key) {
    if (key == 0) return "0";
    const double ns = static_cast<double>(dt_edges()[key - 1]);
    if (ns < 1e3) return fmt("%.3gns", ns);
    if (ns < 1e6) return fmt("%.3g\u00b5s", ns / 1e3);
    if (ns < 1e9) return fmt("%.3gms", ns / 1e6);
    return fmt("%.3gs", ns / 1e9);
}

std::string log2_label(uint64_t key) {
    if (key == 0) return "0";
    return format_si(static_cast<double>(uint64_t{1} << (key - 1)));
}

std::string proto_label(uint64_t p) {
    switch (p) {
        case 1: return "ICMP";
        case 2: return "IGMP";
        case 6: return "TCP";
        case 17: return "UDP";
        case 47: return "GRE";
        case 50: return "ESP";
        case 58: return "ICMP6";
        case 132: return "SCTP";
        default: return std::to_string(p);
    }
}

std::string flags_label(uint64_t f) {
    static const char kLetters[] = "FSRPAUEC";
    std::string s;
    for (int i = 0; i < 8; ++i)
        if (f & (1u << i)) s += kLetters[i];
    return s.empty() ? "-" : s;
}

std::string metric_bin_label(Metric m, uint64_t key) {
    switch (m) {
        case kSa:
        case kDa: return std::to_string(key + 1);
        case kProto: return proto_label(key);
        case kPktLen: return std::to_string(key * 16);
        case kTcpFlags: return flags_label(key);
        case kIat:
        case kFlowDur: return dt_label(key);
        case kPps:
        case kBps:
        case kDsrc:
        case kFlowPkts:
        case kFlowBytes: return log2_label(key);
        case kFlowStart: return std::to_string(key) + "%";
        default: return std::to_string(key);
    }
}

std::string joint_bin_label(JointMetric m, uint64_t key) {
    const uint64_t hi = key >> 32, lo = key & 0xffffffffULL;
    switch (m) {
        case kJProtoLen: return proto_label(hi) + "/" + std::to_string(lo * 16);
        case kJSvcLen: return std::to_string(hi) + "/" + std::to_string(lo * 16);
        case kJFlowPktsDur: return log2_label(hi) + "/" + dt_label(lo);
        case kJSvcFlowBytes: return std::to_string(hi) + "/" + log2_label(lo);
        case kJFlowGapLen: return dt_label(hi) + "/" + std::to_string(lo * 16);
        default: return std::to_string(key);
    }
}

std::string metric_axis(Metric m) {
    switch (m) {
        case kSa: return "source address rank";
        case kDa: return "destination address rank";
        case kSp: return "source port";
        case kDp: return "destination port";
        case kProto: return "IP protocol";
        case kPktLen: return "IP length (bins of 16 bytes)";
        case kTtl: return "TTL / hop limit";
        case kTos: return "TOS / traffic class";
        case kTcpFlags: return "TCP flags";
        case kIat: return "inter-arrival gap (bin lower edge)";
        case kPps: return "packets per 1-s window (log2 bin lower edge)";
        case kBps: return "bytes per 1-s window (log2 bin lower edge)";
        case kDsrc: return "distinct sources per 1-s window (log2 bin)";
        case kFlowPkts: return "packets per flow (log2 bin lower edge)";
        case kFlowBytes: return "bytes per flow (log2 bin lower edge)";
        case kFlowDur: return "flow duration (bin lower edge)";
        case kFlowStart: return "flow start, % of the trace";
        default: return "";
    }
}

std::string joint_axis(JointMetric m) {
    switch (m) {
        case kJProtoLen: return "protocol / length bin (most frequent bins)";
        case kJSvcLen: return "service port / length bin (most frequent bins)";
        case kJFlowPktsDur: return "flow packets / duration (most frequent bins)";
        case kJSvcFlowBytes: return "service port / flow bytes (most frequent bins)";
        case kJFlowGapLen: return "gap in flow / length bin (most frequent bins)";
        default: return "";
    }
}

bool metric_is_ordinal(Metric m) {
    switch (m) {
        case kPktLen:
        case kIat:
        case kPps:
        case kBps:
        case kDsrc:
        case kFlowPkts:
        case kFlowBytes:
        case kFlowDur:
        case kFlowStart: return true;
        default: return false;
    }
}

}  // namespace dgc::fidelity
