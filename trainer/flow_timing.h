// Flow and packet timing for the record generators (see the .cpp).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"
#include "trainer/gap_places.h"

namespace dgc::trainer {

// A gap or duration drawn inside a dtbin class (log-uniform between its edges).
int64_t sample_dt(int dt_class, uint64_t random);

// Inclusive [lo, hi] of the durations in a dtbin class (0: zero).
std::pair<int64_t, int64_t> dt_class_bounds(int dt_class);

// Moves a flow's gaps (gaps[0] is the first packet's, always 0) so that they add up to a
// duration in [lo, hi], the nearest to their sum: first each gap within its own dtbin class
// (the gap mix stays as drawn), then, if that is not enough, the largest gaps (stretched up
// to `cap` each, or levelled down to a common ceiling); small in-burst gaps stand. Without
// `level`, only the first step: each gap stays in its class.
void fit_gaps_to_duration(std::vector<int64_t>& gaps, int64_t lo, int64_t hi, int64_t cap, bool level = true);

// A flow's gaps (one per packet, each at most `cap`) fitted to its duration class
// `dur_class`: its whole range, or (`low_end`, format 24) toward the lowest eighth of it as
// far as each gap can shrink within its own class (the gap mix stays as drawn).
void fit_gaps_to_class(std::vector<int64_t>& gaps, int dur_class, int64_t cap, bool low_end);

// Format 46: the duration class a flow's gaps are fitted to. The flow model draws a flow's
// duration class once for the flow; the packet model draws each of its gaps knowing the
// connection's pace. Where a flow has at least kTrustedGapPackets packets and the gaps it drew
// add up to over kTrustedGapRatio times the drawn class's top, the sum of so many gaps is
// the better word: the class they add up to. (lockly's hub keeps one MQTT connection, a
// message every 20 s; 13 of its week's 55 pieces of 150 packets or more drew a class under
// 1,000 s, and a 5-hour piece came out as 768 packets in 16 minutes.) `gaps` as
// fit_gaps_to_class takes them.
inline constexpr uint32_t kTrustedGapPackets = 64;
inline constexpr int64_t kTrustedGapRatio = 4;
int trusted_duration_class(int drawn_class, std::span<const int64_t> gaps);

// The offsets of a flow's packets from its first (`offsets[0]` is 0) once its gaps are
// fitted as fit_gaps_to_class(gaps, dur_class, cap, low_end = true) fits them (format 24's
// late piece).
std::vector<int64_t> low_end_offsets(std::span<const int64_t> offsets, int dur_class, int64_t cap);

// Format 69: the offsets of a late piece (format 24's low_end_offsets) when its chain runs
// `lag` behind the piece's drawn start with `room` left before the chunk's last IP record:
// as they are while the lag is under a quarter of the room (the chain catches up over the
// pieces still to come), else scaled by room / (room + lag), to a quarter at least, so the
// lag is spread over what is left of the chunk. ultraloq's day chunks: the model draws a
// burst of the hub's traffic (20 pieces of 165 to 488 s starting within half an hour) that
// its one connection cannot hold one after another; the chain ran 17 to 30 minutes behind
// for the rest of the day, and the pieces it had no time for before the chunk's end opened
// 4-tuples of their own mid-connection, connections tcptrace sees neither open nor close.
inline constexpr int64_t kCatchUpShare = 4;
std::vector<int64_t> caught_up_offsets(std::span<const int64_t> offsets, int64_t lag, int64_t room);

// The part of a start-gap histogram (dtbin classes) whose mean gap is `mean_gap` ns: the
// shortest classes for a busy stretch, the longest for a quiet one, the boundary class
// weighted so the mean comes out exact. Weights are the counts scaled by 1024.
std::vector<uint32_t> rate_matched_gaps(const std::vector<uint32_t>& hist, double mean_gap);

// Moves the earliest (`latest`: the latest) IP (`ip`, else non-IP) record of `out` to `t`,
// when `when` (the chunk's exact span, side information since format 5).
void pin_extreme(std::vector<PacketRecord>& out, bool ip, bool latest, int64_t t, bool when);

// Segment times `t` (ascending) moved so the last is at `edge` (>= it): the piece after the
// last silence over `split` by the whole distance, each piece before by what is left once the
// silence after it has grown to `cap` (a silence already longer stays as it was). A piece
// never moves past the one after it.
std::vector<int64_t> spread_to_edge(std::span<const int64_t> t, int64_t edge, int64_t split, int64_t cap);

// Format 68: how pin_ip_edges moves a TCP connection's pieces (spread_to_edge's `split`, `cap`).
struct PieceSpread {
    int64_t split = 0, cap = 0;
};

// Format 25: moves the whole flow of the earliest IP record so that it starts at `t0`, and of
// the latest so that it ends at `t1`, each keeping its gaps (pin_extreme tore one packet
// minutes from its flow, a connection of its own for tcptrace). `flows`: where each flow's
// records start in `out`, then where the last ends. When one flow holds both records, the
// two records move alone, as pin_extreme moves them.
// Format 68 (`spread` given): where such a flow is a piece of a TCP connection, the
// connection's segments move as spread_to_edge says (mirrored at `t0`): format 25 moved the
// piece alone, and its silence after the piece before grew by the whole distance (ultraloq:
// 393 and 488 s before a day chunk's last piece, where its connections fall silent for 93 s
// at most; tcptrace splits a connection there).
void pin_ip_edges(std::vector<PacketRecord>& out, std::span<const size_t> flows, int64_t t0, int64_t t1,
                  const PieceSpread* spread = nullptr);

// Start time of each flow (flows in bucket order): per bucket, gaps drawn from the part of
// the chunk's start-gap histogram that matches the bucket's own rate (a flood ramping up is
// not one rate), kept when the group fits the bucket and compressed when it does not.
std::vector<int64_t> flow_start_times(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed);

// Format 9: which of a client's open connections to one server port (their last segments'
// times) a flow going on with one of them continues: the one active last whose `split` of
// silence runs out before `latest` (a device's keep-alives go on with the connection it
// used last). -1: none.
int pick_continued(std::span<const int64_t> ends, int64_t latest, int64_t split);

// Format 9: when that flow starts: `excess` after the connection's `split` of silence ran
// out, kept within [earliest, max(start, latest)] (its own start bucket, so the chunk's
// flow starts per bucket stand).
int64_t continued_start(int64_t prev_end, int64_t split, int64_t excess, int64_t start, int64_t earliest, int64_t latest);

// The silence past the 60 s split that flow `fi` goes on with a connection after, drawn from
// the chunk's continuation-gap class weights `cont_w` (format 9) with the chunk's `seed`:
// uniformly in its class, or (format 66) at the class's place in `places` where it has one.
int64_t drawn_cont_excess(std::span<const uint32_t> cont_w, uint64_t seed, size_t fi, std::span<const GapPlace> places = {});

// Format 18: when a flow going on with a connection (its last segment at `prev_end`) starts,
// so that a device's keep-alive chain does not fall silent where the model drew its flows
// late in their start buckets [first, last]: `excess` after the connection's `split` of
// silence ran out (format 9's continued_start), not before its bucket unless that would
// leave the connection silent for over three times `split` (a connection silent for
// minutes reads as a new one in tcptrace); nullopt when that is more than `reach` past its
// bucket (the flow takes another connection; format 18's reach is five times `split`, format
// 19's ten). A silence longer than its bucket and four times `split` stands at `start`: the
// device went quiet. Format 27: measured from where the connection's last flow was drawn to
// end, `lead` after where it was put (a chain that ran ahead of its buckets had used up the
// next bucket's flows, and its silence until the flow after them was no device's: ultraloq
// came back with 17 silences of 4 to 46 minutes that tcptrace reads as new connections).
// Format 32: the device goes quiet only as long as the chunk's connections did, `longest`
// past `split` (longest_cont_excess); a later flow goes on `excess` after the connection's
// last, and a chain waits for a start bucket wider than that no longer than that either
// (format 31 left ultraloq's week with 12 silences of 4 to 232 minutes inside a connection,
// the real week's longest 6, and waited 3 minutes where the real keep-alives came every 60
// to 120 s).
std::optional<int64_t> chained_start(int64_t prev_end, int64_t split, int64_t excess, int64_t start, int64_t first, int64_t last,
                                     int64_t reach, int64_t lead = 0,
                                     int64_t longest = std::numeric_limits<int64_t>::max());

// Format 18: the flows' start buckets (`bucket`, one per flow; `tcp` marks TCP flows with
// ports, `packets` their sizes) after TCP flows and other flows trade buckets, nearest
// buckets and smallest flows first, until each bucket holds its `tcp_starts` TCP flows
// where the model's own mix allows. Every bucket keeps its number of flows.
std::vector<uint8_t> tcp_matched_buckets(std::span<const uint8_t> bucket, std::span<const char> tcp,
                                         std::span<const uint32_t> packets, std::span<const uint32_t> tcp_starts);

// Format 21: the flows' start buckets (`bucket`, one per flow; `tcp` and `packets` as above)
// after flows of one kind (TCP with ports, other) trade buckets until each bucket's flows
// hold about its `start_packets`: the largest flows first, each swapped with the flow of a
// bucket short of packets that closes the most of both gaps (the nearest bucket on a tie).
// Every bucket keeps its number of flows and of TCP flows.
std::vector<uint8_t> packet_matched_buckets(std::span<const uint8_t> bucket, std::span<const char> tcp,
                                            std::span<const uint32_t> packets, std::span<const uint32_t> start_packets);

// Flow start buckets in order, expanded from the per-bucket counts.
std::vector<uint8_t> start_buckets(const ChunkSide& side);

}  // namespace dgc::trainer
