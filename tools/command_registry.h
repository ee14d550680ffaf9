// dgcctl subcommands register themselves here, one file per subcommand
// (tools/dgcctl_<name>.cpp), so adding a command never touches the others.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace dgc::tools {

// setup() adds the subcommand to `app` and installs its callback; the callback
// stores the exit code it wants dgcctl to return in `exit_code`.
struct CommandSpec {
    int order;  // position in `dgcctl --help`
    std::function<void(CLI::App& app, int& exit_code)> setup;
};

std::vector<CommandSpec>& command_registry();

struct RegisterCommand {
    explicit RegisterCommand(CommandSpec spec) { command_registry().push_back(std::move(spec)); }
};

}  // namespace dgc::tools
