// The TCP part of the protocol compiler: the packet model proposes a direction and a flag
// byte per segment; this turns them into a connection a TCP stack could have sent (a
// handshake where the flow opens with SYN, data and ACKs in the middle, a FIN or RST
// teardown where the model ends the flow so, nothing where the chunk cuts it). Pure.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace dgc::trainer {

inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

struct TcpSegmentPlan {
    uint8_t dir = 0;          // 0: from the flow's initiator
    uint8_t flags = kAck;
    bool control = false;     // carries no payload (handshake, teardown, RST)
    bool retransmit = false;  // a repeated SYN: the same sequence number as the first
};

// How a connection ends: as the model's flags say, or as the chunk's counts decided
// (kFinRst, format 9: one side's FIN answered by the other's RST).
enum class TcpEnding : uint8_t { kModel, kNone, kFin, kRst, kFinRst };
// How a flow that opens with SYN fares: as the model's flags say (a SYN in every segment
// is unanswered, a RST second is refused), or as the chunk's counts decided: no answer
// (every segment a SYN retry), refused (RST answers, the client retries), or accepted
// (a handshake, whatever the model's flags).
enum class TcpOpening : uint8_t { kModel, kUnanswered, kRefused, kAccepted };

// `dirs` and `flags` are the model's, one per segment (dirs[0] is 0). `resetter` (format
// 27): the side that sends a decided ending's RST, 0 the initiator, 1 the responder (a
// kFinRst's FIN comes from the other); -1: as the model's flags and directions say.
std::vector<TcpSegmentPlan> plan_tcp_flow(std::span<const uint8_t> dirs, std::span<const uint8_t> flags,
                                          TcpOpening opening = TcpOpening::kModel, TcpEnding ending = TcpEnding::kModel,
                                          int resetter = -1);

}  // namespace dgc::trainer
