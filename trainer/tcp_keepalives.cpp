#include "trainer/tcp_keepalives.h"

#include <type_traits>
#include <unordered_map>

#include "codec/fidelity/semantics.h"
#include "codec/flows.h"
#include "trainer/flow_choices.h"
#include "trainer/tcp_ends.h"
#include "trainer/tcp_plan.h"
#include "trainer/tcp_sides.h"

namespace dgc::trainer {

namespace {

struct Quiet {
    uint8_t end = 0;            // 0 client, 1 server
    bool bare = false, probe = false;
    uint32_t next = 0;          // its side's next sequence number
    uint32_t last_payload = 0;  // what its side, else its peer, sent last
};

// What to do with a quiet segment: leave it, make it a probe, or give it data.
enum class Fate { kKeep, kProbe, kData };

// Walks `records`' TCP segments in time order and asks `fate(record, quiet)` for each quiet
// one. Each side of a 4-tuple keeps the highest sequence end it sent (a RST moves nothing),
// its last ACK and payload, and, once data went into a quiet segment, how far its later
// sequence numbers (and the acknowledgements of them) move: applied as the walk reaches them,
// so the walk sees the connection as it will be written.
template <class Record, class FateOf>
void walk_quiet(std::span<Record> records, FateOf fate) {
    struct Side {
        bool started = false;
        uint32_t next = 0, ack = 0, last_payload = 0;
        uint32_t shift = 0, shift_from = 0;  // sequence space added from shift_from on
    };
    struct Tuple {
        std::array<Side, 2> side;
        int64_t last_t = 0;
    };
    std::unordered_map<FlowKey, Tuple, FlowKeyHash> tuples;
    const std::vector<int8_t> ends = tcp_segment_ends(records);
    for (uint32_t i : time_order(records)) {
        Record& r = records[i];
        if (r.proto != 6 || !(r.present & kHasTcp) || !r.has_ports()) continue;
        const FlowKey key = flow_key_of(r);
        const int at = from_key_a(r, key) ? 0 : 1;
        const uint8_t f = r.tcp_flags;
        auto [it, fresh] = tuples.try_emplace(key);
        Tuple& t = it->second;
        Side& s = t.side[at];
        Side& peer = t.side[1 - at];
        if constexpr (!std::is_const_v<Record>) {
            r.seq += s.shift;
            if ((f & kAck) && peer.shift && !seq_after(peer.shift_from, r.ack)) r.ack += peer.shift;
        }
        uint32_t payload = fidelity::tcp_payload_bytes(r);
        if (!fresh && s.started && (f & kAck) && !(f & (kSyn | kFin | kRst)) && r.ack == s.ack && r.t_ns - t.last_t >= kKeepAliveQuietNs) {
            const bool probe = payload <= 1 && r.seq == s.next - 1;
            const Quiet q{static_cast<uint8_t>(ends[i]), payload == 0 || probe, probe, s.next,
                          s.last_payload ? s.last_payload : peer.last_payload};
            const Fate what = fate(r, q);
            if constexpr (!std::is_const_v<Record>) {
                if (what == Fate::kProbe) r.seq = s.next - 1;
                if (what == Fate::kData && q.last_payload && r.ip_len + q.last_payload <= 65535) {
                    payload = q.last_payload;
                    r.ip_len += payload, r.wirelen += payload, r.caplen += payload;
                    r.tcp_flags |= kPsh;
                    if (!s.shift) s.shift_from = r.seq;
                    s.shift += payload;
                }
            }
        }
        if (!(f & kRst)) {
            const uint32_t end = r.seq + payload + ((f & kSyn) ? 1 : 0) + ((f & kFin) ? 1 : 0);
            if (!s.started || seq_after(end, s.next)) s.next = end;
            s.started = true;
        }
        if (f & kAck) s.ack = r.ack;
        if (payload > 1) s.last_payload = payload;
        t.last_t = r.t_ns;
    }
}

}  // namespace

TcpKeepAlives count_keepalives(std::span<const PacketRecord> records) {
    TcpKeepAlives k;
    walk_quiet(records, [&](const PacketRecord& r, const Quiet& q) {
        ++k.quiet[q.end];
        k.bare[q.end] += q.bare;
        k.probes[q.end] += q.probe;
        k.one_byte += q.probe && fidelity::tcp_payload_bytes(r) == 1;
        return Fate::kKeep;
    });
    return k;
}

void send_keepalives(const TcpKeepAlives& chunk, std::vector<PacketRecord>& records) {
    std::array<ShareQuota, 2> probes{ShareQuota(chunk.probes[0], chunk.bare[0], true), ShareQuota(chunk.probes[1], chunk.bare[1], true)};
    std::array<ShareQuota, 2> bare{ShareQuota(chunk.bare[0] - chunk.probes[0], chunk.quiet[0] - chunk.probes[0], true),
                                   ShareQuota(chunk.bare[1] - chunk.probes[1], chunk.quiet[1] - chunk.probes[1], true)};
    ShareQuota one_byte(chunk.one_byte, uint64_t{chunk.probes[0]} + chunk.probes[1], true);
    walk_quiet(std::span<PacketRecord>(records), [&](PacketRecord& r, const Quiet& q) {
        if (!q.bare) {
            bare[q.end].grant(false);
            return Fate::kKeep;
        }
        // A quota of nothing measured grants every ask: an end that never probed does not.
        if (chunk.probes[q.end] && probes[q.end].grant(true)) {
            if (one_byte.grant(true) && fidelity::tcp_payload_bytes(r) == 0 && r.ip_len < 65535) ++r.ip_len, ++r.wirelen, ++r.caplen;
            return Fate::kProbe;
        }
        return bare[q.end].grant(true) ? Fate::kKeep : Fate::kData;
    });
}

}  // namespace dgc::trainer
