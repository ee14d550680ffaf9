#include "trainer/tcp_fin_resends.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_map>

#include "codec/fidelity/semantics.h"
#include "codec/flows.h"
#include "trainer/flow_choices.h"
#include "trainer/tcp_ends.h"
#include "trainer/tcp_plan.h"
#include "trainer/tcp_sides.h"

namespace dgc::trainer {

namespace {

struct FinEvent {
    uint32_t rec = 0;    // the FIN segment
    uint32_t first = 0;  // the first send it resends (itself for a first send)
    bool resend = false;
};

// The FINs of `records`' TCP segments (`ends[i]` >= 0), first sends and resends, in `order`.
// A SYN or RST starts the 4-tuple afresh.
std::vector<FinEvent> fin_events(std::span<const PacketRecord> records, std::span<const uint32_t> order,
                                 std::span<const int8_t> ends) {
    struct Side {
        bool sent = false, acked = false;
        uint32_t fin_end = 0, first = 0;
    };
    std::unordered_map<FlowKey, std::array<Side, 2>, FlowKeyHash> tuples;
    std::vector<FinEvent> events;
    for (uint32_t i : order) {
        if (ends[i] < 0) continue;
        const PacketRecord& r = records[i];
        const FlowKey key = flow_key_of(r);
        const int at = from_key_a(r, key) ? 0 : 1;
        auto& sides = tuples[key];
        if (r.tcp_flags & (kSyn | kRst)) {
            sides = {};
            continue;
        }
        Side& peer = sides[1 - at];
        if ((r.tcp_flags & kAck) && peer.sent && !seq_after(peer.fin_end, r.ack)) peer.acked = true;
        if (!(r.tcp_flags & kFin)) continue;
        Side& s = sides[at];
        const uint32_t end = r.seq + fidelity::tcp_payload_bytes(r) + 1;
        if (!s.sent || seq_after(end, s.fin_end)) {
            s = {true, false, end, i};
            events.push_back({i, i, false});
        } else if (!s.acked) {
            events.push_back({i, s.first, true});
        }
    }
    return events;
}

// A FIN the generator resends: the segments that become its resends, and what they carry;
// the peer's RST that answers the last of them, if it follows.
struct FinPlan {
    uint32_t fin = 0;
    std::vector<uint32_t> slots;
    uint32_t seq = 0, payload = 0;
    std::optional<uint32_t> rst;
    int64_t rst_delay = 0;  // after the last resend, as after the FIN before
};

// How many resends of a FIN at `fin_t` come before `limit`.
uint32_t resends_before(int64_t fin_t, int64_t gap_ns, int64_t limit) {
    uint32_t n = 0;
    while (n < kMaxFinResends && fin_resend_time(fin_t, gap_ns, n) < limit) ++n;
    return n;
}

// The FIN `seg[at]`'s resends, given the segments after it that become some (`slots`), up to
// `want` in all: the peer's bare ACKs just before it, latest first; then where the resend
// starts: at the first byte the peer's remaining segments left unacknowledged, when the FIN
// and the bytes before it fit in one segment as large as its side sent in the connection.
// The chunk's first record (at `first_t`) stays where it is.
FinPlan plan_resends(std::span<const PacketRecord> records, std::span<const uint32_t> seg, size_t at,
                     std::vector<uint32_t> slots, size_t want, std::span<const uint8_t> taken, int64_t first_t) {
    const PacketRecord& fin = records[seg[at]];
    const FlowKey key = flow_key_of(fin);
    const bool fin_side = from_key_a(fin, key);
    size_t p = at;
    for (; p-- > 0 && slots.size() < want;) {
        const PacketRecord& r = records[seg[p]];
        if (r.tcp_flags & kSyn) break;
        const bool after_syn = p > 0 && (records[seg[p - 1]].tcp_flags & kSyn);
        if (from_key_a(r, key) != fin_side && r.tcp_flags == kAck && fidelity::tcp_payload_bytes(r) == 0 && !taken[seg[p]] &&
            !after_syn && r.t_ns > first_t)
            slots.push_back(seg[p]);
    }
    std::optional<uint32_t> una;
    uint32_t largest = 0;
    for (size_t q = at; q-- > 0;) {
        const PacketRecord& r = records[seg[q]];
        if (r.tcp_flags & kSyn) break;
        if (from_key_a(r, key) == fin_side) {
            largest = std::max(largest, fidelity::tcp_payload_bytes(r));
        } else if (!una && (r.tcp_flags & kAck) && std::find(slots.begin(), slots.end(), seg[q]) == slots.end()) {
            una = r.ack;
        }
    }
    const uint32_t own = fidelity::tcp_payload_bytes(fin);
    FinPlan plan{seg[at], std::move(slots), fin.seq, own, std::nullopt, 0};
    if (una && seq_after(fin.seq, *una) && fin.seq - *una <= largest && fin.seq - *una + own <= largest)
        plan.seq = *una, plan.payload = fin.seq - *una + own;
    return plan;
}

// The i-th resend of `fin`, written over `slot`.
void write_resend(const PacketRecord& fin, const FinPlan& plan, uint32_t i, int64_t gap_ns, PacketRecord& slot) {
    PacketRecord r = fin;
    r.t_ns = fin_resend_time(fin.t_ns, gap_ns, i);
    r.seq = plan.seq;
    const uint32_t more = plan.payload - fidelity::tcp_payload_bytes(fin);
    r.ip_len += more, r.wirelen += more, r.caplen += more;
    r.tcp_flags = static_cast<uint8_t>(kFin | kAck | (plan.payload ? kPsh : 0));
    if (r.ip_version == 4 && r.ip_id) r.ip_id = (r.ip_id + i + 1) & 0xffff;
    if (r.tcp_opts & kOptTimestamp) r.tcp_tsval += static_cast<uint32_t>((r.t_ns - fin.t_ns) / 1'000'000);
    slot = r;
}

}  // namespace

uint32_t FinResends::resent(int end) const {
    uint32_t n = 0;
    for (uint32_t k : by_count[static_cast<size_t>(end)]) n += k;
    return n;
}

uint32_t next_resend_count(const std::array<uint32_t, kMaxFinResends>& by_count,
                           const std::array<uint32_t, kMaxFinResends>& given, uint32_t fits) {
    int64_t total = 0, dealt = 1;
    for (size_t k = 0; k < kMaxFinResends; ++k) total += by_count[k], dealt += given[k];
    uint32_t best = 0;
    int64_t behind = std::numeric_limits<int64_t>::min();
    for (uint32_t k = 1; k <= std::min(fits, kMaxFinResends); ++k) {
        if (!by_count[k - 1]) continue;
        // How far count k is behind its share of the `dealt` FINs, in units of 1/total.
        const int64_t d = int64_t{by_count[k - 1]} * dealt - int64_t{given[k - 1]} * total;
        if (d > behind) behind = d, best = k;
    }
    return best;
}

int64_t fin_resend_time(int64_t fin_t, int64_t gap_ns, uint32_t i) {
    return fin_t + gap_ns * ((int64_t{2} << std::min(i, kMaxFinResends)) - 1);
}

FinResends count_fin_resends(std::span<const PacketRecord> records) {
    const std::vector<uint32_t> order = time_order(records);
    const std::vector<int8_t> ends = tcp_segment_ends(records);
    FinResends c;
    std::unordered_map<uint32_t, uint32_t> resends_of;  // per first send
    std::vector<int64_t> gaps;
    for (const FinEvent& e : fin_events(records, order, ends)) {
        if (!e.resend) {
            ++c.fins[static_cast<size_t>(ends[e.first])];
        } else if (resends_of[e.first]++ == 0) {
            gaps.push_back(records[e.rec].t_ns - records[e.first].t_ns);
        }
    }
    for (auto [first, n] : resends_of) ++c.by_count[static_cast<size_t>(ends[first])][std::min(n, kMaxFinResends) - 1];
    if (!gaps.empty()) {
        auto mid = gaps.begin() + static_cast<std::ptrdiff_t>((gaps.size() - 1) / 2);
        std::nth_element(gaps.begin(), mid, gaps.end());
        c.first_gap_ms = static_cast<uint32_t>(std::clamp<int64_t>((*mid + 500'000) / 1'000'000, 1, kMaxFinResendGapMs));
    }
    return c;
}

void resend_fins(const FinResends& chunk, std::vector<PacketRecord>& records, int64_t ip_end) {
    const std::array<uint32_t, 2> resent{chunk.resent(0), chunk.resent(1)};
    if (!resent[0] && !resent[1]) return;
    const std::vector<uint32_t> order = time_order(records);
    const std::vector<int8_t> ends = tcp_segment_ends(records);
    std::unordered_map<FlowKey, std::vector<uint32_t>, FlowKeyHash> tuples;  // each 4-tuple's segments in time order
    std::vector<uint32_t> pos(records.size());
    for (uint32_t i : order) {
        if (ends[i] < 0) continue;
        auto& seg = tuples[flow_key_of(records[i])];
        pos[i] = static_cast<uint32_t>(seg.size());
        seg.push_back(i);
    }
    std::array<ShareQuota, 2> share{ShareQuota(resent[0], chunk.fins[0], true), ShareQuota(resent[1], chunk.fins[1], true)};
    std::array<std::array<uint32_t, kMaxFinResends>, 2> given{};
    const int64_t gap_ns = int64_t{chunk.first_gap_ms} * 1'000'000;
    std::vector<uint8_t> taken(records.size());
    std::vector<FinPlan> plans;
    const int64_t first_t = order.empty() ? 0 : records[order.front()].t_ns;  // stays where it is
    for (const FinEvent& e : fin_events(records, order, ends)) {
        const auto end = static_cast<size_t>(ends[e.rec]);
        if (e.resend || taken[e.rec] || !resent[end]) continue;
        const PacketRecord& fin = records[e.rec];
        const FlowKey key = flow_key_of(fin);
        const std::vector<uint32_t>& seg = tuples[key];
        // The peer has gone: the connection goes on with bare segments only, up to a RST or
        // SYN. A RST of the peer's answers the last resend (it moves, keeping its delay) unless
        // it is the chunk's last record; the chunk's last record is never a resend.
        std::vector<uint32_t> after;
        int64_t limit = ip_end;
        std::optional<uint32_t> rst;
        bool bare = true;
        for (size_t p = pos[e.rec] + 1; p < seg.size() && bare; ++p) {
            const PacketRecord& r = records[seg[p]];
            if (r.tcp_flags & (kSyn | kRst)) {
                if ((r.tcp_flags & kRst) && from_key_a(r, key) != from_key_a(fin, key) && r.t_ns < ip_end && !taken[seg[p]]) {
                    rst = seg[p];
                    if (p + 1 < seg.size()) limit = std::min(limit, records[seg[p + 1]].t_ns);
                    limit -= r.t_ns - fin.t_ns;
                } else {
                    limit = std::min(limit, r.t_ns);
                }
                break;
            }
            bare = fidelity::tcp_payload_bytes(r) == 0 && !taken[seg[p]] && r.t_ns < ip_end;
            after.push_back(seg[p]);
        }
        const uint32_t fits = gap_ns > 0 ? resends_before(fin.t_ns, gap_ns, limit) : 0;
        // Where no count of the chunk's fits, the RST or the chunk's end cuts one short.
        uint32_t count = next_resend_count(chunk.by_count[end], given[end], fits);
        if (!count && fits) count = next_resend_count(chunk.by_count[end], given[end], kMaxFinResends);
        if (!share[end].grant(bare && fits > 0 && fits >= after.size())) continue;
        ++given[end][count - 1];
        const size_t want = std::clamp<size_t>(std::max<size_t>(count, after.size()), 1, fits);
        FinPlan plan = plan_resends(records, seg, pos[e.rec], std::move(after), want, taken, first_t);
        if (plan.slots.empty()) continue;
        for (uint32_t s : plan.slots) taken[s] = 1;
        if (rst) plan.rst = rst, plan.rst_delay = records[*rst].t_ns - fin.t_ns, taken[*rst] = 1;
        plans.push_back(std::move(plan));
    }
    if (plans.empty()) return;
    for (const FinPlan& plan : plans) {
        for (uint32_t i = 0; i < plan.slots.size(); ++i)
            write_resend(records[plan.fin], plan, i, gap_ns, records[plan.slots[i]]);
        if (!plan.rst) continue;
        PacketRecord& r = records[*plan.rst];
        const int64_t t = fin_resend_time(records[plan.fin].t_ns, gap_ns, static_cast<uint32_t>(plan.slots.size() - 1)) + plan.rst_delay;
        if (r.tcp_opts & kOptTimestamp) r.tcp_tsval += static_cast<uint32_t>((t - r.t_ns) / 1'000'000);
        r.t_ns = t;
    }
    std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; });
}

}  // namespace dgc::trainer
