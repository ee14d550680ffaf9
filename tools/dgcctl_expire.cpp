// dgcctl expire MOUNTPOINT|STORE --dry-run [--policy FILE]: what the policy would expire
// now and why, and what it keeps although a rule asks (invariant 2). Without --dry-run it
// refers to the running daemon, which owns expiry: send it SIGHUP after editing the policy.
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command_registry.h"
#include "fs/catalog.h"
#include "fs/policy.h"
#include "fs/store_layout.h"
#include "fs/store_report.h"
#include "fs/sweeper.h"

namespace dgc::tools {
namespace {

const RegisterCommand kExpire{{31, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("expire", "Show what the retention policy would expire now, and why");
    auto target = std::make_shared<std::string>();
    auto policy_file = std::make_shared<std::string>();
    auto dry_run = std::make_shared<bool>(false);
    cmd->add_option("TARGET", *target, "Mount point or store directory")->required();
    cmd->add_option("--policy", *policy_file, "Policy file (TOML) to evaluate; default: the running daemon's --policy, else built-in");
    cmd->add_flag("--dry-run", *dry_run, "Decide and report only (required: the daemon performs expiry)");
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
        for (const auto& d : *decisions) {
            if (d.action == fs::Action::kExpireRaw) freed += raw_bytes[d.id];
            std::cout << fs::action_name(d.action) << "\t" << (d.path.empty() ? "(volume)" : d.path) << "\t"
                      << d.reason << "\n";
        }
        std::cout << "would free " << fs::human_bytes(freed) << " of raw data (" << decisions->size()
                  << " decisions)\n";
    });
}}};

}  // namespace
}  // namespace dgc::tools
