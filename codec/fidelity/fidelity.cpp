#include "codec/fidelity/fidelity.h"

#include "codec/flows.h"

namespace dgc::fidelity {

std::optional<double> mean_defined(std::span<const std::optional<double>> values) {
    double sum = 0.0;
    size_t n = 0;
    for (const auto& v : values) {
        if (!v) continue;
        sum += *v;
        ++n;
    }
    if (n == 0) return std::nullopt;
    return sum / static_cast<double>(n);
}

MetricSet compare(const TraceProfile& real, const TraceProfile& synth) {
    MetricSet m;
    for (int i = 0; i < kMetricCount; ++i) m.metrics[i] = jsd(real.metrics[i], synth.metrics[i]);
    for (int i = 0; i < kJointCount; ++i) m.joint[i] = jsd(real.joint[i], synth.joint[i]);
    m.average = mean_defined(m.metrics);
    m.joint_average = mean_defined(m.joint);
    return m;
}

std::optional<double> replay_share(const TraceProfile& real, const TraceProfile& synth) {
    if (synth.flows == 0) return std::nullopt;
    // Open-addressing set of REAL's distinct keys (index + 1; 0 = empty).
    size_t cap = 16;
    while (cap < real.flow_keys.size() * 2) cap <<= 1;
    const size_t mask = cap - 1;
    std::vector<uint32_t> slots(cap, 0);
    for (uint32_t i = 0; i < real.flow_keys.size(); ++i) {
        size_t s = flow_key_hash(real.flow_keys[i]) & mask;
        while (slots[s] != 0) s = (s + 1) & mask;
        slots[s] = i + 1;
    }
    uint64_t replayed = 0;
    for (size_t j = 0; j < synth.flow_keys.size(); ++j) {
        const FlowKey& k = synth.flow_keys[j];
        for (size_t s = flow_key_hash(k) & mask; slots[s] != 0; s = (s + 1) & mask) {
            if (real.flow_keys[slots[s] - 1] == k) {
                replayed += synth.flows_per_key[j];
                break;
            }
        }
    }
    return static_cast<double>(replayed) / static_cast<double>(synth.flows);
}

FidelityReport evaluate(const TraceProfile& real, const TraceProfile& synth) {
    FidelityReport r;
    r.score = compare(real, synth);
    r.real = {real.ip_packets, real.nonip_packets};
    r.synthetic = {synth.ip_packets, synth.nonip_packets};
    r.replay = replay_share(real, synth);
    return r;
}

FidelityReport evaluate(std::span<const PacketRecord> real, std::span<const PacketRecord> synth) {
    return evaluate(profile_trace(real), profile_trace(synth));
}

bool second_half(const FlowKey& key) { return (flow_key_hash(key) >> 63) != 0; }

FlowHashSplit split_by_flow_hash(std::span<const PacketRecord> real) {
    // Two passes so each half is allocated once at its exact size: one large flow can
    // put most of a trace in one half.
    std::vector<uint8_t> half(real.size(), 2);  // 2 = non-IP, dropped
    size_t second = 0, first = 0;
    for (size_t i = 0; i < real.size(); ++i) {
        if (!real[i].is_ip()) continue;
        half[i] = second_half(flow_key_of(real[i])) ? 1 : 0;
        (half[i] ? second : first) += 1;
    }
    FlowHashSplit s;
    s.first.reserve(first);
    s.second.reserve(second);
    for (size_t i = 0; i < real.size(); ++i) {
        if (half[i] == 0) s.first.push_back(real[i]);
        else if (half[i] == 1) s.second.push_back(real[i]);
    }
    return s;
}

FidelityReport floor(std::span<const PacketRecord> real) {
    const FlowHashSplit s = split_by_flow_hash(real);
    return evaluate(s.first, s.second);
}

}  // namespace dgc::fidelity
