// `dgcctl import STORE FILE.dgc [--as PATH]`: a .dgc becomes a trace of the store, with
// models and no raw data (state raw-expired), readable in archive/ at the next mount.
// Only into a store no daemon serves: the daemon keeps the keyframe library in memory and
// would not find the imported models until it remounts, and a second LMDB writer growing
// the map under it fails its next write. So import takes the store lock a daemon holds
// (STORE/dgcfs.lock) and also refuses while the status file says a daemon is running.
#include <sys/xattr.h>

#include <chrono>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "command_registry.h"
#include "progress.h"
#include "fs/store_export.h"
#include "fs/store_layout.h"
#include "fs/store_report.h"
#include "store_lock.h"

namespace dgc::tools {
namespace {

int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "" when no daemon serves the store as far as files tell, else why the import is refused.
std::string daemon_in_the_way(const std::string& target, const fs::StoreLayout& layout) {
    char buf[16];
    if (::getxattr(target.c_str(), "user.dgcfs.store", buf, sizeof buf) >= 0 || errno == ERANGE)
        return target + " is a mounted dgcfs volume: unmount it (fusermount3 -u " + target + "), then import into its store " +
               layout.root;
    // Daemons older than the store lock only rewrite status.json every second.
    std::ifstream in(layout.status_path());
    auto live = nlohmann::json::parse(in, nullptr, false);
    if (live.is_object() && live.value("running", false) && now_s() - live.value("updated_s", int64_t(0)) <= 5)
        return layout.status_path() + " says dgcfs (pid " + std::to_string(live.value("pid", 0)) + ") is running on " +
               layout.root + "; stop it first";
    return {};
}

int run_import(const std::string& target, const std::string& file, const std::string& as) {
    auto fail = [](const std::string& m) {
        std::cerr << "dgcctl import: " << m << "\n";
        return 1;
    };
    auto store = fs::resolve_store(target);
    if (!store) return fail(store.status().message());
    const fs::StoreLayout layout{*store};
    if (auto why = daemon_in_the_way(target, layout); !why.empty()) return fail(why);
    // The lock a daemon holds for its life; held here until exit, so none mounts the store meanwhile.
    auto lock = StoreLock::acquire(layout.root);
    if (!lock) return fail(lock.status().message() + "; stop it first");
    auto dgc = trainer::read_dgc(file);
    if (!dgc) return fail(dgc.status().message());
    const std::string path = as.empty() ? dgc->source : as;
    if (path.empty()) return fail(file + ": names no source file; give the path with --as");
    auto cat = fs::Catalog::open(layout.catalog_dir(), false);
    if (!cat) return fail(cat.status().message());
    Progress shown("import");
    auto done = fs::import_dgc(**cat, *dgc, path, now_s() * 1'000'000'000, [&](size_t n, size_t of) {
        shown.update(double(n) / of, "chunk " + std::to_string(n) + "/" + std::to_string(of) + " regenerated");
    });
    shown.finish();
    if (!done) return fail(file + ": " + done.status().message());
    std::cout << file << ": imported as archive/" << done->path << " (trace " << done->trace << ", " << dgc->chunks.size()
              << " chunks, " << done->library_ids.size() << " library models added)\n";
    return 0;
}

const RegisterCommand kImport{{64, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("import", "Put a .dgc into a store (stopped) as a modelled trace of archive/");
    auto target = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    auto as = std::make_shared<std::string>();
    cmd->add_option("STORE", *target, "Store directory (its daemon stopped)")->required();
    cmd->add_option("FILE", *file, "The .dgc file")->required()->check(CLI::ExistingFile);
    cmd->add_option("--as", *as, "Path of the trace in archive/ (default: the .dgc's source name)");
    cmd->callback([=, &exit_code] { exit_code = run_import(*target, *file, *as); });
}}};

}  // namespace
}  // namespace dgc::tools
