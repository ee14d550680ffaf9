#include "log_setup.h"

#include <sys/stat.h>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <vector>

namespace dgc::tools {

Status setup_logging(const std::string& level, bool to_stderr, const std::string& log_file) {
    std::vector<spdlog::sink_ptr> sinks;
    if (to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    if (!log_file.empty()) {
        spdlog::file_event_handlers restrict_mode;
        // Also after each rotation, which opens a fresh file.
        restrict_mode.after_open = [](const spdlog::filename_t&, std::FILE* f) { ::fchmod(::fileno(f), 0640); };
        try {
            sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(log_file, 8u << 20, 4, false,
                                                                                   restrict_mode));
        } catch (const spdlog::spdlog_ex& e) {
            return Status::io(log_file + ": cannot open the log: " + e.what());
        }
    }
    auto lvl = spdlog::level::from_str(level);
    // One sink object per destination, shared by every logger: its mutex keeps lines whole.
    auto make = [&](const std::string& name) {
        auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
        logger->set_level(lvl);
        logger->flush_on(lvl);
        return logger;
    };
    for (const char* name : {"codec", "fidelity", "trainer", "fs", "catalog", "policy", "ingest", "tools"}) {
        spdlog::drop(name);
        spdlog::register_logger(make(name));
    }
    spdlog::set_default_logger(make("dgc"));
    return Status::ok();
}

}  // namespace dgc::tools
