// One spdlog logger per subsystem ("codec", "trainer", "fs", "policy", ...),
// all sharing the sinks and the level chosen by the --log-level flag.
#pragma once

#include <string>

namespace dgc::tools {
// to_stderr: log to the terminal; log_file (optional): rotating file sink as well.
void setup_logging(const std::string& level, bool to_stderr, const std::string& log_file = "");
}  // namespace dgc::tools
