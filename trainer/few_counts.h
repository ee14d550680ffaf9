// Counts of the few distinct values one host (or a chunk) shows (its MACs, TTL/TOS pairs, SYN and data
// options: one or two each), in a vector. A std::map there cost a heap node a host and
// value, and encoding a SYN flood's chunk meets a new spoofed host every packet.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace dgc::trainer {

template <typename K>
class FewCounts {
public:
    void add(const K& k, uint64_t n = 1) {
        auto it = std::find_if(v_.begin(), v_.end(), [&](const auto& e) { return e.first == k; });
        if (it == v_.end()) v_.emplace_back(k, n);
        else it->second += n;
    }
    bool empty() const { return v_.empty(); }
    auto begin() const { return v_.begin(); }
    auto end() const { return v_.end(); }
    // The commonest value; of equally common ones the smallest (what the first largest count
    // of a std::map in key order gives); `none` when nothing was counted.
    K mode(K none = K{}) const {
        K best = none;
        uint64_t n = 0;
        for (const auto& [k, c] : v_)
            if (c > n || (c == n && k < best)) best = k, n = c;
        return best;
    }

private:
    std::vector<std::pair<K, uint64_t>> v_;
};

}  // namespace dgc::trainer
