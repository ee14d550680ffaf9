// Decisions the chunk's counts make for the flows the models drew (format 6); see the .cpp.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "trainer/chunk_tokens.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

// The pool port (index into side.pool, or -1) each flow's client [0] and server [1] endpoint
// takes. Endpoints whose token is a port bucket go largest flow first, each to the pool port
// of its bucket with the most traffic still unclaimed, while that is at least half the flow:
// heavy tail ports land on big flows, single-packet ones on single packets.
std::vector<std::array<int32_t, 2>> assign_pool_ports(const ChunkSide& side, const std::vector<FlowTokens>& flows);

// Index into side.icmp of each ICMP flow's kind (-1 for other flows), stratified over the
// chunk's mix, largest flows first. Format 59: a kind with too few packets for a share of
// one flow still gets one, the smallest of the kind with the most flows, where that kind has
// two or more (Tinba's client sent three port unreachables among its gateway's hundreds of
// net unreachables, and format 58 gave every ICMP flow the net unreachables).
std::vector<int> assign_icmp_kinds(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed);

// Which UDP flows of two or more packets are answered (1) or go one way (0); -1 for others.
std::vector<int8_t> pick_udp_answers(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                     const std::vector<PacketTokens>& packets);

// How each TCP flow opens and ends. Formats 6 and 7: per size group, the chunk's unanswered
// SYN flows and FIN / RST endings (other openings as the model's flags say). Format 8: per
// size group and size class, its unanswered, refused, FIN and RST flows (side.tcp_fates).
struct TcpFlowFates {
    std::vector<TcpOpening> opening;
    std::vector<TcpEnding> ending;  // kModel for sides without ending counts
};
TcpFlowFates pick_tcp_fates(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                            const std::vector<PacketTokens>& packets);

// The capture's loss, per TCP segment.
struct LossRates {
    double gap = 0, retrans = 0, unseen = 0;
};
LossRates loss_rates(const TcpLoss& l);
// Format 41: `r` for a segment of `end` (0 client, 1 server): each rate scaled by that end's
// share of the chunk's events of its kind over its share of the segments (side.loss_ends),
// where the chunk had both; before format 41, `r`.
LossRates end_loss_rates(const ChunkSide& side, const LossRates& r, int end);
// Format 43: the chance that a run of `end`'s ACKs of unseen data goes on, acknowledging more
// the capture missed, at the end's next segment after its peer spoke. A run covers the end's
// segments up to the peer's next (`streak` of them on average in the flow), and each time it
// goes on another such streak: 1 − streak · runs / ACKs (at least 0), so the generator's runs
// last about as long as the chunk's; 0 before format 43.
double unseen_run_goes_on(const ChunkSide& side, int end, double streak);
// Format 44: the share of an end's resends that come after the peer's ACK of their data
// (spurious_retrans of its retransmissions); before format 44 every resend stays where it
// was drawn, and this is 1.
double resend_after_ack_share(const ChunkSide& side, int end);
// The mean length of `dir`'s streaks of segments in a flow whose segments go `dirs` (0 or 1
// each): how many it sends before the other speaks; 1 when it sends none.
double mean_streak(std::span<const uint8_t> dirs, uint8_t dir);
// The flag byte a flow opens with when it is TCP with ports, else -1.
int tcp_first_flag(const ChunkSide& side, const FlowTokens& f);
// Format 14: the TCP flows that carry the chunk's loss (at loss_rates(side.lossy)), as many
// per size class as it had, those of a host pair together: a lossy link loses on the
// connections that cross it. Empty before format 14: every segment at loss_rates(tcp_loss).
std::vector<uint8_t> pick_lossy_flows(const ChunkSide& side, const std::vector<FlowTokens>& flows);

// Format 13: after a silence of over `silence` in a UDP flow (packet times `at`), the next
// packet is a request (direction 0) once `late_replies` is spent: a reply there trades
// places, direction and length, with the flow's next request, or, with no request after it,
// comes sooner: its silence halved until it is no longer over `silence`.
void requests_after_silence(std::vector<uint8_t>& dirs, std::vector<uint32_t>& lens, std::vector<int64_t>& at,
                            int64_t silence, uint32_t& late_replies);

// A UDP 5-tuple a host pair used: when its latest flow ended, its ports, whether that flow
// was answered.
struct UdpTuple {
    int64_t end = 0;
    std::array<uint16_t, 2> ports{};  // client, server
    bool answered = false;
};

// Which of its host pair's 5-tuples a UDP flow with the drawn `ports` repeats, starting at
// `start` (nullptr: none). Format 9: the latest silent for over `split`, of the drawn ports'
// relation (client above, below or equal to the server: udp_pairing and the packet model's
// directions depend on it). Format 13 (`kinds_left`, the repeats the chunk's counts still
// allow by [previous answered * 2 + answers]): only a 5-tuple whose kind is left; and between
// two ports of 1024 or more (peers, not a client of a service that asks from a fresh port
// each time) any of them: answered as this flow is first (a peer answers or it does not),
// then silent, then of the same relation, the latest; one still in use is followed once its
// `split` runs out. Format 20 (`keep_service`): a client of a service repeats only a 5-tuple
// of that service's port (ultraloq's DNS queries took the hub's DHCP 5-tuple to the same
// router: 7 of 8 DNS flows of a 7,000-packet chunk came back as DHCP).
const UdpTuple* udp_repeat_of(std::span<const UdpTuple> tuples, std::array<uint16_t, 2> ports, bool answers, int64_t start,
                              int64_t split, const std::array<uint32_t, 4>* kinds_left, bool keep_service);

// Format 7: a UDP flow on a port the chunk saw talk to one partner port only gets that
// partner at its other end (the server's partner first: a DHCP server's client is 68).
// Format 20: a client port's partner does not rename a ranked server port; the client asks
// from `ephemeral` instead (the model drew ultraloq's DNS queries from DHCP's 68, and format
// 7 made 28 of its 47 DNS flows DHCP).
void pair_udp_ports(const ChunkSide& side, uint16_t& cli, uint16_t& srv, uint16_t ephemeral);

// Spreads a share the chunk had (k of n) over candidates in the order the generator makes
// them: a candidate that asks is granted while the grants stay below k/n of the candidates
// seen, so any order of flows comes out at the chunk's share. Off (every ask granted) where
// the chunk had no candidates to measure.
class ShareQuota {
public:
    ShareQuota(uint64_t k, uint64_t n, bool on) : k_(k), n_(n), on_(on && n > 0) {}
    bool grant(bool asks) {
        ++seen_;
        if (!asks || (on_ && taken_ * n_ >= k_ * seen_)) return false;
        ++taken_;
        return true;
    }

private:
    uint64_t k_, n_, seen_ = 0, taken_ = 0;
    bool on_;
};

// A per-size-group count the chunk had, handed out while it lasts. Off (unlimited) for
// sides of formats that did not count it.
class GroupQuota {
public:
    GroupQuota(const std::vector<std::pair<uint16_t, uint32_t>>& counts, bool on) : left_(counts.begin(), counts.end()), on_(on) {}
    bool left(uint16_t group) const {
        if (!on_) return true;
        auto it = left_.find(group);
        return it != left_.end() && it->second > 0;
    }
    void take(uint16_t group) {
        if (auto it = left_.find(group); on_ && it != left_.end() && it->second > 0) --it->second;
    }

private:
    std::map<uint16_t, uint32_t> left_;
    bool on_;
};

// A count of TCP flows with timestamps handed out over `flows` flows in any order: flows
// whose two stacks send them take a share while it lasts, then those with one, then the
// rest, so the count comes out right (a share of what is left per score class).
struct TimestampQuota {
    uint64_t left = 0, flows = 0;
    // score: how many of the flow's two stacks send timestamps (0..2).
    bool take(int score) {
        const uint64_t n = flows ? flows-- : 0;
        // Keep at least what the lower scores cannot absorb; prefer higher scores.
        const bool on = left > 0 && (score == 2 || left >= n || (score == 1 && 2 * left >= n));
        if (on) --left;
        return on;
    }
};

// The chunk's count of mid-connection TCP flows with timestamps.
class MidstreamTimestamps {
public:
    MidstreamTimestamps(const ChunkSide& side, const std::vector<FlowTokens>& flows)
        : quota_{side.midstream_ts, 0}, exact_(side.format >= 6 && side.midstream_tcp > 0) {
        for (const auto& f : flows) {
            const int first = tcp_first_flag(side, f);
            quota_.flows += first >= 0 && !(first & kSyn);
        }
    }
    bool take(int score) { return exact_ ? quota_.take(score) : score > 0; }

private:
    TimestampQuota quota_;
    bool exact_;
};

// Format 14: the chunk's handshakes that agreed on timestamps, per flow size class, handed
// out over the SYN-opening flows of each class.
class OpeningTimestamps {
public:
    OpeningTimestamps(const ChunkSide& side, const std::vector<FlowTokens>& flows);
    bool take(uint32_t packets, int score) { return quota_[pkts_class(packets)].take(score); }

private:
    std::array<TimestampQuota, kPktClasses> quota_{};
};

// Format 18: the flows with the chunk's TCP flows per start bucket (side.tcp_starts), the
// model's flows trading buckets (tcp_matched_buckets), and from format 21 its packets per
// start bucket (side.start_packets, packet_matched_buckets); in bucket order again.
std::vector<FlowTokens> with_start_counts(const ChunkSide& side, const std::vector<FlowTokens>& flows);

}  // namespace dgc::trainer
