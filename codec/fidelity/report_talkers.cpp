#include "codec/fidelity/report_talkers.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <utility>

namespace dgc::fidelity {

std::string address_text(const std::array<uint8_t, 16>& addr, uint8_t ip_version) {
    char b[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr.data(), b, sizeof b)) return "?";
    return b;
}

std::vector<Talker> top_talkers(std::span<const PacketRecord> records, size_t n) {
    std::map<std::pair<uint8_t, std::array<uint8_t, 16>>, uint64_t> count;
    for (const PacketRecord& r : records) {
        if (!r.is_ip()) continue;
        std::array<uint8_t, 16> a = r.src;
        if (r.ip_version == 4) std::fill(a.begin() + 4, a.end(), 0);
        ++count[{r.ip_version, a}];
    }
    std::vector<Talker> all;
    all.reserve(count.size());
    for (const auto& [key, packets] : count) all.push_back({address_text(key.second, key.first), packets});
    const size_t keep = std::min(n, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(),
                      [](const Talker& a, const Talker& b) { return a.packets != b.packets ? a.packets > b.packets : a.address < b.address; });
    all.resize(keep);
    return all;
}

std::vector<ProtoShare> protocol_mix(const Histogram& real, const Histogram& synth) {
    std::map<uint64_t, ProtoShare> by_proto;
    auto add = [&](const Histogram& h, double ProtoShare::*side) {
        for (size_t i = 0; i < h.keys.size(); ++i) {
            ProtoShare& s = by_proto[h.keys[i]];
            s.proto = h.keys[i];
            s.*side = static_cast<double>(h.counts[i]) / static_cast<double>(h.total);
        }
    };
    add(real, &ProtoShare::real);
    add(synth, &ProtoShare::synth);
    std::vector<ProtoShare> out;
    for (const auto& [p, s] : by_proto) out.push_back(s);
    std::stable_sort(out.begin(), out.end(), [](const ProtoShare& a, const ProtoShare& b) { return a.real + a.synth > b.real + b.synth; });
    return out;
}

}  // namespace dgc::fidelity
