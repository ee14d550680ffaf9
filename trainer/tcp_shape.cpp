#include "trainer/tcp_shape.h"

#include "trainer/flow_choices.h"

namespace dgc::trainer {

void shape_teardown(std::vector<TcpSegmentPlan>& plan, ShareQuota& data_fins, bool no_pure_acks) {
    for (auto& sp : plan)
        if ((sp.flags & kFin) && data_fins.grant(true)) sp.control = false, sp.flags |= kPsh;
    const size_t n = plan.size();
    if (!no_pure_acks || n < 3) return;
    const TcpSegmentPlan first = plan[n - 3], second = plan[n - 2];
    if (!(first.flags & kFin) || !(second.flags & kFin) || plan[n - 1].flags != kAck) return;
    plan[n - 3] = {first.dir, static_cast<uint8_t>(kAck | kPsh), false, false};
    plan[n - 2] = first, plan[n - 1] = second;
}

void fix_duplicate_acks(std::vector<TcpSegmentPlan>& plan, const std::function<uint32_t(uint32_t, uint8_t)>& payload_of,
                        std::vector<uint32_t>& payloads, ShareQuota* pure_acks, uint32_t min_data) {
    bool unacked[2] = {false, false};  // a side sent sequence space the other has not acknowledged
    bool acked[2] = {false, false};    // a side has sent an ACK
    uint32_t last_data[2] = {0, 0};    // the last payload each side sent
    for (uint32_t j = 0; j < plan.size(); ++j) {
        auto& sp = plan[j];
        payloads[j] = payload_of(j, sp.dir);
        const bool pure = !sp.control && payloads[j] == 0 && !(sp.flags & (kSyn | kFin | kRst));
        const auto data_like = [&](uint8_t d) { return last_data[d] ? last_data[d] : last_data[d ^ 1] ? last_data[d ^ 1] : min_data; };
        if (pure && acked[sp.dir] && !unacked[sp.dir ^ 1]) {
            if (unacked[sp.dir]) {
                sp.dir ^= 1;
                payloads[j] = payload_of(j, sp.dir);
            } else if (last_data[sp.dir]) {
                // Neither side has anything to acknowledge: the segment carries data, as
                // much as its side sent last (a side that never sent data stays a pure ACK,
                // as on a one-way path).
                payloads[j] = last_data[sp.dir];
            } else if (pure_acks) {
                payloads[j] = data_like(sp.dir);
            }
        }
        if (pure_acks) {
            const bool now_pure = (sp.flags & (kSyn | kFin | kRst | kAck)) == kAck && payloads[j] == 0;
            if (!pure_acks->grant(now_pure) && now_pure && !sp.control) payloads[j] = data_like(sp.dir);
            if ((sp.flags & kFin) && !sp.control && payloads[j] == 0) payloads[j] = data_like(sp.dir);
        }
        if (payloads[j]) last_data[sp.dir] = payloads[j];
        const uint8_t x = sp.dir;
        if (payloads[j] || (sp.flags & (kSyn | kFin))) unacked[x] = true;
        if (sp.flags & kAck) unacked[x ^ 1] = false, acked[x] = true;
    }
}

}  // namespace dgc::trainer
