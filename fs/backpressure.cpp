#include "fs/backpressure.h"

#include <algorithm>
#include <cmath>

#include "fs/sweeper.h"

namespace dgc::fs {

double ewma_weight(double dt_s, double window_s) { return dt_s <= 0 ? 0.0 : -std::expm1(-dt_s / window_s); }

void Ewma::update(double dt_s, double rate) {
    const double w = ewma_weight(dt_s, window_s);
    sum = sum * (1 - w) + rate * w;
    weight = weight * (1 - w) + w;
}

void RateMeter::tick(int64_t now_ns, bool busy) {
    if (last_ns_ < 0 || now_ns <= last_ns_) {  // first tick, or a clock that did not advance
        last_ns_ = std::max(last_ns_, now_ns);
        return;
    }
    const double dt = double(now_ns - last_ns_) / 1e9;
    last_ns_ = now_ns;
    if (idle_ == Idle::kExcluded && !busy && pending_ == 0) return;
    const double rate = pending_ / dt;
    pending_ = 0;
    short_.update(dt, rate);
    long_.update(dt, rate);
}

double RateMeter::value(const Ewma& e) const {
    if (idle_ == Idle::kCounts) return e.sum;
    return e.weight > 0 ? e.sum / e.weight : 0.0;
}

void Throughput::accepted(uint64_t packets, uint64_t bytes) {
    std::lock_guard lk(mu_);
    ingest_packets_.add(double(packets));
    ingest_bytes_.add(double(bytes));
}

void Throughput::modelled(uint64_t packets) {
    std::lock_guard lk(mu_);
    modelled_packets_.add(double(packets));
}

void Throughput::tick(bool modelling) {
    const int64_t now = clock_ns_();
    std::lock_guard lk(mu_);
    ingest_packets_.tick(now, true);
    ingest_bytes_.tick(now, true);
    modelled_packets_.tick(now, modelling);
}

nlohmann::json Throughput::json() const {
    std::lock_guard lk(mu_);
    auto both = [](const RateMeter& m) { return nlohmann::json{{"1m", m.short_rate()}, {"15m", m.long_rate()}}; };
    return {{"ingest_packets_per_s", both(ingest_packets_)},
            {"ingest_bytes_per_s", both(ingest_bytes_)},
            {"modelling_packets_per_s", both(modelled_packets_)}};
}

std::optional<double> backlog_eta_s(uint64_t backlog_packets, double modelling_pps) {
    if (backlog_packets == 0) return 0.0;
    if (!(modelling_pps > 0)) return std::nullopt;
    return double(backlog_packets) / modelling_pps;
}

double backlog_growth_pps(double ingest_pps, double modelling_pps) { return std::max(0.0, ingest_pps - modelling_pps); }

bool raw_waits_for_models(const Policy& policy, const TraceRow& t, double now_s) {
    if (!t.raw_present || !t.unmodelable.empty() || all_modelled(t)) return false;
    auto due = raw_expiry_ns(policy, facts_of(t));
    return due && double(*due) <= now_s * 1e9;
}

nlohmann::json backlog_json(const BacklogFacts& facts, const nlohmann::json& rates) {
    using nlohmann::json;
    json j = {{"packets", facts.packets},
              {"chunks", facts.chunks},
              {"traces", facts.traces},
              {"raw_overdue_traces", facts.raw_overdue}};
    for (const char* k : {"ingest_packets_per_s", "ingest_bytes_per_s", "modelling_packets_per_s"})
        j[k] = rates.is_object() && rates.contains(k) ? rates[k] : json();
    j["eta_s"] = j["keeping_up"] = j["growth_packets_per_s"] = nullptr;
    auto long_rate = [&](const char* k) { return j[k].is_object() ? j[k].value("15m", 0.0) : 0.0; };
    const double modelling = long_rate("modelling_packets_per_s");
    if (modelling > 0) {  // before the first chunk commits, nothing is known about modelling speed
        const double growth = backlog_growth_pps(long_rate("ingest_packets_per_s"), modelling);
        j["eta_s"] = backlog_eta_s(facts.packets, modelling).value();
        j["keeping_up"] = growth == 0;
        j["growth_packets_per_s"] = growth;
    } else if (facts.packets == 0) {
        j["eta_s"] = 0.0;
    }
    return j;
}

}  // namespace dgc::fs
