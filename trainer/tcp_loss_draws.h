// A TCP flow's capture loss, as each of its ends draws it segment by segment: a data segment
// repeats data (a resend), skips sequence space the capture missed (a gap), or an ACK covers
// the peer's data the capture missed (formats 14, 41, 43, 44 and 45; flow_choices.h's rates,
// tcp_resend.h). Pulled out of synth_records.cpp; the draws and their order are the same.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "trainer/chunk_tokens.h"
#include "trainer/flow_choices.h"
#include "trainer/rng.h"
#include "trainer/synth_endpoint.h"
#include "trainer/tcp_plan.h"
#include "trainer/tcp_resend.h"

namespace dgc::trainer {

// Format 44, across a chunk's flows: per end (client, server), the resends after the peer's
// ACK drawn where it had not answered, and the share of resends after it.
struct ChunkResends {
    explicit ChunkResends(const ChunkSide& side)
        : after_ack_share{resend_after_ack_share(side, 0), resend_after_ack_share(side, 1)} {}
    uint32_t owed[2] = {0, 0};
    const double after_ack_share[2];
};

class FlowLossDraws {
public:
    // `plan`, `payloads` and `times` are the flow's, and outlive this.
    FlowLossDraws(const ChunkSide& side, const LossRates& flow_loss, std::span<const TcpSegmentPlan> plan,
                  std::span<const uint32_t> payloads, std::span<const int64_t> times);

    struct Draw {
        uint32_t payload = 0;
        bool resend = false;  // repeats `s.last_payload` at `s.last_seq`
        bool echo = false;    // goes out as new data, and its resend follows it
    };
    // Segment `j` of the flow from `dir` (0: the initiator), carrying `payload`: the draws
    // move `s.next_seq` past a gap and `d.next_seq` past the peer's missed data.
    Draw draw(uint32_t j, uint8_t dir, uint32_t payload, Endpoint& s, Endpoint& d, Rng& rng, ChunkResends& chunk);
    // Segment `j` went out from `dir`, with new data or not.
    void sent(uint8_t dir, bool new_data);
    // Whether segment `j` is not written: an echoed resend stands in for it (format 44).
    bool given_up(uint32_t j) const { return j < given_up_.size() && given_up_[j]; }

private:
    std::span<const TcpSegmentPlan> plan_;
    std::span<const uint32_t> payloads_;
    std::span<const int64_t> times_;
    const bool v44_, v45_;
    std::array<LossRates, 2> end_loss_;
    double goes_on_[2] = {0.0, 0.0};  // format 43
    bool in_run_[2] = {false, false}, peer_spoke_[2] = {false, false};
    uint32_t gaps_made_[2] = {0, 0};
    ResendView rv_;                  // format 44
    std::vector<uint8_t> given_up_;  // format 44: segments an echoed resend stands in for
};

}  // namespace dgc::trainer
