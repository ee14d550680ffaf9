// Per-subsystem loggers. Until tools/log_setup runs, a logger that is not
// registered yet falls back to the default logger, so library code never crashes on logging.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace dgc {
inline std::shared_ptr<spdlog::logger> logger(const char* name) {
    auto l = spdlog::get(name);
    return l ? l : spdlog::default_logger();
}
}  // namespace dgc
