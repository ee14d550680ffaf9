#include "trainer/tcp_reorder.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "codec/fidelity/semantics.h"
#include "trainer/rng.h"
#include "trainer/synth_endpoint.h"
#include "trainer/tcp_ends.h"

namespace dgc::trainer {

namespace {

constexpr int64_t kNoRttNs = 3'000'000;  // tshark's out-of-order window without a handshake RTT

void less(TcpLoss& l, uint32_t n) {
    l.gaps -= std::min(l.gaps, n);
    l.retrans -= std::min(l.retrans, n);
}

uint64_t tcp_flow_key(const PacketRecord& r) {
    Endpoint a, b;
    a.addr = r.src, a.port = r.sport, b.addr = r.dst, b.port = r.dport;
    return flow_key(6, a, b);
}

bool plain_data(const PacketRecord& r) {
    return !(r.tcp_flags & (kSyn | kFin | kRst)) && fidelity::tcp_payload_bytes(r) > 0;
}

}  // namespace

ChunkSide without_reorders(const ChunkSide& side) {
    ChunkSide s = side;
    const uint32_t all = side.reordered[0] + side.reordered[1];
    less(s.tcp_loss, all);
    less(s.lossy, all);
    for (int e = 0; e < 2; ++e) less(s.loss_ends[e], side.reordered[e]);
    return s;
}

void reorder_segments(const std::array<uint32_t, 2>& reordered, uint64_t seed, const std::vector<uint64_t>& lossy,
                      std::vector<PacketRecord>& records) {
    if (!reordered[0] && !reordered[1]) return;
    const std::vector<int8_t> ends = tcp_segment_ends(records);
    struct Conn {
        int64_t last = -1;  // its latest record
        int64_t syn_t = -1, rtt = -1;
        bool lossy = false;
    };
    std::unordered_map<uint64_t, Conn> conns;
    for (uint64_t k : lossy) conns[k].lossy = true;
    std::array<std::vector<std::pair<uint32_t, uint32_t>>, 2> pairs;
    for (uint32_t j = 0; j < records.size(); ++j) {
        const PacketRecord& r = records[j];
        if (j >= ends.size() || ends[j] < 0) continue;
        Conn& c = conns[tcp_flow_key(r)];
        if ((r.tcp_flags & (kSyn | kAck)) == kSyn) c.syn_t = r.t_ns;
        if (c.rtt < 0 && c.syn_t >= 0 && (r.tcp_flags & (kSyn | kAck)) == kAck) c.rtt = r.t_ns - c.syn_t;
        if (c.last >= 0 && c.lossy) {
            const PacketRecord& p = records[c.last];
            const int64_t window = c.rtt > 0 ? c.rtt : kNoRttNs;
            if (ends[c.last] == ends[j] && plain_data(p) && plain_data(r) && r.src == p.src && r.sport == p.sport &&
                r.seq == p.seq + fidelity::tcp_payload_bytes(p) && r.t_ns - p.t_ns < window)
                pairs[ends[j]].push_back({static_cast<uint32_t>(c.last), j});
        }
        c.last = j;
    }
    std::vector<uint8_t> used(records.size(), 0);
    Rng rng(seed ^ 0x5E0DE5ULL);
    for (int e = 0; e < 2; ++e) {
        auto& cand = pairs[e];
        uint32_t left = reordered[e];
        for (size_t k = 0; k < cand.size() && left; ++k) {
            std::swap(cand[k], cand[k + rng.below(cand.size() - k)]);
            const auto [i, j] = cand[k];
            if (used[i] || used[j]) continue;
            used[i] = used[j] = 1, --left;
            std::swap(records[i].t_ns, records[j].t_ns);
            std::swap(records[i], records[j]);
        }
    }
}

}  // namespace dgc::trainer
