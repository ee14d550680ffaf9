// dgcctl: the operator's command line. Each subcommand lives in its own
// dgcctl_<name>.cpp and registers itself (command_registry.h).
#include "cli.h"
#include "command_registry.h"
#include "log_setup.h"
#ifdef DGC_WITH_TRAINER
#include "trainer/model.h"
#endif

#include <algorithm>
#include <iostream>

namespace dgc::tools {
std::vector<CommandSpec>& command_registry() {
    static std::vector<CommandSpec> commands;
    return commands;
}
}  // namespace dgc::tools

int main(int argc, char** argv) {
#ifdef DGC_WITH_TRAINER
    dgc::trainer::pin_blas_kernels();  // before any thread starts: it sets OPENBLAS_CORETYPE
#endif
    CLI::App app{"dgcctl — inspect, evaluate and drive dgcfs retention volumes"};
    app.require_subcommand(1);
    dgc::tools::add_version_flag(app, "dgcctl");
    std::string log_level = "warn";
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
    // Global options are accepted after the subcommand too: subcommands inherit this.
    app.fallthrough();

    int exit_code = 0;
    auto& commands = dgc::tools::command_registry();
    std::sort(commands.begin(), commands.end(),
              [](const auto& a, const auto& b) { return a.order < b.order; });
    for (auto& c : commands) c.setup(app, exit_code);

    app.parse_complete_callback([&] { (void)dgc::tools::setup_logging(log_level, /*to_stderr=*/true); });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return dgc::tools::exit_for_parse_error(app, e);
    } catch (const std::exception& e) {
        std::cerr << "dgcctl: " << e.what() << "\n";
        return dgc::tools::kExitFailure;
    }
    return exit_code;
}
