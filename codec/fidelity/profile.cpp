// One pass over a trace in time order fills every histogram of the spec. Small value
// domains (proto, ttl, tos, flags, dtbin, log2bin) count into fixed arrays; open domains
// (ports, lengths, joint pairs) into flat hash counters.
#include "codec/fidelity/profile.h"

#include <algorithm>

#include "codec/fidelity/address_index.h"
#include "codec/fidelity/binning.h"

namespace dgc::fidelity {
namespace {

template <size_t N>
struct DenseCounter {
    std::array<uint64_t, N> c{};
    void add(uint64_t key, uint64_t n = 1) { c[key] += n; }
    Histogram to_histogram() const {
        Histogram h;
        for (size_t k = 0; k < N; ++k) h.push_sorted(k, c[k]);
        return h;
    }
};

uint16_t svc_of(const FlowKey& k) { return std::min(k.port_a, k.port_b); }

// Per-window counters (pps, bps, dsrc) over windows from floor(T0) to floor(T1),
// including the empty ones, which all land in bin 0.
struct WindowPass {
    DenseCounter<65> pps, bps, dsrc;
    std::vector<SecondSample> seconds;
    std::vector<int64_t> last_window_of_src;  // per source id: last window it was counted in
    bool open = false;
    SecondSample cur;
    uint64_t distinct = 0;

    void add(int64_t w, uint32_t src_id, uint32_t len) {
        if (!open || w != cur.window) {
            flush();
            cur = SecondSample{w, 0, 0};
            distinct = 0;
            open = true;
        }
        cur.packets += 1;
        cur.bytes += len;
        if (src_id >= last_window_of_src.size()) last_window_of_src.resize(src_id + 1, INT64_MIN);
        // window_of never reaches INT64_MIN, so the initial value means "not yet seen".
        int64_t& seen = last_window_of_src[src_id];
        if (seen != w) {
            ++distinct;
            seen = w;
        }
    }
    void flush() {
        if (!open) return;
        pps.add(log2bin(cur.packets));
        bps.add(log2bin(cur.bytes));
        dsrc.add(log2bin(distinct));
        seconds.push_back(cur);
    }
    void finish(int64_t t0, int64_t t1) {
        flush();
        if (seconds.empty()) return;
        const uint64_t windows = static_cast<uint64_t>(window_of(t1) - window_of(t0)) + 1;
        const uint64_t empty = windows - seconds.size();
        pps.add(0, empty);
        bps.add(0, empty);
        dsrc.add(0, empty);
    }
};

}  // namespace

TraceProfile profile_trace(std::span<const PacketRecord> records) {
    TraceProfile p;
    const FlowTable ft = build_flow_table(records);
    p.ip_packets = ft.order.size();
    p.nonip_packets = records.size() - ft.order.size();
    p.flows = ft.flows.size();
    if (!ft.order.empty()) {
        p.t0 = records[ft.order.front()].t_ns;
        p.t1 = records[ft.order.back()].t_ns;
    }

    AddressIndex addrs(std::min<size_t>(ft.order.size() / 4 + 16, 1u << 16));
    std::vector<uint64_t> sa_count, da_count;
    KeyCounter sp(1024), dp(1024), pkt_len(256), j_proto_len(512), j_svc_len(1024), j_gap_len(1024);
    DenseCounter<256> proto, ttl, tos, flags;
    DenseCounter<102> iat;
    WindowPass win;
    std::vector<int64_t> flow_last_t(ft.flows.size());
    std::vector<uint8_t> flow_seen(ft.flows.size(), 0);

    bool have_prev = false;
    int64_t prev_t = 0;
    for (uint32_t idx : ft.order) {
        const PacketRecord& r = records[idx];
        const uint32_t s = addrs.id_of(r.src, r.ip_version);
        const uint32_t d = addrs.id_of(r.dst, r.ip_version);
        if (addrs.size() > sa_count.size()) {
            sa_count.resize(addrs.size() * 2, 0);
            da_count.resize(addrs.size() * 2, 0);
        }
        sa_count[s] += 1;
        da_count[d] += 1;
        const uint64_t lb = len_bin(r.ip_len);
        if (r.has_ports()) {
            sp.add(r.sport);
            dp.add(r.dport);
            j_svc_len.add(pair_key(std::min(r.sport, r.dport), lb));
        }
        proto.add(r.proto);
        pkt_len.add(lb);
        ttl.add(r.ttl);
        tos.add(r.tos);
        if (r.proto == 6 && (r.present & kHasTcp)) flags.add(r.tcp_flags);
        if (have_prev) iat.add(dtbin_key(r.t_ns - prev_t));
        have_prev = true;
        prev_t = r.t_ns;
        win.add(window_of(r.t_ns), s, r.ip_len);
        j_proto_len.add(pair_key(r.proto, lb));

        const uint32_t f = ft.flow_of[idx];
        if (flow_seen[f]) j_gap_len.add(pair_key(dtbin_key(r.t_ns - flow_last_t[f]), lb));
        flow_seen[f] = 1;
        flow_last_t[f] = r.t_ns;
    }
    win.finish(p.t0, p.t1);

    sa_count.resize(addrs.size());
    da_count.resize(addrs.size());
    // An address seen only as destination has no source packets: not a sample of sa.
    std::erase(sa_count, 0);
    std::erase(da_count, 0);
    p.metrics[kSa] = rank_histogram(std::move(sa_count));
    p.metrics[kDa] = rank_histogram(std::move(da_count));
    p.metrics[kSp] = sp.to_histogram();
    p.metrics[kDp] = dp.to_histogram();
    p.metrics[kProto] = proto.to_histogram();
    p.metrics[kPktLen] = pkt_len.to_histogram();
    p.metrics[kTtl] = ttl.to_histogram();
    p.metrics[kTos] = tos.to_histogram();
    p.metrics[kTcpFlags] = flags.to_histogram();
    p.metrics[kIat] = iat.to_histogram();
    p.metrics[kPps] = win.pps.to_histogram();
    p.metrics[kBps] = win.bps.to_histogram();
    p.metrics[kDsrc] = win.dsrc.to_histogram();
    p.seconds = std::move(win.seconds);

    DenseCounter<65> fpk, fby;
    DenseCounter<102> fdur;
    DenseCounter<100> fstart;
    KeyCounter j_pkts_dur(256), j_svc_bytes(1024);
    p.flow_keys.resize(ft.distinct_keys);
    p.flows_per_key.assign(ft.distinct_keys, 0);
    for (const FlowSummary& f : ft.flows) {
        const uint64_t pb = log2bin(f.packets);
        const uint64_t bb = log2bin(f.bytes);
        const uint64_t db = dtbin_key(f.end_ns - f.start_ns);
        fpk.add(pb);
        fby.add(bb);
        fdur.add(db);
        fstart.add(flow_start_bin(f.start_ns, p.t0, p.t1));
        j_pkts_dur.add(pair_key(pb, db));
        j_svc_bytes.add(pair_key(svc_of(f.key), bb));
        p.flow_keys[f.key_index] = f.key;
        p.flows_per_key[f.key_index] += 1;
    }
    p.metrics[kFlowPkts] = fpk.to_histogram();
    p.metrics[kFlowBytes] = fby.to_histogram();
    p.metrics[kFlowDur] = fdur.to_histogram();
    p.metrics[kFlowStart] = fstart.to_histogram();
    p.joint[kJProtoLen] = j_proto_len.to_histogram();
    p.joint[kJSvcLen] = j_svc_len.to_histogram();
    p.joint[kJFlowPktsDur] = j_pkts_dur.to_histogram();
    p.joint[kJSvcFlowBytes] = j_svc_bytes.to_histogram();
    p.joint[kJFlowGapLen] = j_gap_len.to_histogram();

    return p;
}

}  // namespace dgc::fidelity
