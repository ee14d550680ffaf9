#include "trainer/tcp_plan.h"

#include <algorithm>

namespace dgc::trainer {

namespace {
bool bare_syn(uint8_t f) { return (f & kSyn) && !(f & kAck); }
}  // namespace

std::vector<TcpSegmentPlan> plan_tcp_flow(std::span<const uint8_t> dirs, std::span<const uint8_t> flags,
                                          TcpOpening opening, TcpEnding ending, int resetter) {
    const size_t n = std::min(dirs.size(), flags.size());
    std::vector<TcpSegmentPlan> out(n);
    if (n == 0) return out;
    size_t i = 0;
    if (bare_syn(flags[0])) {
        out[0] = {0, kSyn, true, false};
        // Unanswered: every segment a SYN from the initiator (repeats retransmit it), as the
        // model's flags say whatever direction it guessed for them.
        bool syn_only = opening == TcpOpening::kUnanswered;
        if (opening == TcpOpening::kModel) {
            syn_only = true;
            for (size_t k = 1; k < n; ++k) syn_only &= bare_syn(flags[k]);
        }
        if (syn_only) {
            for (size_t k = 1; k < n; ++k) out[k] = {0, kSyn, true, true};
            return out;
        }
        i = 1;
        const bool refused = opening == TcpOpening::kModel ? n > 1 && (flags[1] & kRst) : opening == TcpOpening::kRefused;
        if (n > 1 && refused) {
            // Refused: RST/ACK answers, the client retries its SYN.
            for (size_t k = 1; k < n; ++k)
                out[k] = k % 2 ? TcpSegmentPlan{1, kRst | kAck, true, false} : TcpSegmentPlan{0, kSyn, true, true};
            return out;
        }
        if (n > 1) out[1] = {1, kSyn | kAck, true, false}, i = 2;
        if (n > 2) out[2] = {0, kAck, true, false}, i = 3;  // the bare ACK that completes the handshake
    } else if ((flags[0] & (kSyn | kAck)) == (kSyn | kAck)) {
        // The chunk starts at the SYN-ACK (the SYN was earlier): its ACK follows.
        out[0] = {0, kSyn | kAck, true, false};
        i = 1;
        if (n > 1) out[1] = {1, kAck, true, false}, i = 2;
    }

    // Teardown, as the model ends the flow: FIN exchange, FIN then RST, or RST alone.
    std::vector<TcpSegmentPlan> tail;
    size_t first_fin = n, last_rst = n;
    for (size_t k = i; k < n; ++k) {
        if ((flags[k] & kFin) && first_fin == n) first_fin = k;
        if (flags[k] & kRst) last_rst = k;
    }
    // A decided ending: FIN from the side the model closed with (else the initiator), RST
    // from the side the model reset with (else the responder).
    if (ending == TcpEnding::kNone || ending == TcpEnding::kRst) first_fin = n;
    if (ending == TcpEnding::kNone || ending == TcpEnding::kFin) last_rst = n;
    if ((ending == TcpEnding::kFin || ending == TcpEnding::kFinRst) && first_fin == n && i < n) first_fin = i;
    if (ending == TcpEnding::kRst && last_rst == n && i < n) last_rst = n - 1;

    const auto rst_flags = [&](size_t k) {
        return static_cast<uint8_t>((flags[k] & kRst) ? flags[k] & (kRst | kAck) : kRst | kAck);
    };
    if (first_fin < n) {
        const uint8_t a = ending == TcpEnding::kFinRst && resetter >= 0 ? (resetter & 1) ^ 1 : dirs[first_fin] & 1, b = a ^ 1;
        tail.push_back({a, kFin | kAck, true, false});
        if (last_rst < n && last_rst > first_fin) {
            tail.push_back({b, rst_flags(last_rst), true, false});
        } else if (ending == TcpEnding::kFinRst) {
            tail.push_back({b, kRst | kAck, true, false});
        } else {
            tail.push_back({b, kFin | kAck, true, false});
            tail.push_back({a, kAck, true, false});
        }
    } else if (last_rst < n) {
        const uint8_t from = ending == TcpEnding::kRst && resetter >= 0 ? resetter & 1 : dirs[last_rst] & 1;
        tail.push_back({from, rst_flags(last_rst), true, false});
    }
    const size_t m = n - i, t = std::min(tail.size(), m);
    for (size_t k = i; k < n - t; ++k)
        out[k] = {static_cast<uint8_t>(dirs[k] & 1), static_cast<uint8_t>((flags[k] & (kPsh | 0x20 | 0x40 | 0x80)) | kAck),
                  false, false};
    for (size_t k = 0; k < t; ++k) out[n - t + k] = tail[k];
    return out;
}

}  // namespace dgc::trainer
