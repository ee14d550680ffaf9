// Format 51: a stack that gives up on a connection attempt opens again with a new initial
// sequence number. sifely's hub sends each connect() to its server as a SYN and three
// resends one second apart, then a new attempt from the same port with a new ISN (393 of
// its week's 466 attempts are four SYNs; tshark notes 409 "TCP port numbers reused"). The
// flow model draws how many SYNs an unanswered flow sends, and format 50 sent them all with
// one ISN: the regenerated week had 10 attempts of 8 to 192 SYNs, the RRSIG trace's up to 93
// where its longest real one is 10. The side stores the chunk's longest attempt (the most
// SYNs with one ISN a client sent on one 4-tuple); the generator's client starts a new
// attempt once its SYNs reach it. Pure: the encoder counts, synthesize_records applies.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

// Format 53: a stack resends an unanswered SYN on its retransmission timer, the same
// wait for every attempt: Linux 1 s and doubling (RFC 6298 5.5), sifely's hub 1 s flat,
// the gnutella peers' Windows stack 3 s and doubling. Format 52 sent a flow's resends at the
// gaps the flow model drew from all of the chunk's inter-arrival times: sifely's week had 770
// of its 862 resends within 0.5 s of the SYN before, where all 1,196 real ones wait 1 s.
// The side stores the chunk's timer: the median wait from an attempt's SYN to its first
// resend, and whether the attempts' second waits double their first (the median ratio).
// Waits under kMinSynRtoNs are no stack's timer (Linux's least RTO is 200 ms): a flood that
// spoofs one 4-tuple sends its "resends" a few ms apart and teaches none.
struct SynTimer {
    uint32_t first_ms = 0;  // 0: the chunk resent no SYN on a timer
    uint32_t backoff = 1;   // 2 where the waits double, else 1
    bool operator==(const SynTimer&) const = default;
};
inline constexpr uint32_t kMaxSynTimerMs = 600'000;
inline constexpr int64_t kMinSynRtoNs = 200'000'000;
SynTimer syn_resend_timer(std::span<const PacketRecord> chunk);

// Per packet of a flow's plan, which resend of its attempt's SYN it is (1 for the first) where
// it follows that attempt's previous SYN, as synthesize_records numbers attempts (a client
// past the `longest` attempt opens anew, above); 0 for any other packet.
std::vector<uint32_t> syn_resend_ranks(std::span<const TcpSegmentPlan> plan, uint32_t longest);

// Moves a flow's resent SYNs (`rank` from syn_resend_ranks) to the timer's wait after the SYN
// before them, and the packets after them along. A flow that would then end past `end` (the
// chunk's) is compressed in time from its first packet to end there, as a capture ends in the
// middle of an attempt.
void time_syn_resends(const SynTimer& timer, std::span<const uint32_t> rank, std::vector<int64_t>& times, int64_t end);

// Longest attempt the side keeps; a chunk's longer ones count as this.
inline constexpr uint32_t kMaxSynAttempt = 255;

// The most SYNs (without ACK) one client sent with one ISN on one 4-tuple; 0 without SYNs.
uint32_t longest_syn_attempt(std::span<const PacketRecord> chunk);

// A client's SYNs in a flow: whether its next resent SYN begins a new attempt. A chunk that
// resent no SYN (longest attempt 0 or 1) says nothing of how its stacks give up, and the
// flow's SYNs keep one ISN, as before format 51.
class SynAttempts {
public:
    explicit SynAttempts(uint32_t longest) : longest_(longest >= 2 ? longest : 0) {}
    void opened() { sent_ = 1; }
    // A SYN sent again: true when it opens a new attempt (with a new ISN).
    bool resent() {
        if (longest_ && sent_ >= longest_) return sent_ = 1, true;
        return ++sent_, false;
    }

private:
    uint32_t longest_, sent_ = 0;
};

}  // namespace dgc::trainer
