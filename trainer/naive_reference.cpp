#include "trainer/naive_reference.h"

#include <algorithm>

#include "trainer/rng.h"

namespace dgc::trainer {

std::vector<PacketRecord> naive_reference(std::span<const PacketRecord> chunk, uint64_t seed) {
    std::vector<const PacketRecord*> ip, ported, tcp;
    for (const auto& r : chunk) {
        if (!r.is_ip()) continue;
        ip.push_back(&r);
        if (r.has_ports()) ported.push_back(&r);
        if (r.proto == 6 && (r.present & kHasTcp)) tcp.push_back(&r);
    }
    Rng rng(seed);
    auto any = [&](const std::vector<const PacketRecord*>& v) { return v[rng.below(v.size())]; };
    std::vector<PacketRecord> out;
    out.reserve(chunk.size());
    for (const auto& real : chunk) {
        PacketRecord r = real;  // non-IP frames keep their own values, at a resampled time
        r.t_ns = chunk[rng.below(chunk.size())].t_ns;
        if (real.is_ip()) {
            const PacketRecord* s = any(ip);
            r.ip_version = s->ip_version;
            r.src = s->src;
            r.dst = any(ip)->dst;
            r.proto = any(ip)->proto;
            r.ip_len = any(ip)->ip_len;
            r.ttl = any(ip)->ttl;
            r.tos = any(ip)->tos;
            r.present = kHasIp;
            if ((r.proto == 6 || r.proto == 17) && !ported.empty()) {
                r.present |= kHasPorts | (r.proto == 6 ? kHasTcp : kHasUdp);
                r.sport = any(ported)->sport;
                r.dport = any(ported)->dport;
            }
            if (r.proto == 6 && !tcp.empty()) r.tcp_flags = any(tcp)->tcp_flags;
        }
        out.push_back(r);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; });
    return out;
}

}  // namespace dgc::trainer
