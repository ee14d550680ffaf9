// A perturbed copy of a trace for the data-driven tests: values differ in every metric
// family and the file order is no longer time order.
#pragma once

#include <vector>

#include "codec/record.h"

namespace dgc::test {

inline std::vector<PacketRecord> perturb(const std::vector<PacketRecord>& in) {
    std::vector<PacketRecord> out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (i % 11 == 10) continue;
        PacketRecord r = in[i];
        if (i % 3 == 0) r.t_ns += 137'000 + static_cast<int64_t>(i % 1000) * 1'000'000;  // reorders some
        if (i % 5 == 0 && r.has_ports()) r.sport = static_cast<uint16_t>(r.sport + 1);
        if (i % 4 == 0) r.ttl = static_cast<uint8_t>(r.ttl + 1);
        if (i % 6 == 0) r.ip_len += 16;
        out.push_back(r);
    }
    return out;
}

}  // namespace dgc::test
