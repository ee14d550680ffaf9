// `dgcctl backup STORE DIR`: a consistent copy of a store, live or not, that mounts with
// `dgcfs --store DIR` (fs/store_backup.h says how races with the daemon are handled).
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "command_registry.h"
#include "progress.h"
#include "fs/store_backup.h"
#include "fs/store_report.h"

namespace dgc::tools {
namespace {

int run_backup(const std::string& target, const std::string& dir) {
    auto store = fs::resolve_store(target);
    if (!store) {
        std::cerr << "dgcctl backup: " << store.status().message() << "\n";
        return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Progress shown("backup");
    auto rep = fs::backup_store(*store, dir, [&](uint64_t done, uint64_t files) {
        shown.update(files ? double(done) / files : 0, "file " + std::to_string(done + 1) + "/" + std::to_string(files));
    });
    shown.finish();
    if (!rep) {
        std::cerr << "dgcctl backup: " << rep.status().message() << "\n";
        return 1;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << dir << ": " << rep->traces << " traces, catalog " << fs::human_bytes(rep->catalog_bytes) << ", "
              << rep->raw_files << " raw segments and " << rep->staging_files << " staging files ("
              << fs::human_bytes(rep->file_bytes) << ") in " << s << " s" << (rep->attempts > 1 ? ", after a retry" : "")
              << "\n";
    return 0;
}

const RegisterCommand kBackup{{32, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("backup", "Copy a store, live or not, consistently into a new directory");
    auto target = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    cmd->add_option("STORE", *target, "Store directory or mount point")->required();
    cmd->add_option("DIR", *dir, "Directory for the copy (new or empty)")->required();
    cmd->callback([=, &exit_code] { exit_code = run_backup(*target, *dir); });
}}};

}  // namespace
}  // namespace dgc::tools
