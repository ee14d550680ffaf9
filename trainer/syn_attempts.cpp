#include "trainer/syn_attempts.h"

#include <algorithm>
#include <array>
#include <map>
#include <tuple>
#include <utility>

#include "trainer/tcp_plan.h"

namespace dgc::trainer {

uint32_t longest_syn_attempt(std::span<const PacketRecord> chunk) {
    using Tuple = std::tuple<uint8_t, std::array<uint8_t, 16>, std::array<uint8_t, 16>, uint16_t, uint16_t>;
    std::map<Tuple, std::pair<uint32_t, uint32_t>> attempt;  // 4-tuple -> (ISN, SYNs with it)
    uint32_t longest = 0;
    for (const PacketRecord& r : chunk) {
        if (!r.is_ip() || !(r.present & kHasTcp) || (r.tcp_flags & (kSyn | kAck)) != kSyn) continue;
        auto [it, fresh] = attempt.try_emplace(Tuple{r.ip_version, r.src, r.dst, r.sport, r.dport}, r.seq, 0);
        auto& [isn, syns] = it->second;
        if (isn != r.seq) isn = r.seq, syns = 0;
        longest = std::max(longest, ++syns);
    }
    return std::min(longest, kMaxSynAttempt);
}

}  // namespace dgc::trainer
