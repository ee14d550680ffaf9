#include "cli.h"

namespace dgc::tools {

const char* version() { return DGC_VERSION; }

void add_version_flag(CLI::App& app, const std::string& program) {
    app.set_version_flag("--version", program + " " + version(), "Print the version and exit");
}

int exit_for_parse_error(CLI::App& app, const CLI::ParseError& e) {
    // CLI11 gives help/version exit code 0 and every other parse error its own code (105, 106...).
    const int cli11_code = app.exit(e);
    return cli11_code == 0 ? kExitOk : kExitUsage;
}

}  // namespace dgc::tools
