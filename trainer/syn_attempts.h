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

#include "codec/record.h"

namespace dgc::trainer {

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
