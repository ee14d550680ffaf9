// When a chunk's flows start and how their packets are spaced: dtbin classes back to
// nanoseconds, gaps fitted to a flow's duration class, flow starts at each bucket's own rate.
// Shared by the format-5 and format-6 generators (their bytes depend on it: the golden
// fixtures pin both).
#include "trainer/flow_timing.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <tuple>

#include "codec/fidelity/binning.h"
#include "codec/flows.h"
#include "trainer/rng.h"

namespace dgc::trainer {

int64_t sample_dt(int dt_class, uint64_t random) {
    if (dt_class <= 0) return 0;
    const auto& e = fidelity::dt_edges();
    int idx = std::min(dt_class - 1, fidelity::kDtEdges - 1);
    double lo = static_cast<double>(idx == 0 ? 1 : e[idx]);
    double hi = static_cast<double>(idx + 1 < fidelity::kDtEdges ? e[idx + 1] : e[idx] * 10 / 8);
    if (idx == 0) lo = static_cast<double>(e[0]);
    double u = unit_interval(random);
    auto v = static_cast<int64_t>(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))));
    return std::clamp<int64_t>(v, idx == 0 ? 1 : e[idx], idx + 1 < fidelity::kDtEdges ? e[idx + 1] - 1 : v);
}

std::pair<int64_t, int64_t> dt_class_bounds(int dt_class) {
    if (dt_class <= 0) return {0, 0};
    const auto& e = fidelity::dt_edges();
    const int idx = std::min(dt_class - 1, fidelity::kDtEdges - 1);
    return {idx == 0 ? 1 : e[idx], idx + 1 < fidelity::kDtEdges ? e[idx + 1] - 1 : std::numeric_limits<int64_t>::max() / 4};
}

void fit_gaps_to_duration(std::vector<int64_t>& gaps, int64_t lo, int64_t hi, int64_t cap, bool level) {
    if (gaps.size() < 2) return;
    int64_t total = 0;
    for (size_t j = 1; j < gaps.size(); ++j) total += gaps[j];
    if (total >= lo && total <= hi) return;
    // Targets keep clear of the class edges: a capture written in microseconds rounds a
    // time that sits on an edge into the neighbouring class.
    const int64_t target = std::clamp(total, lo + (hi - lo) / 8, hi - (hi - lo) / 8);
    // First within each gap's own dtbin class: the gap mix stays exactly as drawn.
    std::vector<int64_t> room(gaps.size(), 0);
    int64_t room_sum = 0;
    for (size_t j = 1; j < gaps.size(); ++j) {
        auto [glo, ghi] = dt_class_bounds(static_cast<int>(fidelity::dtbin_key(gaps[j])));
        ghi = std::min(ghi, cap);
        const int64_t margin = (ghi - glo) / 8;
        room[j] = std::max<int64_t>(0, target > total ? ghi - margin - gaps[j] : gaps[j] - glo - margin);
        room_sum += room[j];
    }
    if (room_sum > 0) {
        const double frac = std::min(1.0, static_cast<double>(std::llabs(target - total)) / static_cast<double>(room_sum));
        for (size_t j = 1; j < gaps.size(); ++j) {
            const auto d = static_cast<int64_t>(static_cast<double>(room[j]) * frac);
            gaps[j] += target > total ? d : -d;
            total += target > total ? d : -d;
        }
    }
    if (total == target || !level) return;
    // Then the largest gaps move: a longer flow stretches them (each up to `cap`), a
    // shorter one levels them down to a common ceiling.
    std::vector<size_t> order(gaps.size() - 1);
    for (size_t j = 0; j < order.size(); ++j) order[j] = j + 1;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return gaps[a] > gaps[b]; });
    if (target > total) {
        int64_t need = target - total;
        for (size_t j : order) {
            const int64_t add = std::clamp<int64_t>(cap - gaps[j], 0, need);
            gaps[j] += add, need -= add;
            if (need == 0) break;
        }
    } else {
        // The k largest gaps share what the smaller ones leave of the target; scanning k
        // down from all of them, the first share no more than the k-th largest gap is it.
        int64_t below = 0;  // sum of the gaps smaller than order[i]
        for (size_t i = order.size(); i-- > 0;) {
            const int64_t g = gaps[order[i]];
            const int64_t left = target - below, k = static_cast<int64_t>(i + 1);
            const int64_t share = left / k;
            if (share <= g) {
                const int64_t rem = left - share * k;
                for (int64_t q = 0; q < k; ++q) gaps[order[q]] = share + (q < rem ? 1 : 0);
                return;
            }
            below += g;
        }
    }
}

void fit_gaps_to_class(std::vector<int64_t>& gaps, int dur_class, int64_t cap, bool low_end) {
    if (gaps.size() < 2) return;
    auto [lo, hi] = dt_class_bounds(dur_class);
    hi = std::min<int64_t>(hi, cap * static_cast<int64_t>(gaps.size() - 1));
    lo = std::min(lo, hi);
    fit_gaps_to_duration(gaps, lo, low_end ? lo + (hi - lo) / 8 : hi, cap, !low_end);
}

int trusted_duration_class(int drawn_class, std::span<const int64_t> gaps) {
    if (gaps.size() < kTrustedGapPackets) return drawn_class;
    int64_t sum = 0;
    for (int64_t g : gaps) sum += g;
    const int64_t top = dt_class_bounds(drawn_class).second;
    if (top >= std::numeric_limits<int64_t>::max() / kTrustedGapRatio || sum <= kTrustedGapRatio * top) return drawn_class;
    return static_cast<int>(fidelity::dtbin_key(sum));
}

std::vector<uint8_t> start_buckets(const ChunkSide& side) {
    std::vector<uint8_t> out;
    for (int b = 0; b < static_cast<int>(side.flow_starts.size()); ++b)
        out.insert(out.end(), side.flow_starts[b], static_cast<uint8_t>(b));
    return out;
}

std::vector<int64_t> low_end_offsets(std::span<const int64_t> offsets, int dur_class, int64_t cap) {
    std::vector<int64_t> out(offsets.begin(), offsets.end());
    for (size_t j = out.size(); j-- > 1;) out[j] -= out[j - 1];  // back to gaps
    fit_gaps_to_class(out, dur_class, cap, true);
    for (size_t j = 1; j < out.size(); ++j) out[j] += out[j - 1];
    return out;
}

std::vector<int64_t> caught_up_offsets(std::span<const int64_t> offsets, int64_t lag, int64_t room) {
    std::vector<int64_t> out(offsets.begin(), offsets.end());
    if (lag <= 0 || room <= 0 || room >= kCatchUpShare * lag) return out;
    // A quarter where room / (room + lag) is less.
    const bool quarter = kCatchUpShare * room < room + lag;
    const __int128 num = quarter ? 1 : room, den = quarter ? kCatchUpShare : room + lag;
    for (int64_t& o : out) o = static_cast<int64_t>(static_cast<__int128>(o) * num / den);
    return out;
}

std::vector<uint32_t> rate_matched_gaps(const std::vector<uint32_t>& hist, double mean_gap) {
    constexpr double kScale = 1024;
    std::vector<double> value(hist.size(), 0);
    double n = 0, sum = 0;
    for (size_t k = 1; k < hist.size(); ++k) {
        auto [lo, hi] = dt_class_bounds(static_cast<int>(k));
        const double l = static_cast<double>(lo), h = static_cast<double>(std::max(hi, lo + 1));
        value[k] = (h - l) / std::log(h / l);  // mean of the log-uniform draw sample_dt makes
    }
    for (size_t k = 0; k < hist.size(); ++k) n += hist[k], sum += hist[k] * value[k];
    std::vector<uint32_t> w(hist.size(), 0);
    if (n == 0) return w;
    // From the short end when the stretch is busier than the chunk, else from the long end;
    // classes join until the running mean passes the target.
    const bool busy = mean_gap <= sum / n;
    double cn = 0, cs = 0;
    for (size_t i = 0; i < hist.size(); ++i) {
        const size_t k = busy ? i : hist.size() - 1 - i;
        if (!hist[k]) continue;
        const double nn = cn + hist[k], ns = cs + hist[k] * value[k];
        const bool passes = busy ? ns / nn >= mean_gap : ns / nn <= mean_gap;
        if (passes && cn > 0) {
            // Part of this class: (cs + x·v) / (cn + x) = mean_gap.
            const double x = std::clamp((mean_gap * cn - cs) / (value[k] - mean_gap), 0.0, double(hist[k]));
            w[k] = static_cast<uint32_t>(std::lround(x * kScale));
            break;
        }
        w[k] = static_cast<uint32_t>(hist[k] * kScale);
        cn = nn, cs = ns;
        if (passes) break;
    }
    return w;
}

std::vector<int64_t> flow_start_times(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed) {
    std::vector<int64_t> out(flows.size(), side.ip_t0);
    Rng rng(mix64(seed ^ 0x57A27ULL));
    const bool have_gaps = std::any_of(side.start_gaps.begin(), side.start_gaps.end(), [](uint32_t c) { return c; });
    auto starts_in = [&](int b) { return b >= 0 && b < kTimeBuckets ? side.flow_starts[b] : 0u; };
    for (size_t i = 0; i < flows.size();) {
        size_t j = i;
        while (j < flows.size() && flows[j].bucket == flows[i].bucket) ++j;
        const int b = flows[i].bucket;
        const int64_t lo = bucket_first(b, side.ip_t0, side.ip_span);
        const int64_t width = std::max<int64_t>(0, bucket_last(b, side.ip_t0, side.ip_span) - lo);
        // A thin bucket between a silent one and a busier one is the edge of a burst: its
        // flows keep to the busy side at the busy neighbour's rate instead of spreading into
        // the silence. (A spike, busier than both neighbours, sits wherever it sits.) The
        // chunk's first and last buckets lean on its first and last flow.
        const uint32_t before = starts_in(b - 1), after = starts_in(b + 1);
        const uint64_t here = j - i;
        enum { kSpread, kAtStart, kAtEnd } lean = kSpread;
        if (b == 0 || (!after && before >= here)) lean = kAtStart;
        // Format 25: the first bucket opens with its first flow even when the next bucket is
        // busier (it leaned on its end, and the chunk's earliest packet was pinned minutes
        // away from its flow).
        const bool opens_chunk = b == 0 && side.format >= 25;
        if (b == kTimeBuckets - 1 || (!before && after >= here && !opens_chunk)) lean = kAtEnd;
        const uint64_t pace = std::max<uint64_t>(here, lean == kSpread ? 0 : std::max(before, after));
        // Gaps drawn from the part of the chunk's start-gap histogram that matches that
        // rate; the group keeps its natural spacing when it fits the bucket, and is
        // compressed when not.
        std::vector<int64_t> pos(j - i + 1, 0);
        const std::vector<uint32_t> gaps =
            have_gaps ? rate_matched_gaps(side.start_gaps, static_cast<double>(width) / static_cast<double>(pace))
                      : std::vector<uint32_t>{};
        for (size_t k = 1; k < pos.size(); ++k)
            pos[k] = pos[k - 1] + (have_gaps ? sample_dt(static_cast<int>(rng.pick(gaps)), rng.next())
                                             : width / static_cast<int64_t>(pos.size()));
        const int64_t total = pos.back();
        const double scale = total > width ? static_cast<double>(width) / static_cast<double>(total) : 1.0;
        const int64_t room = std::max<int64_t>(0, width - total);
        const int64_t offset = lean == kAtStart ? 0 : lean == kAtEnd ? room : rng.between(0, room);
        for (size_t k = i; k < j; ++k)
            out[k] = lo + offset + static_cast<int64_t>(std::llround(static_cast<double>(pos[k - i]) * scale));
        i = j;
    }
    return out;
}

void pin_extreme(std::vector<PacketRecord>& out, bool ip, bool latest, int64_t t, bool when) {
    if (!when) return;
    PacketRecord* pick = nullptr;
    for (auto& r : out)
        if (r.is_ip() == ip && (!pick || (latest ? r.t_ns > pick->t_ns : r.t_ns < pick->t_ns))) pick = &r;
    if (pick) pick->t_ns = t;
}

std::vector<int64_t> spread_to_edge(std::span<const int64_t> t, int64_t edge, int64_t split, int64_t cap) {
    std::vector<int64_t> out(t.begin(), t.end());
    if (t.empty()) return out;
    int64_t shift = edge - t.back();
    for (size_t k = t.size(); k-- > 0;) {
        out[k] += shift;
        // Entering the piece before: its silence after may grow to `cap`.
        if (k > 0 && t[k] - t[k - 1] > split) shift = std::max<int64_t>(0, shift - std::max<int64_t>(0, cap - (t[k] - t[k - 1])));
        if (shift == 0) break;
    }
    return out;
}

namespace {

// Format 68: the segments of TCP connection `conn` among out[from, to) moved toward `edge`
// (the chunk's end where `tail`, else its start) as spread_to_edge says.
void spread_connection(std::vector<PacketRecord>& out, size_t from, size_t to, const FlowKey& conn, int64_t edge, bool tail,
                       const PieceSpread& spread) {
    std::vector<size_t> at;
    for (size_t i = from; i < to; ++i)
        if (out[i].is_ip() && flow_key_of(out[i]) == conn) at.push_back(i);
    // Mirrored at the start: times negated, latest first.
    const auto key = [&](size_t i) { return tail ? out[i].t_ns : -out[i].t_ns; };
    std::stable_sort(at.begin(), at.end(), [&](size_t x, size_t y) { return key(x) < key(y); });
    std::vector<int64_t> t;
    for (size_t i : at) t.push_back(key(i));
    const std::vector<int64_t> moved = spread_to_edge(t, tail ? edge : -edge, spread.split, spread.cap);
    for (size_t k = 0; k < at.size(); ++k) out[at[k]].t_ns = tail ? moved[k] : -moved[k];
}

}  // namespace

void pin_ip_edges(std::vector<PacketRecord>& out, std::span<const size_t> flows, int64_t t0, int64_t t1, const PieceSpread* spread) {
    if (flows.empty()) return;
    size_t first = flows.back(), last = flows.back();
    for (size_t i = flows.front(); i < flows.back(); ++i) {
        if (!out[i].is_ip()) continue;
        if (first == flows.back() || out[i].t_ns < out[first].t_ns) first = i;
        if (last == flows.back() || out[i].t_ns > out[last].t_ns) last = i;
    }
    if (first == flows.back()) return;
    auto flow_of = [&](size_t i) {
        const auto next = std::upper_bound(flows.begin(), flows.end(), i);
        return std::pair<size_t, size_t>{*std::prev(next), *next};
    };
    const auto a = flow_of(first), b = flow_of(last);
    if (a == b) {  // one flow spans the chunk: moving it whole would take it off one edge
        out[first].t_ns = t0;
        out[last].t_ns = t1;
        return;
    }
    for (const auto& [at, range, edge, tail] : {std::tuple{first, a, t0, false}, std::tuple{last, b, t1, true}}) {
        if (spread && out[at].proto == 6 && out[at].has_ports()) {
            spread_connection(out, flows.front(), flows.back(), flow_key_of(out[at]), edge, tail, *spread);
            continue;
        }
        const int64_t shift = edge - out[at].t_ns;
        for (size_t i = range.first; i < range.second; ++i) out[i].t_ns += shift;
    }
}

int pick_continued(std::span<const int64_t> ends, int64_t latest, int64_t split) {
    int best = -1;
    for (size_t k = 0; k < ends.size(); ++k)
        if (ends[k] + split < latest && (best < 0 || ends[k] > ends[best])) best = static_cast<int>(k);
    return best;
}

int64_t continued_start(int64_t prev_end, int64_t split, int64_t excess, int64_t start, int64_t earliest, int64_t latest) {
    return std::clamp(prev_end + split + 1 + excess, earliest, std::max(start, latest));
}

int64_t drawn_cont_excess(std::span<const uint32_t> cont_w, uint64_t seed, size_t fi, std::span<const GapPlace> places) {
    Rng gr(mix64(seed ^ mix64(fi ^ 0xC0A7ULL)));
    const int c = static_cast<int>(gr.pick(cont_w));
    const auto [lo, hi] = cont_gap_class_range(c);
    if (c > 0 && static_cast<size_t>(c) < places.size() && places[c].spread) return draw_at_place(places[c], gr.next(), lo, hi);
    return gr.between(lo, hi);
}

std::optional<int64_t> chained_start(int64_t prev_end, int64_t split, int64_t excess, int64_t start, int64_t first, int64_t last,
                                     int64_t reach, int64_t lead, int64_t longest) {
    if (start - (prev_end + lead) > std::max(last - first, 4 * split) && start - prev_end - split - 1 <= longest) return start;
    // Format 32: a chain waits for a bucket wider than the chunk's longest silence no longer
    // than that silence (where the model drew a flow in so wide a bucket says little); for a
    // narrower one (hourly chunks) as format 18 did.
    const int64_t wait = longest < 2 * split && last - first > split + longest ? split + longest : 3 * split;
    const int64_t at = std::max(prev_end + split + 1 + excess, std::min(first, prev_end + wait + 1));
    if (at > std::max(start, last) + reach) return std::nullopt;
    return at;
}

std::vector<uint8_t> tcp_matched_buckets(std::span<const uint8_t> bucket, std::span<const char> tcp,
                                         std::span<const uint32_t> packets, std::span<const uint32_t> tcp_starts) {
    std::vector<uint8_t> out(bucket.begin(), bucket.end());
    const int n = static_cast<int>(tcp_starts.size());
    std::vector<std::vector<size_t>> tcps(n), others(n);
    for (size_t i = 0; i < out.size(); ++i)
        if (out[i] < n) (tcp[i] ? tcps : others)[out[i]].push_back(i);
    // The smallest flows move first (taken from the back): the model sized a flow for where
    // it put it (a connection's opening burst), and the packets per bucket stay closest.
    for (auto& v : tcps) std::stable_sort(v.begin(), v.end(), [&](size_t a, size_t b) { return packets[a] > packets[b]; });
    for (auto& v : others) std::stable_sort(v.begin(), v.end(), [&](size_t a, size_t b) { return packets[a] > packets[b]; });
    std::vector<int64_t> surplus(n);
    for (int b = 0; b < n; ++b) surplus[b] = static_cast<int64_t>(tcps[b].size()) - tcp_starts[b];
    // Nearest first: every surplus TCP flow one bucket away that can go, then two, ...
    for (int d = 1; d < n; ++d)
        for (int b = 0; b < n; ++b)
            for (const int c : {b - d, b + d}) {
                if (c < 0 || c >= n) continue;
                while (surplus[b] > 0 && surplus[c] < 0 && !others[c].empty()) {
                    const size_t t = tcps[b].back(), o = others[c].back();
                    tcps[b].pop_back(), others[c].pop_back();
                    std::swap(out[t], out[o]);
                    tcps[c].push_back(t), others[b].push_back(o);
                    --surplus[b], ++surplus[c];
                }
            }
    return out;
}

std::vector<uint8_t> packet_matched_buckets(std::span<const uint8_t> bucket, std::span<const char> tcp,
                                            std::span<const uint32_t> packets, std::span<const uint32_t> start_packets) {
    std::vector<uint8_t> out(bucket.begin(), bucket.end());
    const int n = static_cast<int>(start_packets.size());
    using Held = std::set<std::pair<uint32_t, size_t>>;  // (packets, flow), per bucket and kind
    std::vector<std::array<Held, 2>> held(n);
    std::vector<int64_t> excess(n);  // packets held above the bucket's own
    for (int b = 0; b < n; ++b) excess[b] = -static_cast<int64_t>(start_packets[b]);
    for (size_t i = 0; i < out.size(); ++i)
        if (out[i] < n) held[out[i]][tcp[i] ? 1 : 0].insert({packets[i], i}), excess[out[i]] += packets[i];
    std::vector<size_t> order(out.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return packets[a] > packets[b]; });
    // A few passes: a swap can leave a bucket that was right over, for a later flow to fix.
    for (int pass = 0; pass < 4; ++pass) {
        bool moved = false;
        for (const size_t f : order) {
            if (packets[f] <= 1) break;  // no flow is smaller: from here on nothing can trade
            const int b = out[f];
            if (b >= n || excess[b] <= 0) continue;
            const int kind = tcp[f] ? 1 : 0;
            const int64_t size = packets[f];
            int best_c = -1;
            size_t best_g = 0;
            int64_t best_gain = 0;
            auto consider = [&](int c, Held::const_iterator g) {
                const int64_t moves = size - static_cast<int64_t>(g->first);
                if (moves <= 0) return;
                const int64_t gain = excess[b] - excess[c] - std::abs(excess[b] - moves) - std::abs(excess[c] + moves);
                if (gain > best_gain) best_gain = gain, best_c = c, best_g = g->second;
            };
            for (int d = 1; d < n; ++d)
                for (const int c : {b - d, b + d}) {
                    if (c < 0 || c >= n || excess[c] >= 0 || held[c][kind].empty()) continue;
                    // The partner whose size leaves the smaller of the two gaps closed.
                    const Held& h = held[c][kind];
                    const int64_t ideal = size - std::min(excess[b], -excess[c]);
                    auto it = h.lower_bound({static_cast<uint32_t>(std::max<int64_t>(ideal, 0)), 0});
                    if (it != h.end()) consider(c, it);
                    if (it != h.begin()) consider(c, std::prev(it));
                }
            if (best_c < 0) continue;
            const int64_t moves = size - packets[best_g];
            held[b][kind].erase({packets[f], f}), held[best_c][kind].erase({packets[best_g], best_g});
            held[b][kind].insert({packets[best_g], best_g}), held[best_c][kind].insert({packets[f], f});
            out[f] = static_cast<uint8_t>(best_c), out[best_g] = static_cast<uint8_t>(b);
            excess[b] -= moves, excess[best_c] += moves;
            moved = true;
        }
        if (!moved) break;
    }
    return out;
}

}  // namespace dgc::trainer
