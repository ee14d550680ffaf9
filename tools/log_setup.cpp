#include "log_setup.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace dgc::tools {

void setup_logging(const std::string& level, bool to_stderr, const std::string& log_file) {
    std::vector<spdlog::sink_ptr> sinks;
    if (to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    if (!log_file.empty())
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(log_file, 8u << 20, 4));
    auto lvl = spdlog::level::from_str(level);
    for (const char* name : {"codec", "fidelity", "trainer", "fs", "catalog", "policy", "ingest", "tools"}) {
        spdlog::drop(name);
        auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
        logger->set_level(lvl);
        spdlog::register_logger(logger);
    }
    auto def = std::make_shared<spdlog::logger>("dgc", sinks.begin(), sinks.end());
    def->set_level(lvl);
    spdlog::set_default_logger(def);
}

}  // namespace dgc::tools
