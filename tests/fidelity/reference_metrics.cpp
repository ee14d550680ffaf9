#include "reference_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>

namespace dgc::reference {
namespace {

using Hist = std::map<long long, double>;  // bin -> count

std::string address(const PacketRecord& r, bool source) {
    const auto& a = source ? r.src : r.dst;
    const int n = r.ip_version == 4 ? 4 : 16;
    return std::to_string(r.ip_version) + ":" + std::string(reinterpret_cast<const char*>(a.data()), n);
}

long long log2bin(unsigned long long x) {
    long long b = 0;
    while (x > 0) {
        x >>= 1;
        ++b;
    }
    return b;
}

// "zero" is -1000; otherwise k itself.
long long dtbin(long long d) {
    if (d == 0) return -1000;
    long long best = -70;
    for (int k = -70; k <= 30; ++k) {
        const long long edge = std::llround(std::pow(10.0, 9.0 + k / 10.0));
        if (edge <= d) best = k;
    }
    return best;
}

long long floor_div(long long a, long long b) {
    long long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

struct Profile {
    std::array<Hist, 17> h;
};

Profile profile(const std::vector<PacketRecord>& all) {
    Profile p;
    std::vector<PacketRecord> pk;
    for (const auto& r : all)
        if (r.is_ip()) pk.push_back(r);
    std::stable_sort(pk.begin(), pk.end(), [](const PacketRecord& a, const PacketRecord& b) { return a.t_ns < b.t_ns; });
    if (pk.empty()) return p;

    std::map<std::string, long long> per_src, per_dst;
    for (size_t i = 0; i < pk.size(); ++i) {
        const PacketRecord& r = pk[i];
        per_src[address(r, true)]++;
        per_dst[address(r, false)]++;
        if (r.has_ports()) {
            p.h[2][r.sport] += 1;
            p.h[3][r.dport] += 1;
        }
        p.h[4][r.proto] += 1;
        p.h[5][r.ip_len / 16] += 1;
        p.h[6][r.ttl] += 1;
        p.h[7][r.tos] += 1;
        if (r.proto == 6 && (r.present & kHasTcp)) p.h[8][r.tcp_flags] += 1;
        if (i > 0) p.h[9][dtbin(r.t_ns - pk[i - 1].t_ns)] += 1;
    }
    for (auto* src : {&per_src, &per_dst}) {
        std::vector<long long> counts;
        for (const auto& [a, c] : *src) counts.push_back(c);
        std::sort(counts.rbegin(), counts.rend());
        for (size_t k = 0; k < counts.size(); ++k) p.h[src == &per_src ? 0 : 1][k] += counts[k];
    }

    const long long t0 = pk.front().t_ns, t1 = pk.back().t_ns;
    const long long w0 = floor_div(t0, 1'000'000'000), w1 = floor_div(t1, 1'000'000'000);
    std::map<long long, std::tuple<long long, long long, std::map<std::string, int>>> windows;
    for (const auto& r : pk) {
        auto& w = windows[floor_div(r.t_ns, 1'000'000'000)];
        std::get<0>(w) += 1;
        std::get<1>(w) += r.ip_len;
        std::get<2>(w)[address(r, true)] = 1;
    }
    for (long long w = w0; w <= w1; ++w) {
        long long n = 0, bytes = 0, srcs = 0;
        auto it = windows.find(w);
        if (it != windows.end()) {
            n = std::get<0>(it->second);
            bytes = std::get<1>(it->second);
            srcs = static_cast<long long>(std::get<2>(it->second).size());
        }
        p.h[10][log2bin(n)] += 1;
        p.h[11][log2bin(bytes)] += 1;
        p.h[12][log2bin(srcs)] += 1;
    }

    // Flows: key -> the open flow of that key (index into a list of {start, end, pkts, bytes}).
    using Key = std::tuple<int, std::string, int, std::string, int>;
    struct F {
        long long start, end, pkts, bytes;
    };
    std::vector<F> flows;
    std::map<Key, size_t> open;
    for (const auto& r : pk) {
        const int sp = r.has_ports() ? r.sport : 0, dp = r.has_ports() ? r.dport : 0;
        std::pair<std::string, int> a{address(r, true), sp}, b{address(r, false), dp};
        if (b < a) std::swap(a, b);
        const Key key{r.proto, a.first, a.second, b.first, b.second};
        auto it = open.find(key);
        if (it == open.end() || r.t_ns - flows[it->second].end > 60'000'000'000LL) {
            flows.push_back({r.t_ns, r.t_ns, 0, 0});
            open[key] = flows.size() - 1;
        }
        F& f = flows[open[key]];
        f.end = r.t_ns;
        f.pkts += 1;
        f.bytes += r.ip_len;
    }
    for (const F& f : flows) {
        p.h[13][log2bin(f.pkts)] += 1;
        p.h[14][log2bin(f.bytes)] += 1;
        p.h[15][dtbin(f.end - f.start)] += 1;
        long long s = 0;
        if (t1 != t0) {
            s = static_cast<long long>((static_cast<__int128>(100) * (f.start - t0)) / (t1 - t0));
            s = std::clamp(s, 0LL, 99LL);
        }
        p.h[16][s] += 1;
    }
    return p;
}

std::optional<double> jsd(const Hist& a, const Hist& b) {
    double na = 0, nb = 0;
    for (const auto& [k, c] : a) na += c;
    for (const auto& [k, c] : b) nb += c;
    if (na == 0 && nb == 0) return std::nullopt;
    if (na == 0 || nb == 0) return 1.0;
    std::map<long long, std::pair<double, double>> u;
    for (const auto& [k, c] : a) u[k].first = c / na;
    for (const auto& [k, c] : b) u[k].second = c / nb;
    double kl_p = 0, kl_q = 0;
    for (const auto& [k, pq] : u) {
        const double m = (pq.first + pq.second) / 2;
        if (pq.first > 0) kl_p += pq.first * std::log(pq.first / m) / std::log(2.0);
        if (pq.second > 0) kl_q += pq.second * std::log(pq.second / m) / std::log(2.0);
    }
    return 0.5 * kl_p + 0.5 * kl_q;
}

}  // namespace

std::array<std::optional<double>, 17> seventeen_metrics(const std::vector<PacketRecord>& real,
                                                        const std::vector<PacketRecord>& synth) {
    const Profile p = profile(real), q = profile(synth);
    std::array<std::optional<double>, 17> out;
    for (int i = 0; i < 17; ++i) out[i] = jsd(p.h[i], q.h[i]);
    return out;
}

}  // namespace dgc::reference
