#include "trainer/tcp_resend.h"

#include <string>
#include <unordered_map>

#include "codec/fidelity/semantics.h"
#include "codec/flows.h"

namespace dgc::trainer {
namespace {

// One direction of a 4-tuple as a key: source then destination.
std::string direction_key(const PacketRecord& r, bool reverse) {
    std::string k;
    const auto& a = reverse ? r.dst : r.src;
    const auto& b = reverse ? r.src : r.dst;
    const uint16_t pa = reverse ? r.dport : r.sport, pb = reverse ? r.sport : r.dport;
    k.append(reinterpret_cast<const char*>(a.data()), a.size());
    k.append(reinterpret_cast<const char*>(b.data()), b.size());
    for (uint16_t p : {pa, pb}) k.push_back(static_cast<char>(p >> 8)), k.push_back(static_cast<char>(p));
    return k;
}

}  // namespace

std::vector<uint8_t> acked_resends(std::span<const PacketRecord> records, std::span<const uint8_t> verdict) {
    std::vector<uint8_t> out(records.size(), 0);
    std::unordered_map<std::string, uint32_t> latest_ack;  // per direction
    for (size_t i = 0; i < records.size() && i < verdict.size(); ++i) {
        const PacketRecord& r = records[i];
        const uint8_t v = verdict[i];
        if (v == fidelity::kSegNotTcp) continue;
        if (v == fidelity::kSegRetrans || v == fidelity::kSegOutOfOrder) {
            const uint32_t payload = fidelity::tcp_payload_bytes(r);
            auto it = latest_ack.find(direction_key(r, true));
            out[i] = payload > 0 && it != latest_ack.end() && static_cast<int32_t>(it->second - (r.seq + payload)) >= 0;
        }
        if (r.tcp_flags & kAck) latest_ack[direction_key(r, false)] = r.ack;
    }
    return out;
}

int64_t segment_to_give_up(std::span<const TcpSegmentPlan> plan, std::span<const uint32_t> payloads, size_t j,
                           std::span<const uint8_t> given_up, std::span<const int64_t> times, bool next_too) {
    for (size_t k = j + (next_too ? 1 : 2); k + 1 < plan.size() && k < payloads.size() && k < given_up.size(); ++k) {
        const TcpSegmentPlan& p = plan[k];
        if (p.control || payloads[k] != 0 || (p.flags & (kSyn | kFin | kRst)) || given_up[k]) continue;
        if (!next_too || k == j + 1) return static_cast<int64_t>(k);
        // Format 45: without segment k, the flow is silent from the last segment before it
        // that is written until the one after it.
        size_t before = k - 1;
        while (before > j && given_up[before]) --before;
        if (k + 1 < times.size() && times[k + 1] - times[before] <= kFlowIdleTimeoutNs) return static_cast<int64_t>(k);
    }
    return -1;
}

}  // namespace dgc::trainer
