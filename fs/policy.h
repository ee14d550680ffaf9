// Retention policy: parsed from TOML (man dgcfs-policy.5) and applied by a pure
// decision function, so every expiry rule is unit-testable without a mount.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codec/status.h"

namespace dgc::fs {

// Per-subtree settings; unset fields inherit from earlier matching rules / defaults.
struct PolicySettings {
    std::optional<int64_t> raw_ttl_s;    // raw may expire this long after acceptance
    std::optional<int64_t> model_ttl_s;  // the whole trace is dropped this long after acceptance (raw gone first)
    std::optional<double> max_jsd;       // fidelity gate: worst chunk's mean JSD must be <= this
    std::optional<bool> hold;            // legal hold: nothing expires
    std::optional<double> bytes_per_packet;  // storage knob for the subtree's chunk models
};

struct PolicyRule {
    std::string glob;  // fnmatch(3) without FNM_PATHNAME: '*' also matches '/'
    PolicySettings settings;
};

struct Policy {
    PolicySettings defaults;
    std::vector<PolicyRule> rules;          // later matches override earlier ones
    std::optional<uint64_t> raw_quota;      // volume-wide raw bytes on disk
    int64_t sweep_interval_s = 60;
    // Training knobs, here so an operator tunes them with the rest of the policy.
    // An hour: sparse captures (IoT, days long) would otherwise make thousands of tiny chunks,
    // each paying the fixed cost of a model.
    double chunk_seconds = 3600;
    uint64_t chunk_packets = 20000;
    int train_steps = 0;                    // optimizer steps per chunk; 0 = trainer default
    double bytes_per_packet = 0.49;         // [training] storage knob (trainer::kDefaultBytesPerPacket), (0, 4]; rules override it
    int64_t quiet_ms = 500;                 // after the last close before ingest starts
    bool reuse = true;                      // [training] reuse: a chunk may point at its parent with no weights of its own

    PolicySettings effective(const std::string& path) const;
    // The storage knob for a trace: the last matching rule's, else `global_default`.
    double bytes_per_packet_for(const std::string& path, double global_default) const;
};

// "30d", "12h", "15m", "10s", "forever" or a plain integer of seconds.
Result<std::optional<int64_t>> parse_duration(const std::string& text);
// "10G", "512M", "4k" (powers of 1024) or a plain integer of bytes.
Result<uint64_t> parse_size(const std::string& text);

Result<Policy> parse_policy(const std::string& toml_text, const std::string& source_name);
Result<Policy> load_policy(const std::string& path);

// What the sweep knows about one trace.
struct TraceFacts {
    uint64_t id = 0;
    std::string path;
    int64_t accepted_ns = 0;
    bool raw_present = true;
    uint64_t raw_stored = 0;
    bool modelled = false;         // every chunk has a committed model
    uint32_t chunks_done = 0;
    uint32_t chunks = 0;
    std::string unmodelable;       // reason, empty when modelable
    bool xattr_hold = false;
    double worst_fidelity = 0;
};

enum class Action { kBlocked, kExpireRaw, kDropTrace };

struct Decision {
    uint64_t id = 0;
    std::string path;
    Action action = Action::kBlocked;
    std::string reason;            // why it expires, or why it may not although a rule asks
};

// Raw expiry for the xattr; nullopt when the TTL is unset (raw kept until quota/forever).
std::optional<int64_t> raw_expiry_ns(const Policy& p, const TraceFacts& t);

// Invariant 2 in one place: may this trace's raw bytes go? Empty string = yes, else why not.
std::string raw_expiry_blocker(const PolicySettings& s, const TraceFacts& t);

// Every decision the sweep should act on or report, oldest traces first.
std::vector<Decision> decide(const Policy& p, std::span<const TraceFacts> traces, int64_t now_ns);

const char* action_name(Action a);

}  // namespace dgc::fs
