#include "codec/fidelity/time_series.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace dgc::fidelity {

namespace {
// FNV-1a over an address (version byte first): a set key for distinct hosts and pairs.
uint64_t address_hash(uint64_t h, uint8_t version, const std::array<uint8_t, 16>& a) {
    h = (h ^ version) * 0x100000001b3ULL;
    for (int i = 0; i < (version == 4 ? 4 : 16); ++i) h = (h ^ a[i]) * 0x100000001b3ULL;
    return h;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ULL;
}  // namespace

int64_t epoch_of(int64_t t, int64_t t0, int64_t epoch_ns) {
    if (t < t0 || epoch_ns <= 0) return -1;
    return (t - t0) / epoch_ns;
}

EpochSeries epoch_series(std::span<const PacketRecord> records, int64_t t0, int64_t epoch_ns, size_t epochs) {
    EpochSeries s;
    s.packets.assign(epochs, 0), s.bytes.assign(epochs, 0), s.sources.assign(epochs, 0), s.pairs.assign(epochs, 0);
    std::vector<std::unordered_set<uint64_t>> sources(epochs), pairs(epochs);
    for (const auto& r : records) {
        const int64_t e = epoch_of(r.t_ns, t0, epoch_ns);
        if (e < 0 || static_cast<size_t>(e) >= epochs) continue;
        ++s.packets[e];
        s.bytes[e] += r.wirelen;
        if (!r.is_ip()) continue;
        const uint64_t src = address_hash(kFnvBasis, r.ip_version, r.src);
        sources[e].insert(src);
        pairs[e].insert(address_hash(src, r.ip_version, r.dst));
    }
    for (size_t e = 0; e < epochs; ++e) s.sources[e] = static_cast<double>(sources[e].size()), s.pairs[e] = static_cast<double>(pairs[e].size());
    return s;
}

std::optional<double> pearson(std::span<const double> a, std::span<const double> b) {
    const size_t n = std::min(a.size(), b.size());
    if (n < 2) return std::nullopt;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; ++i) ma += a[i], mb += b[i];
    ma /= static_cast<double>(n), mb /= static_cast<double>(n);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; ++i) {
        const double x = a[i] - ma, y = b[i] - mb;
        sab += x * y, saa += x * x, sbb += y * y;
    }
    if (saa <= 0 || sbb <= 0) return std::nullopt;
    return std::clamp(sab / std::sqrt(saa * sbb), -1.0, 1.0);
}

}  // namespace dgc::fidelity
