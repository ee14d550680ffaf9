#include "fs/policy.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "codec/log.h"

namespace dgc::fs {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;

Result<std::optional<int64_t>> duration_node(const toml::node& n, const std::string& where) {
    if (auto i = n.as_integer()) {
        if (i->get() < 0) return Status::invalid(where + ": duration must not be negative");
        return std::optional<int64_t>(i->get());
    }
    if (auto s = n.as_string()) {
        auto d = parse_duration(s->get());
        if (!d) return Status::invalid(where + ": " + d.status().message());
        return d;
    }
    return Status::invalid(where + ": expected seconds or a string like \"30d\"");
}

// The storage knob, refused outside (0, 4] so a typo cannot silently starve or bloat models.
Status knob_node(const toml::node& n, const std::string& where, double& out) {
    auto x = n.value<double>();
    if (!x || !(*x > 0) || *x > 4) return Status::invalid(where + ": expected a number of model bytes per packet in (0, 4]");
    out = *x;
    return {};
}

Status read_settings(const toml::table& t, const std::string& where, PolicySettings& s) {
    for (auto&& [k, v] : t) {
        const std::string key(k.str());
        const std::string at = where + "." + key;
        if (key == "raw_ttl" || key == "model_ttl") {
            auto d = duration_node(v, at);
            if (!d) return d.status();
            (key == "raw_ttl" ? s.raw_ttl_s : s.model_ttl_s) = *d;
        } else if (key == "max_jsd") {
            auto x = v.value<double>();
            if (!x || *x < 0) return Status::invalid(at + ": expected a non-negative number");
            s.max_jsd = *x;
        } else if (key == "hold") {
            auto b = v.value<bool>();
            if (!b) return Status::invalid(at + ": expected true or false");
            s.hold = *b;
        } else if (key == "bytes_per_packet") {
            double x = 0;
            if (auto st = knob_node(v, at, x); !st) return st;
            s.bytes_per_packet = x;
        } else if (key != "path") {
            return Status::invalid(at + ": unknown setting");
        }
    }
    return {};
}

void overlay(PolicySettings& base, const PolicySettings& top) {
    if (top.raw_ttl_s) base.raw_ttl_s = top.raw_ttl_s;
    if (top.model_ttl_s) base.model_ttl_s = top.model_ttl_s;
    if (top.max_jsd) base.max_jsd = top.max_jsd;
    if (top.hold) base.hold = top.hold;
    if (top.bytes_per_packet) base.bytes_per_packet = top.bytes_per_packet;
}

std::string fmt_double(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", v);
    return buf;
}

}  // namespace

PolicySettings Policy::effective(const std::string& path) const {
    PolicySettings s = defaults;
    for (const auto& r : rules)
        if (fnmatch(r.glob.c_str(), path.c_str(), 0) == 0) overlay(s, r.settings);
    return s;
}

double Policy::bytes_per_packet_for(const std::string& path, double global_default) const {
    return effective(path).bytes_per_packet.value_or(global_default);
}

Result<std::optional<int64_t>> parse_duration(const std::string& text) {
    if (text == "forever" || text == "never") return std::optional<int64_t>();
    if (text.empty()) return Status::invalid("empty duration");
    size_t pos = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == 0) return Status::invalid("duration '" + text + "' does not start with a number");
    int64_t n = std::stoll(text.substr(0, pos));
    std::string unit = text.substr(pos);
    int64_t mul = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400
                : unit == "w" ? 7 * 86400 : -1;
    if (mul < 0) return Status::invalid("duration '" + text + "': unit must be s, m, h, d or w");
    return std::optional<int64_t>(n * mul);
}

Result<uint64_t> parse_size(const std::string& text) {
    size_t pos = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == 0) return Status::invalid("size '" + text + "' does not start with a number");
    uint64_t n = std::stoull(text.substr(0, pos));
    std::string unit = text.substr(pos);
    if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
    int shift = unit.empty() ? 0 : (unit == "k" || unit == "K") ? 10 : unit == "M" ? 20 : unit == "G" ? 30
              : unit == "T" ? 40 : -1;
    if (shift < 0) return Status::invalid("size '" + text + "': unit must be k, M, G or T");
    return n << shift;
}

Result<Policy> parse_policy(const std::string& toml_text, const std::string& source_name) {
    toml::table root;
    try {
        root = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << source_name << ":" << e.source().begin.line << ": " << e.description();
        return Status::invalid(os.str());
    }
    Policy p;
    for (auto&& [k, v] : root) {
        const std::string key(k.str());
        if (key == "defaults") {
            if (!v.is_table()) return Status::invalid(source_name + ": [defaults] must be a table");
            if (auto st = read_settings(*v.as_table(), source_name + ": defaults", p.defaults); !st) return st;
        } else if (key == "volume") {
            const auto* t = v.as_table();
            if (!t) return Status::invalid(source_name + ": [volume] must be a table");
            if (auto q = (*t)["raw_quota"]) {
                auto size = q.is_integer() ? Result<uint64_t>(uint64_t(q.value<int64_t>().value_or(0)))
                                           : parse_size(q.value<std::string>().value_or("?"));
                if (!size) return Status::invalid(source_name + ": volume.raw_quota: " + size.status().message());
                p.raw_quota = *size;
            }
            if (auto s = (*t)["sweep_interval"]) {
                auto d = duration_node(*s.node(), source_name + ": volume.sweep_interval");
                if (!d) return d.status();
                p.sweep_interval_s = std::max<int64_t>(1, d->value_or(60));
            }
        } else if (key == "training") {
            const auto* t = v.as_table();
            if (!t) return Status::invalid(source_name + ": [training] must be a table");
            p.chunk_seconds = (*t)["chunk_seconds"].value<double>().value_or(p.chunk_seconds);
            p.chunk_packets = uint64_t((*t)["chunk_packets"].value<int64_t>().value_or(int64_t(p.chunk_packets)));
            p.train_steps = int((*t)["steps"].value<int64_t>().value_or(p.train_steps));
            // Budgets were seconds before they became steps: an old policy still loads.
            if ((*t)["budget_seconds"])
                logger("policy")->warn("{}: [training] budget_seconds is no longer used: budgets are optimizer "
                                       "steps (steps = N), so the same traffic trains the same model",
                                       source_name);
            p.quiet_ms = (*t)["quiet_ms"].value<int64_t>().value_or(p.quiet_ms);
            if (auto k = (*t)["bytes_per_packet"])
                if (auto st = knob_node(*k.node(), source_name + ": training.bytes_per_packet", p.bytes_per_packet); !st)
                    return st;
            if (auto r = (*t)["reuse"]) {
                if (!r.is_boolean()) return Status::invalid(source_name + ": training.reuse must be true or false");
                p.reuse = r.value<bool>().value_or(true);
            }
            if (p.chunk_seconds <= 0 || p.chunk_packets == 0 || p.train_steps < 0 || p.quiet_ms < 0)
                return Status::invalid(source_name + ": [training] values must be positive");
        } else if (key == "rule") {
            const auto* arr = v.as_array();
            if (!arr) return Status::invalid(source_name + ": rules are written [[rule]]");
            for (size_t i = 0; i < arr->size(); ++i) {
                const auto* t = arr->get(i)->as_table();
                const std::string where = source_name + ": rule " + std::to_string(i + 1);
                if (!t) return Status::invalid(where + ": must be a table");
                auto glob = (*t)["path"].value<std::string>();
                if (!glob) return Status::invalid(where + ": needs path = \"glob\"");
                PolicyRule r{*glob, {}};
                if (auto st = read_settings(*t, where, r.settings); !st) return st;
                p.rules.push_back(std::move(r));
            }
        } else {
            return Status::invalid(source_name + ": unknown section [" + key + "]");
        }
    }
    return p;
}

Result<Policy> load_policy(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Status::io(path + ": cannot open policy file");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_policy(ss.str(), path);
}

std::optional<int64_t> raw_expiry_ns(const Policy& p, const TraceFacts& t) {
    auto s = p.effective(t.path);
    if (!s.raw_ttl_s) return std::nullopt;
    return t.accepted_ns + *s.raw_ttl_s * kNsPerS;
}

std::string raw_expiry_blocker(const PolicySettings& s, const TraceFacts& t) {
    if (!t.unmodelable.empty()) return "unmodelable (" + t.unmodelable + "): raw is kept forever";
    if (t.xattr_hold) return "legal hold (user.dgcfs.hold)";
    if (s.hold.value_or(false)) return "legal hold (policy)";
    if (!t.modelled)
        return "not fully modelled (" + std::to_string(t.chunks_done) + "/" + std::to_string(t.chunks) + " chunks)";
    if (s.max_jsd && t.worst_fidelity > *s.max_jsd)
        return "fidelity gate: worst chunk mean JSD " + fmt_double(t.worst_fidelity) + " > " + fmt_double(*s.max_jsd);
    return {};
}

std::vector<Decision> decide(const Policy& p, std::span<const TraceFacts> traces, int64_t now_ns) {
    std::vector<const TraceFacts*> order;
    for (const auto& t : traces) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(),
                     [](const TraceFacts* a, const TraceFacts* b) { return a->accepted_ns < b->accepted_ns; });

    std::vector<Decision> out;
    uint64_t raw_total = 0;
    std::vector<const TraceFacts*> quota_candidates;
    for (const TraceFacts* t : order) {
        const PolicySettings s = p.effective(t->path);
        if (!t->raw_present) {
            if (s.model_ttl_s && !s.hold.value_or(false) && !t->xattr_hold &&
                now_ns >= t->accepted_ns + *s.model_ttl_s * kNsPerS)
                out.push_back({t->id, t->path, Action::kDropTrace,
                               "model TTL " + std::to_string(*s.model_ttl_s) + " s elapsed and raw already expired"});
            continue;
        }
        const std::string blocker = raw_expiry_blocker(s, *t);
        if (s.raw_ttl_s && now_ns >= t->accepted_ns + *s.raw_ttl_s * kNsPerS) {
            if (blocker.empty()) {
                out.push_back({t->id, t->path, Action::kExpireRaw,
                               "raw TTL " + std::to_string(*s.raw_ttl_s) + " s elapsed"});
                continue;
            }
            out.push_back({t->id, t->path, Action::kBlocked, "raw TTL elapsed but kept: " + blocker});
        }
        raw_total += t->raw_stored;
        if (blocker.empty()) quota_candidates.push_back(t);
    }
    if (p.raw_quota && raw_total > *p.raw_quota) {
        for (const TraceFacts* t : quota_candidates) {  // oldest first
            if (raw_total <= *p.raw_quota) break;
            raw_total -= t->raw_stored;
            out.push_back({t->id, t->path, Action::kExpireRaw,
                           "raw quota " + std::to_string(*p.raw_quota) + " bytes exceeded (oldest first)"});
        }
        if (raw_total > *p.raw_quota)
            out.push_back({0, "", Action::kBlocked,
                           "raw quota still exceeded by " + std::to_string(raw_total - *p.raw_quota) +
                               " bytes: the remaining raw data may not expire yet"});
    }
    return out;
}

const char* action_name(Action a) {
    switch (a) {
        case Action::kBlocked: return "keep";
        case Action::kExpireRaw: return "expire-raw";
        case Action::kDropTrace: return "drop-trace";
    }
    return "?";
}

}  // namespace dgc::fs
