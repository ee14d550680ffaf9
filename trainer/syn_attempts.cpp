#include "trainer/syn_attempts.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <tuple>
#include <utility>

#include "trainer/tcp_plan.h"

namespace dgc::trainer {

namespace {
// A client's 4-tuple (with its IP version): its SYNs with one ISN are an attempt.
using Tuple = std::tuple<uint8_t, std::array<uint8_t, 16>, std::array<uint8_t, 16>, uint16_t, uint16_t>;
}  // namespace

uint32_t longest_syn_attempt(std::span<const PacketRecord> chunk) {
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

SynTimer syn_resend_timer(std::span<const PacketRecord> chunk) {
    struct Attempt {
        uint32_t isn = 0, syns = 0;
        int64_t last = 0, first_wait = 0;
    };
    std::map<Tuple, Attempt> attempts;
    std::vector<int64_t> firsts;
    std::vector<double> ratios;
    for (const PacketRecord& r : chunk) {
        if (!r.is_ip() || !(r.present & kHasTcp) || (r.tcp_flags & (kSyn | kAck)) != kSyn) continue;
        auto [it, fresh] = attempts.try_emplace(Tuple{r.ip_version, r.src, r.dst, r.sport, r.dport});
        Attempt& a = it->second;
        if (fresh || a.isn != r.seq) {
            a = {r.seq, 1, r.t_ns, 0};
            continue;
        }
        const int64_t wait = r.t_ns - a.last;
        a.last = r.t_ns;
        if (++a.syns == 2 && wait >= kMinSynRtoNs) {
            firsts.push_back(wait), a.first_wait = wait;
        } else if (a.syns == 3 && a.first_wait && wait >= kMinSynRtoNs) {
            ratios.push_back(static_cast<double>(wait) / static_cast<double>(a.first_wait));
        }
    }
    SynTimer t;
    if (firsts.empty()) return t;
    const auto median = [](auto& v) {
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
        return v[v.size() / 2];
    };
    t.first_ms = static_cast<uint32_t>(std::min<int64_t>(median(firsts) / 1'000'000, kMaxSynTimerMs));
    if (!ratios.empty() && median(ratios) >= 1.5) t.backoff = 2;
    return t;
}

std::vector<uint32_t> syn_resend_ranks(std::span<const TcpSegmentPlan> plan, uint32_t longest) {
    std::vector<uint32_t> rank(plan.size(), 0);
    SynAttempts attempts(longest);
    uint32_t k = 0;
    const auto client_syn = [](const TcpSegmentPlan& p) { return (p.flags & (kSyn | kAck)) == kSyn; };
    for (size_t j = 0; j < plan.size(); ++j) {
        if (plan[j].retransmit) {
            k = attempts.resent() ? 0 : k + 1;
            if (k && client_syn(plan[j]) && j && client_syn(plan[j - 1])) rank[j] = k;
        } else if (client_syn(plan[j])) {
            attempts.opened(), k = 0;
        }
    }
    return rank;
}

void time_syn_resends(const SynTimer& timer, std::span<const uint32_t> rank, std::vector<int64_t>& times, int64_t end) {
    if (!timer.first_ms || times.empty()) return;
    constexpr int64_t kLongest = 60'000'000'000;  // the generator's longest gap in a flow
    const int64_t first = static_cast<int64_t>(timer.first_ms) * 1'000'000;
    std::vector<int64_t> moved(times.size());
    moved[0] = times[0];
    for (size_t j = 1; j < times.size(); ++j) {
        int64_t wait = times[j] - times[j - 1];
        if (rank[j]) {
            wait = first;
            for (uint32_t k = 1; k < rank[j] && wait < kLongest; ++k) wait *= timer.backoff;
            wait = std::min(wait, kLongest);
        }
        moved[j] = moved[j - 1] + wait;
    }
    if (moved.back() > end) {
        if (times[0] >= end) return;
        const double f = static_cast<double>(end - times[0]) / static_cast<double>(moved.back() - times[0]);
        for (int64_t& t : moved) t = times[0] + static_cast<int64_t>(static_cast<double>(t - times[0]) * f);
    }
    times = std::move(moved);
}

}  // namespace dgc::trainer
