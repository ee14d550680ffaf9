// `dgcctl export MOUNTPOINT|STORE TRACE -o OUT.dgc`: a trace's archive as one self-contained
// .dgc that `dgcctl expand` regenerates byte-identically without the store. Reads the
// catalog read-only, so a live volume keeps running.

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "command_registry.h"
#include "output_file.h"
#include "fs/store_export.h"
#include "fs/store_layout.h"
#include "fs/store_report.h"

namespace dgc::tools {
namespace {

int run_export(const std::string& target, const std::string& trace, const std::string& out) {
    auto fail = [](const std::string& m) {
        std::cerr << "dgcctl export: " << m << "\n";
        return 1;
    };
    auto store = fs::resolve_store(target);
    if (!store) return fail(store.status().message());
    auto cat = fs::Catalog::open(fs::StoreLayout{*store}.catalog_dir(), true);
    if (!cat) return fail(cat.status().message());
    // A path through the mount point (MOUNTPOINT/archive/x.pcap) names the trace too.
    std::string spec = trace;
    std::string mount = std::filesystem::path(target).lexically_normal().string();
    if (mount.empty() || mount.back() != '/') mount += '/';
    if (spec.rfind(mount, 0) == 0) spec = spec.substr(mount.size());
    auto f = fs::export_trace(**cat, spec);
    if (!f) return fail(f.status().message());
    uint64_t synth = 24;
    for (const auto& c : f->chunks) synth += c.model.synth_bytes;
    if (auto st = write_output(out, trainer::serialize_dgc(*f)); !st) return fail(st.message());
    if (is_stdio(out)) return 0;
    std::cout << out << ": " << f->source << ", " << f->chunks.size() << " chunks, " << f->keyframes.size()
              << " library models carried, expands to " << synth << " bytes\n";
    return 0;
}

const RegisterCommand kExport{{63, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("export", "Write a trace's archive as a self-contained .dgc (for dgcctl expand)");
    auto target = std::make_shared<std::string>();
    auto trace = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    cmd->add_option("TARGET", *target, "Mount point or store directory")->required();
    cmd->add_option("TRACE", *trace, "Path under retention/ (or archive/), or the trace id")->required();
    cmd->add_option("-o,--output", *out, ".dgc file to write ('-' for standard output)")->required();
    cmd->callback([=, &exit_code] { exit_code = run_export(*target, *trace, *out); });
}}};

}  // namespace
}  // namespace dgc::tools
