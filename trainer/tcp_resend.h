// Format 44: whether a retransmission repeats data its peer had already acknowledged. A
// real resend mostly comes before the peer's ACK (the sender's timer ran out first:
// ultraloq's MQTT server resends 0.4 s after a message the hub ACKs 0.6 s after it); one
// after the ACK is spurious, and tshark says so. Pure.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

// Per record: 1 when `verdict` (fidelity::analyze_tcp's) calls it a retransmission or
// out-of-order segment and the reverse direction's latest ACK before it already covers its
// data, else 0.
std::vector<uint8_t> acked_resends(std::span<const PacketRecord> records, std::span<const uint8_t> verdict);

// Where a flow's ends stand for format 44's resends: whether each sent data in this piece
// of its connection, and whether its peer spoke since.
struct ResendView {
    bool sent_data[2] = {false, false}, answered[2] = {false, false};
    void spoke(uint8_t dir, bool new_data) {
        if (new_data) sent_data[dir] = true, answered[dir] = false;
        answered[dir ^ 1] = true;
    }
};

// The first segment after `j + 1` in a flow's plan that carries nothing (no payload, no
// SYN, FIN or RST), is not its last, and is not given up yet: the one a resend inserted
// after `j` stands in for, so the flow keeps its packet count (the ACK it was goes with
// the end's next segment); -1 where there is none.
// Format 45 (`next_too`): the peer's very next segment `j + 1` may be the one (the resend
// then goes at its time), and a later one only where no silence of over the spec's 60 s
// opens where it was, which would split the flow (`times` in ns).
int64_t segment_to_give_up(std::span<const TcpSegmentPlan> plan, std::span<const uint32_t> payloads, size_t j,
                           std::span<const uint8_t> given_up, std::span<const int64_t> times = {},
                           bool next_too = false);

}  // namespace dgc::trainer
