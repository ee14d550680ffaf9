// dgcctl expire MOUNTPOINT|STORE --dry-run [--policy FILE] [--json]: what the policy would expire
// now and why, and what it keeps although a rule asks (invariant 2). Without --dry-run it
// refers to the running daemon, which owns expiry: send it SIGHUP after editing the policy.
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "command_registry.h"
#include "fs/catalog.h"
#include "fs/policy.h"
#include "fs/store_layout.h"
#include "fs/store_report.h"
#include "fs/sweeper.h"

namespace dgc::tools {
namespace {

// Schema 1 of `expire --json` (dgcctl(1)). A decision about the whole volume (the raw
// quota) has a null id and path.
nlohmann::json expire_json(const std::string& store, const std::string& policy_file, int64_t now_ns,
                           const std::vector<fs::Decision>& decisions, const std::map<uint64_t, uint64_t>& raw_bytes,
                           uint64_t freed) {
    nlohmann::json j = {{"schema", 1},
                        {"store", store},
                        {"policy_file", policy_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(policy_file)},
                        {"now_ns", now_ns},
                        {"decisions", nlohmann::json::array()},
                        {"would_free_bytes", freed}};
    for (const auto& d : decisions) {
        const bool volume = d.path.empty();
        const auto raw = raw_bytes.find(d.id);
        j["decisions"].push_back({{"id", volume ? nlohmann::json(nullptr) : nlohmann::json(d.id)},
                                  {"path", volume ? nlohmann::json(nullptr) : nlohmann::json(d.path)},
                                  {"action", fs::action_name(d.action)},
                                  {"reason", d.reason},
                                  {"raw_bytes", raw == raw_bytes.end() ? nlohmann::json(nullptr) : nlohmann::json(raw->second)}});
    }
    return j;
}

const RegisterCommand kExpire{{31, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("expire", "Show what the retention policy would expire now, and why");
    auto target = std::make_shared<std::string>();
    auto policy_file = std::make_shared<std::string>();
    auto dry_run = std::make_shared<bool>(false);
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("TARGET", *target, "Mount point or store directory")->required();
    cmd->add_option("--policy", *policy_file, "Policy file (TOML) to evaluate; default: the running daemon's --policy, else built-in");
    cmd->add_flag("--dry-run", *dry_run, "Decide and report only (required: the daemon performs expiry)");
    cmd->add_flag("--json", *as_json, "One JSON object (schema in dgcctl(1))");
    cmd->callback([=, &exit_code] {
        if (!*dry_run) {
            std::cerr << "dgcctl expire: only --dry-run is supported; the mounted daemon expires raw data on its "
                         "policy sweep (edit the policy, then send it SIGHUP)\n";
            exit_code = 2;
            return;
        }
        auto store = fs::resolve_store(*target);
        if (!store) {
            std::cerr << "dgcctl expire: " << store.status().message() << "\n";
            exit_code = 1;
            return;
        }
        fs::StoreLayout layout{*store};
        // Default: the policy file the running daemon was started with, as its status file says.
        if (policy_file->empty()) {
            std::ifstream in(layout.status_path());
            auto live = nlohmann::json::parse(in, nullptr, false);
            if (live.is_object()) *policy_file = live.value("policy_file", "");
        }
        fs::Policy policy;
        if (!policy_file->empty()) {
            auto p = fs::load_policy(*policy_file);
            if (!p) {
                std::cerr << "dgcctl expire: " << p.status().message() << "\n";
                exit_code = 1;
                return;
            }
            policy = *p;
        }
        auto cat = fs::Catalog::open(layout.catalog_dir(), true);
        if (!cat) {
            std::cerr << "dgcctl expire: " << cat.status().message() << "\n";
            exit_code = 1;
            return;
        }
        fs::Sweeper sweeper(**cat, layout, nullptr);
        const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        auto decisions = sweeper.sweep(policy, now, /*dry_run=*/true);
        if (!decisions) {
            std::cerr << "dgcctl expire: " << decisions.status().message() << "\n";
            exit_code = 1;
            return;
        }
        auto traces = (*cat)->traces();
        std::map<uint64_t, uint64_t> raw_bytes;
        if (traces)
            for (const auto& t : *traces) raw_bytes[t.id] = t.raw_stored;
        uint64_t freed = 0;
        for (const auto& d : *decisions)
            if (d.action == fs::Action::kExpireRaw) freed += raw_bytes[d.id];
        if (*as_json) {
            std::cout << expire_json(*store, *policy_file, now, *decisions, raw_bytes, freed).dump(2) << "\n";
            return;
        }
        for (const auto& d : *decisions)
            std::cout << fs::action_name(d.action) << "\t" << (d.path.empty() ? "(volume)" : d.path) << "\t"
                      << d.reason << "\n";
        std::cout << "would free " << fs::human_bytes(freed) << " of raw data (" << decisions->size()
                  << " decisions)\n";
    });
}}};

}  // namespace
}  // namespace dgc::tools
