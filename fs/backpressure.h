// Backpressure: how fast traffic is accepted against how fast it is modelled, as load
// averages over a short and a long window, and what that means for the backlog. The
// daemon feeds events it already has (a trace accepted, a chunk committed) and publishes
// the rates in status.json; `dgcctl status` joins them with the backlog it reads from the
// catalog. Time always comes in from outside, so tests need no real clock.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "fs/catalog_rows.h"
#include "fs/policy.h"

namespace dgc::fs {

inline constexpr double kShortWindowS = 60;   // "1m"
inline constexpr double kLongWindowS = 900;   // "15m": what "keeping up" is judged on

// Share a sample spanning dt_s gets in an exponentially weighted average over window_s,
// 1 - e^(-dt/window): ticks of any length weigh the same per second.
double ewma_weight(double dt_s, double window_s);

// One average, updated with the mean rate of each interval.
struct Ewma {
    double window_s = kShortWindowS;
    double sum = 0;     // weighted rates
    double weight = 0;  // weight of the time seen; < 1 while younger than the window
    void update(double dt_s, double rate);
};

// A rate in units per second over both windows.
class RateMeter {
public:
    // kCounts: idle time counts as rate 0, like a load average (time before the first tick
    // too): the ingest rate is what arrived per second over the window.
    // kExcluded: intervals with nothing added and `busy` false are skipped, and the average
    // is over the time seen: the modelling rate is the throughput while there is work.
    enum class Idle { kCounts, kExcluded };
    explicit RateMeter(Idle idle) : idle_(idle) {}
    void add(double amount) { pending_ += amount; }
    // Closes the interval since the previous tick; the first tick only starts the clock.
    void tick(int64_t now_ns, bool busy);
    double short_rate() const { return value(short_); }
    double long_rate() const { return value(long_); }

private:
    double value(const Ewma& e) const;
    Idle idle_;
    double pending_ = 0;
    int64_t last_ns_ = -1;
    Ewma short_{kShortWindowS}, long_{kLongWindowS};
};

// The daemon's meters, shared by the ingest thread, the workers and the status writer.
class Throughput {
public:
    explicit Throughput(std::function<int64_t()> clock_ns) : clock_ns_(std::move(clock_ns)) {}
    void accepted(uint64_t packets, uint64_t bytes);
    void modelled(uint64_t packets);
    // `modelling`: a chunk is being modelled now.
    void tick(bool modelling);
    // status.json's "rates": {"ingest_packets_per_s": {"1m", "15m"}, "ingest_bytes_per_s": …,
    // "modelling_packets_per_s": …}.
    nlohmann::json json() const;

private:
    std::function<int64_t()> clock_ns_;
    mutable std::mutex mu_;
    RateMeter ingest_packets_{RateMeter::Idle::kCounts}, ingest_bytes_{RateMeter::Idle::kCounts};
    RateMeter modelled_packets_{RateMeter::Idle::kExcluded};
};

// Seconds until the backlog is modelled at `modelling_pps`; none without a rate.
std::optional<double> backlog_eta_s(uint64_t backlog_packets, double modelling_pps);
// Packets per second the backlog grows by when ingest outpaces modelling; 0 when it keeps up.
double backlog_growth_pps(double ingest_pps, double modelling_pps);

// A trace whose raw TTL has elapsed but whose raw stays because it is not modelled yet
// (invariant 2): the backlog is what holds its bytes.
bool raw_waits_for_models(const Policy& policy, const TraceRow& t, double now_s);

struct BacklogFacts {
    uint64_t packets = 0, chunks = 0, traces = 0;  // not modelled yet, of modelable traces
    uint64_t raw_overdue = 0;                      // traces for which raw_waits_for_models
};
// `dgcctl status --json`'s "backlog" object (dgcctl(1)): the facts, the daemon's `rates`
// (null when no daemon runs: every rate and what follows from them is then null), the ETA
// at the long-window modelling rate, and whether modelling keeps up with ingest.
nlohmann::json backlog_json(const BacklogFacts& facts, const nlohmann::json& rates);

}  // namespace dgc::fs
