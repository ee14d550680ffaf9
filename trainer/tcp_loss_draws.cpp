#include "trainer/tcp_loss_draws.h"

#include <algorithm>

namespace dgc::trainer {

FlowLossDraws::FlowLossDraws(const ChunkSide& side, const LossRates& flow_loss, std::span<const TcpSegmentPlan> plan,
                             std::span<const uint32_t> payloads, std::span<const int64_t> times)
    : plan_(plan), payloads_(payloads), times_(times), v44_(side.format >= 44), v45_(side.format >= 45),
      end_loss_{end_loss_rates(side, flow_loss, 0), end_loss_rates(side, flow_loss, 1)},
      given_up_(side.format >= 44 ? plan.size() : 0, 0) {
    // Format 43: a run of an end's ACKs of unseen data goes on past its peer's segments
    // (they were lost too); where runs go on, each gap a run makes at the peer stands for
    // one of the peer's own, which the chunk's count already holds.
    if (side.format >= 43 && side.unseen_acks[0] + side.unseen_acks[1] > 0) {
        std::vector<uint8_t> plan_dirs;
        for (const TcpSegmentPlan& p : plan) plan_dirs.push_back(p.dir);
        for (int end = 0; end < 2; ++end) goes_on_[end] = unseen_run_goes_on(side, end, mean_streak(plan_dirs, static_cast<uint8_t>(end)));
    }
}

FlowLossDraws::Draw FlowLossDraws::draw(uint32_t j, uint8_t dir, uint32_t payload, Endpoint& s, Endpoint& d, Rng& rng,
                                        ChunkResends& chunk) {
    Draw out{payload};
    const LossRates& loss = end_loss_[dir];
    const uint32_t n = static_cast<uint32_t>(plan_.size());
    const TcpSegmentPlan& sp = plan_[j];
    if (sp.control || j == 0) return out;
    const double u = static_cast<double>(rng.below(1u << 24)) / (1u << 24);
    // Format 44: a resend repeats data of this piece of the connection before the peer's ACK
    // of it, or after it for the chunk's share. Drawn where the peer has answered, one
    // before the ACK follows the segment (sent as new data) in place of a later bare ACK;
    // one after the ACK drawn where the peer has not answered waits for the end's next chance.
    // Format 45: that bare ACK may be the peer's very next segment (segment_to_give_up).
    const bool can_resend = payload && s.last_payload && (!v44_ || rv_.sent_data[dir]);
    const bool after_ack = can_resend && rv_.answered[dir];
    const bool fits = u >= loss.retrans + loss.gap + loss.unseen && !(in_run_[dir] && peer_spoke_[dir]);
    if (v44_ && after_ack && fits && chunk.owed[dir]) {
        --chunk.owed[dir], out.resend = true;
    } else if (u < loss.retrans) {
        if (!v44_) {
            out.resend = can_resend;
        } else if (chunk.after_ack_share[dir] > 0 && rng.below(1u << 24) < chunk.after_ack_share[dir] * (1u << 24)) {
            out.resend = after_ack;
            chunk.owed[dir] += !out.resend;
        } else {
            out.resend = can_resend && !after_ack;
            const int64_t k = out.resend || !payload || (sp.flags & (kFin | kRst)) || j + 1 >= n || times_[j + 1] - times_[j] < 2
                                  ? -1 : segment_to_give_up(plan_, payloads_, j, given_up_, times_, v45_);
            if (k >= 0) out.echo = true, given_up_[static_cast<size_t>(k)] = 1;
        }
    } else if (u < loss.retrans + loss.gap) {
        if (payload && gaps_made_[dir]) --gaps_made_[dir];
        else if (payload) s.next_seq += payload;
    } else if (u < loss.retrans + loss.gap + loss.unseen) {
        d.next_seq += std::max<uint32_t>(d.last_payload, 1);
        in_run_[dir] = goes_on_[dir] > 0, peer_spoke_[dir] = false;
        gaps_made_[dir ^ 1] += in_run_[dir];
    } else if (in_run_[dir] && peer_spoke_[dir]) {
        in_run_[dir] = rng.below(1u << 24) < goes_on_[dir] * (1u << 24);
        if (in_run_[dir]) d.next_seq += std::max<uint32_t>(d.last_payload, 1), ++gaps_made_[dir ^ 1];
    }
    if (out.resend) out.payload = s.last_payload;
    return out;
}

void FlowLossDraws::sent(uint8_t dir, bool new_data) {
    peer_spoke_[dir] = false, peer_spoke_[dir ^ 1] = true;
    rv_.spoke(dir, new_data);
}

}  // namespace dgc::trainer
