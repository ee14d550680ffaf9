// Format 47: a FIN its peer never acknowledges is sent again, at a doubling interval. The IoT
// hubs' and cameras' servers close a connection whose client has gone: blink-cam-02's send a
// TLS alert and a FIN, then the two again (one segment, from the first byte not acknowledged)
// 0.4, 1.1, 2.6, 5.7, 11.6 ... 94 s later, up to nine times; ultraloq's MQTT server three to
// five times until the hub's RST. 104 of blink-cam-02's 200 retransmissions are such FINs,
// 71 of ultraloq's. Format 46 ended those connections as the packet model's flags said (a
// FIN answered by a FIN or a RST): one FIN resent in each regenerated trace, and the servers'
// directions with many resends, or nothing else after a 60 s silence, were missing.
//
// A FIN is first sent when its side had sent no FIN of that end (its sequence number plus
// payload plus one) in the 4-tuple since the last SYN; it is resent by a later FIN segment of
// that side ending no further, before the peer acknowledged that end. The side stores, per
// end (tcp_ends.h), the FINs first sent, those resent at least once and their resends, and
// how many of them were resent once, twice ... 16 times or more, and the median time from a
// resent FIN to its first resend. The generator finds its own first sends by the same rule
// and, per end at the chunk's share, picks those whose connection goes on after them with
// bare segments only (a RST or SYN may end it); each gets the count furthest behind the
// chunk's among those that fit before the connection's next segment after that and the
// chunk's last IP record (where none fits, as many as fit), at 1, 3, 7, 15... times the
// median wait after it. A RST from the peer answers the last resend (ultraloq's hub resets
// the connection when a resend reaches it), as long after it as it came after the FIN; any
// other RST or SYN, or a RST that is the chunk's last record, bounds the resends instead. The segments a resend stands in
// for, so the chunk keeps its packet count: the connection's bare segments after the FIN (the
// peer has gone), then the peer's bare ACKs before it, latest first. A resend is the FIN from
// the first byte those left unacknowledged, as one segment no larger than its side sent in
// the connection (else the FIN alone). The chunk's first and last IP records stay. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

inline constexpr uint32_t kMaxFinResends = 16;  // counted as 16 from there on
inline constexpr uint32_t kMaxFinResendGapMs = 600'000;

struct FinResends {
    // [0] clients, [1] servers: the FINs first sent, and by_count[k - 1] of them resent k times
    std::array<uint32_t, 2> fins{};
    std::array<std::array<uint32_t, kMaxFinResends>, 2> by_count{};
    uint32_t first_gap_ms = 0;  // median, over the resent FINs, of the wait for the first resend
    uint32_t resent(int end) const;
};

FinResends count_fin_resends(std::span<const PacketRecord> records);

// The resend count a FIN gets when `given` of each count went to earlier ones: the count
// (1..16) furthest behind its share of the chunk's `by_count`, among those up to `fits`;
// the smallest on a tie; 0 when none fits.
uint32_t next_resend_count(const std::array<uint32_t, kMaxFinResends>& by_count,
                           const std::array<uint32_t, kMaxFinResends>& given, uint32_t fits);

// The i-th (0-based) resend of a FIN sent at `fin_t`, `gap_ns` its first wait: doubling waits.
int64_t fin_resend_time(int64_t fin_t, int64_t gap_ns, uint32_t i);

// Resends FINs of `records` (in time order; sorted again when anything moved) at the
// chunk's shares; no resend at or after `ip_end`.
void resend_fins(const FinResends& chunk, std::vector<PacketRecord>& records, int64_t ip_end);

}  // namespace dgc::trainer
