// A histogram as the JSD sees it: sorted bin keys with their counts. Built by counting in
// a flat hash table and sorting only the distinct keys, so the cost per sample is one probe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dgc::fidelity {

struct Histogram {
    std::vector<uint64_t> keys;    // ascending, distinct
    std::vector<uint64_t> counts;  // same length, all > 0
    uint64_t total = 0;

    bool empty() const { return total == 0; }
    // Adds `n` samples in bin `key`; keys must already be present or appended in order.
    void push_sorted(uint64_t key, uint64_t n);
};

// Open-addressing counter from a 64-bit bin key to a count.
class KeyCounter {
public:
    explicit KeyCounter(size_t expected_distinct = 64);
    void add(uint64_t key, uint64_t n = 1);
    Histogram to_histogram() const;

private:
    void grow();
    std::vector<uint64_t> keys_;
    std::vector<uint64_t> counts_;  // 0 marks an empty slot
    size_t used_ = 0;
    int shift_ = 60;                // 64 - log2(capacity): slot = top bits of the hash
};

// Rank-frequency histogram (spec metrics sa/da): key = rank (0 = most frequent), count =
// that address's packets.
Histogram rank_histogram(std::vector<uint64_t> per_item_counts);

// Jensen-Shannon divergence, log base 2, over the union of bins. nullopt when both are
// empty; 1 when exactly one is.
std::optional<double> jsd(const Histogram& p, const Histogram& q);

}  // namespace dgc::fidelity
