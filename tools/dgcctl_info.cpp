// dgcctl info FILE... [--json]: what the codec makes of each capture: container, link types,
// timestamp resolution, packet counts by kind, time span, whether it can be modelled.
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "codec/capture_reader.h"
#include "codec/linktype.h"
#include "command_registry.h"
#include "output_file.h"

namespace dgc::tools {
namespace {

std::string resolution_name(uint64_t ticks_per_sec) {
    switch (ticks_per_sec) {
        case 1: return "s";
        case 1000: return "ms";
        case 1'000'000: return "us";
        case 1'000'000'000: return "ns";
        default: return "1/" + std::to_string(ticks_per_sec) + " s";
    }
}

std::string format_ns(int64_t ns) {
    const int64_t sec = ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000);
    const int64_t frac = ns - sec * 1'000'000'000;
    char b[64];
    std::snprintf(b, sizeof b, "%lld.%09lld", static_cast<long long>(sec), static_cast<long long>(frac));
    return b;
}

// Why a capture cannot be modelled: the link types of its interfaces the codec does not parse.
std::string not_modelable_reason(const CaptureInfo& info) {
    if (info.interfaces.empty()) return "no interfaces";
    std::set<std::string> bad;
    for (const auto& i : info.interfaces) {
        if (!linktype_modelable(i.linktype)) bad.insert(linktype_name(i.linktype));
    }
    std::string s = "link type not parsed down to IP:";
    for (const auto& b : bad) s += " " + b;
    return s;
}

void print_info(std::ostream& os, const CaptureInfo& info) {
    os << info.path << "\n";
    os << "  format:      " << info.format;
    if (info.format == "pcap") os << (info.big_endian ? " (big endian)" : " (little endian)");
    os << "\n";
    std::set<std::pair<uint32_t, uint64_t>> kinds;
    for (const auto& i : info.interfaces) kinds.insert({i.linktype, i.ticks_per_sec});
    os << "  interfaces:  " << info.interfaces.size() << "\n";
    for (const auto& [lt, tps] : kinds) {
        os << "  link type:   " << linktype_name(lt) << " (" << lt << "), resolution " << resolution_name(tps)
           << "\n";
    }
    os << "  packets:     " << info.packets << " (IP " << info.ip_packets << ", non-IP " << info.nonip_packets
       << ", truncated headers " << info.truncated_packets << ")\n";
    if (info.packets > 0) {
        os << "  time span:   " << format_ns(info.first_ns) << " .. " << format_ns(info.last_ns) << " ("
           << format_ns(info.last_ns - info.first_ns) << " s)\n";
    }
    os << "  modelable:   " << (info.modelable ? "yes" : "no (" + not_modelable_reason(info) + ")") << "\n";
    if (!info.warning.empty()) os << "  warning:     " << info.warning << "\n";
    if (!info.skipped.empty()) os << "  skipped:     " << describe_skipped(info.skipped) << "\n";
}

// Schema 1 of `info --json` (dgcctl(1)): one object per file; a file that could not be
// read has only "path" and "error", so one bad file never hides the others.
nlohmann::json info_json(const CaptureInfo& info) {
    nlohmann::json j;
    j["path"] = info.path;
    j["format"] = info.format;
    j["big_endian"] = info.format == "pcap" ? nlohmann::json(info.big_endian) : nlohmann::json(nullptr);
    j["interfaces"] = nlohmann::json::array();
    for (const auto& i : info.interfaces)
        j["interfaces"].push_back({{"linktype", i.linktype},
                                   {"linktype_name", linktype_name(i.linktype)},
                                   {"snaplen", i.snaplen},
                                   {"ticks_per_sec", i.ticks_per_sec}});
    j["packets"] = {{"total", info.packets},
                    {"ip", info.ip_packets},
                    {"nonip", info.nonip_packets},
                    {"truncated", info.truncated_packets}};
    j["first_ns"] = info.packets > 0 ? nlohmann::json(info.first_ns) : nlohmann::json(nullptr);
    j["last_ns"] = info.packets > 0 ? nlohmann::json(info.last_ns) : nlohmann::json(nullptr);
    j["modelable"] = info.modelable;
    j["not_modelable_reason"] = info.modelable ? nlohmann::json(nullptr) : nlohmann::json(not_modelable_reason(info));
    j["warning"] = info.warning.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.warning);
    j["skipped"] = nlohmann::json::array();
    for (const auto& r : info.skipped) j["skipped"].push_back({{"begin", r.begin}, {"end", r.end}});
    return j;
}

const RegisterCommand kInfo{{20, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("info", "Describe capture files: format, link types, packet counts, modelability");
    auto files = std::make_shared<std::vector<std::string>>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("FILE", *files, "pcap or pcapng files ('-': standard input)")->required();
    cmd->add_flag("--json", *as_json, "One JSON object (schema in dgcctl(1))");
    cmd->callback([files, as_json, &exit_code] {
        nlohmann::json all = {{"schema", 1}, {"files", nlohmann::json::array()}};
        for (const auto& f : *files) {
            auto cap = read_capture(input_path(f));
            if (!cap.ok()) {
                std::cerr << "dgcctl info: " << cap.status().message() << "\n";
                all["files"].push_back({{"path", f}, {"error", cap.status().message()}});
                exit_code = 1;
                continue;
            }
            if (*as_json) all["files"].push_back(info_json(cap->info));
            else print_info(std::cout, cap->info);
        }
        if (*as_json) std::cout << all.dump(2) << "\n";
    });
}}};

}  // namespace
}  // namespace dgc::tools
