// One spdlog logger per subsystem ("codec", "trainer", "fs", "policy", ...),
// all sharing the sinks and the level chosen by the --log-level flag.
#pragma once

#include <string>

#include "codec/status.h"

namespace dgc::tools {
// to_stderr: log to the terminal; log_file (optional): rotating file sink as well, created
// mode 0640 (it names the captures an operator keeps). Every line is flushed as it is
// written, so a kill -9 loses none. Fails when the log file cannot be opened.
Status setup_logging(const std::string& level, bool to_stderr, const std::string& log_file = "");
}  // namespace dgc::tools
