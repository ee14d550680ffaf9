#include "codec/fidelity/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <numeric>

namespace dgc::fidelity {
namespace {

// Bin keys are small integers or (hi << 32 | lo) pairs: fold the high half in, then take
// the top bits of a Fibonacci multiply (its low bits would ignore the high half).
inline size_t slot_of(uint64_t key, int shift) {
    const uint64_t h = (key ^ (key >> 32) * 0x85ebca6bULL) * 0x9e3779b97f4a7c15ULL;
    return static_cast<size_t>(h >> shift);
}

int shift_for(size_t capacity) { return 64 - std::countr_zero(capacity); }

}  // namespace

void Histogram::push_sorted(uint64_t key, uint64_t n) {
    if (n == 0) return;
    if (!keys.empty() && keys.back() == key) {
        counts.back() += n;
    } else {
        keys.push_back(key);
        counts.push_back(n);
    }
    total += n;
}

KeyCounter::KeyCounter(size_t expected_distinct) {
    size_t cap = 16;
    while (cap < expected_distinct * 2) cap <<= 1;
    keys_.assign(cap, 0);
    counts_.assign(cap, 0);
    shift_ = shift_for(cap);
}

void KeyCounter::add(uint64_t key, uint64_t n) {
    if (n == 0) return;
    const size_t mask = keys_.size() - 1;
    size_t i = slot_of(key, shift_);
    while (counts_[i] != 0) {
        if (keys_[i] == key) {
            counts_[i] += n;
            return;
        }
        i = (i + 1) & mask;
    }
    keys_[i] = key;
    counts_[i] = n;
    if (++used_ * 2 > keys_.size()) grow();
}

void KeyCounter::grow() {
    std::vector<uint64_t> ok, oc;
    ok.swap(keys_);
    oc.swap(counts_);
    keys_.assign(ok.size() * 2, 0);
    counts_.assign(ok.size() * 2, 0);
    shift_ = shift_for(keys_.size());
    const size_t mask = keys_.size() - 1;
    for (size_t j = 0; j < ok.size(); ++j) {
        if (oc[j] == 0) continue;
        size_t i = slot_of(ok[j], shift_);
        while (counts_[i] != 0) i = (i + 1) & mask;
        keys_[i] = ok[j];
        counts_[i] = oc[j];
    }
}

Histogram KeyCounter::to_histogram() const {
    std::vector<std::pair<uint64_t, uint64_t>> kv;
    kv.reserve(used_);
    for (size_t i = 0; i < keys_.size(); ++i)
        if (counts_[i] != 0) kv.emplace_back(keys_[i], counts_[i]);
    std::sort(kv.begin(), kv.end());
    Histogram h;
    h.keys.reserve(kv.size());
    h.counts.reserve(kv.size());
    for (const auto& [k, c] : kv) h.push_sorted(k, c);
    return h;
}

Histogram rank_histogram(std::vector<uint64_t> per_item_counts) {
    std::sort(per_item_counts.begin(), per_item_counts.end(), std::greater<>());
    Histogram h;
    h.keys.reserve(per_item_counts.size());
    h.counts.reserve(per_item_counts.size());
    for (size_t r = 0; r < per_item_counts.size(); ++r) h.push_sorted(r, per_item_counts[r]);
    return h;
}

std::optional<double> jsd(const Histogram& p, const Histogram& q) {
    if (p.empty() && q.empty()) return std::nullopt;
    if (p.empty() || q.empty()) return 1.0;
    const double tp = static_cast<double>(p.total);
    const double tq = static_cast<double>(q.total);
    double sum = 0.0;
    // A bin on one side only contributes x * log2(x / (x/2)) / 2 = x / 2.
    size_t i = 0, j = 0;
    while (i < p.keys.size() || j < q.keys.size()) {
        double a = 0.0, b = 0.0;
        if (j == q.keys.size() || (i < p.keys.size() && p.keys[i] < q.keys[j])) {
            a = static_cast<double>(p.counts[i++]) / tp;
        } else if (i == p.keys.size() || q.keys[j] < p.keys[i]) {
            b = static_cast<double>(q.counts[j++]) / tq;
        } else {
            a = static_cast<double>(p.counts[i++]) / tp;
            b = static_cast<double>(q.counts[j++]) / tq;
        }
        const double m = 0.5 * (a + b);
        if (a > 0) sum += a * std::log2(a / m);
        if (b > 0) sum += b * std::log2(b / m);
    }
    return std::clamp(0.5 * sum, 0.0, 1.0);
}

}  // namespace dgc::fidelity
