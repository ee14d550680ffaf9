// Flow assembly per ../shared/spec/fidelity.md ("Flows"). One pass over the packets in
// time order with an open-addressing table from key to the key's current flow, so the
// fidelity metrics (run per chunk by the trainer and the fs gate) never pay for a
// node-based map or per-flow allocations.
#include "codec/flows.h"

#include <algorithm>
#include <cstring>

namespace dgc {
namespace {

// Endpoint (address, port) as compared for the unordered pair: address bytes first, then port.
struct Endpoint {
    std::array<uint8_t, 16> addr{};
    uint16_t port = 0;
    auto operator<=>(const Endpoint&) const = default;
};

Endpoint endpoint(const std::array<uint8_t, 16>& a, uint8_t ip_version, uint16_t port) {
    Endpoint e;
    // IPv4 lives in the first 4 bytes; whatever a producer left behind them is not identity.
    const size_t n = ip_version == 4 ? 4 : 16;
    std::memcpy(e.addr.data(), a.data(), n);
    e.port = port;
    return e;
}

uint64_t mix64(uint64_t x) {
    // splitmix64 finaliser: a fixed bijection with good avalanche.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t load_le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];  // explicit order: same hash on any endianness
    return v;
}

bool same_key(const FlowKey& x, const FlowKey& y) {
    // FlowKey has no padding (38 bytes of uint8/uint16 members), so bytes equal <=> keys equal.
    static_assert(sizeof(FlowKey) == 38);
    return std::memcmp(&x, &y, sizeof(FlowKey)) == 0;
}

// Key -> the key's current flow. Keys are never erased; a flow that times out is
// replaced in its key's slot by the next flow of that key. Each slot keeps 32 bits of
// the key's hash so that probing rarely touches the 40-byte keys.
class KeyTable {
public:
    explicit KeyTable(size_t expected) {
        size_t cap = 64;
        while (cap < expected * 2) cap <<= 1;
        slots_.assign(cap, Slot{});
    }

    // Returns a reference to the flow index stored for `k` (kNoFlow if new).
    uint32_t& find_or_insert(const FlowKey& k, const std::vector<FlowSummary>& flows) {
        if ((used_ + 1) * 2 > slots_.size()) grow();
        const uint64_t h = flow_key_hash(k);
        const uint32_t tag = static_cast<uint32_t>(h >> 32);
        const size_t mask = slots_.size() - 1;
        size_t i = h & mask;
        while (true) {
            Slot& s = slots_[i];
            if (s.flow == kNoFlow) {
                ++used_;
                s.tag = tag;
                s.low = static_cast<uint32_t>(h);
                return s.flow;
            }
            if (s.tag == tag && same_key(flows[s.flow].key, k)) return s.flow;
            i = (i + 1) & mask;
        }
    }

private:
    struct Slot {
        uint32_t flow = kNoFlow;
        uint32_t tag = 0;
        uint32_t low = 0;  // low 32 bits of the hash: where the slot belongs after growing
    };

    void grow() {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(old.size() * 2, Slot{});
        const size_t mask = slots_.size() - 1;
        for (const Slot& s : old) {
            if (s.flow == kNoFlow) continue;
            size_t i = s.low & mask;
            while (slots_[i].flow != kNoFlow) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    size_t used_ = 0;
};

}  // namespace

FlowKey flow_key_of(const PacketRecord& r) {
    FlowKey k;
    k.proto = r.proto;
    k.ip_version = r.ip_version;
    const bool ports = r.has_ports();
    Endpoint s = endpoint(r.src, r.ip_version, ports ? r.sport : 0);
    Endpoint d = endpoint(r.dst, r.ip_version, ports ? r.dport : 0);
    if (d < s) std::swap(s, d);
    k.a = s.addr;
    k.port_a = s.port;
    k.b = d.addr;
    k.port_b = d.port;
    return k;
}

uint64_t flow_key_hash(const FlowKey& k) {
    // Multiply-rotate over the five words, one full avalanche at the end: cheaper than a
    // finaliser per word and still well mixed in every bit (the floor split uses the top one).
    const uint64_t words[5] = {uint64_t(k.proto) | uint64_t(k.ip_version) << 8 | uint64_t(k.port_a) << 16 |
                                   uint64_t(k.port_b) << 32,
                               load_le64(k.a.data()), load_le64(k.a.data() + 8), load_le64(k.b.data()),
                               load_le64(k.b.data() + 8)};
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (uint64_t w : words) {
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h = (h << 31) | (h >> 33);
    }
    return mix64(h);
}

std::vector<uint32_t> time_order(std::span<const PacketRecord> records) {
    std::vector<uint32_t> order;
    order.reserve(records.size());
    bool sorted = true;
    int64_t last = 0;
    for (uint32_t i = 0; i < records.size(); ++i) {
        if (!records[i].is_ip()) continue;
        if (!order.empty() && records[i].t_ns < last) sorted = false;
        last = records[i].t_ns;
        order.push_back(i);
    }
    if (sorted) return order;  // the usual case: capture files are almost always in order
    // Index as tie-break makes the unstable sort stable (ties stay in file order).
    std::vector<std::pair<int64_t, uint32_t>> keyed(order.size());
    for (size_t j = 0; j < order.size(); ++j) keyed[j] = {records[order[j]].t_ns, order[j]};
    std::sort(keyed.begin(), keyed.end());
    for (size_t j = 0; j < keyed.size(); ++j) order[j] = keyed[j].second;
    return order;
}

FlowTable build_flow_table(std::span<const PacketRecord> records) {
    FlowTable t;
    t.order = time_order(records);
    t.flow_of.assign(records.size(), kNoFlow);
    KeyTable keys(std::min<size_t>(t.order.size(), 1u << 16));
    for (uint32_t idx : t.order) {
        const PacketRecord& r = records[idx];
        const FlowKey k = flow_key_of(r);
        uint32_t& cur = keys.find_or_insert(k, t.flows);
        if (cur == kNoFlow || r.t_ns - t.flows[cur].end_ns > kFlowIdleTimeoutNs) {
            FlowSummary f;
            f.key = k;
            f.key_index = cur == kNoFlow ? t.distinct_keys++ : t.flows[cur].key_index;
            f.start_ns = r.t_ns;
            f.end_ns = r.t_ns;
            t.flows.push_back(f);
            cur = static_cast<uint32_t>(t.flows.size() - 1);
        }
        FlowSummary& f = t.flows[cur];
        f.end_ns = r.t_ns;
        f.packets += 1;
        f.bytes += r.ip_len;
        t.flow_of[idx] = cur;
    }
    return t;
}

std::vector<Flow> assemble_flows(std::span<const PacketRecord> records) {
    FlowTable t = build_flow_table(records);
    std::vector<Flow> flows(t.flows.size());
    for (size_t i = 0; i < t.flows.size(); ++i) {
        const FlowSummary& s = t.flows[i];
        flows[i].key = s.key;
        flows[i].start_ns = s.start_ns;
        flows[i].end_ns = s.end_ns;
        flows[i].bytes = s.bytes;
        flows[i].packets.reserve(s.packets);
    }
    for (uint32_t idx : t.order) flows[t.flow_of[idx]].packets.push_back(idx);
    return flows;
}

}  // namespace dgc
