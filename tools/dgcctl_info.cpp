// dgcctl info FILE...: what the codec makes of each capture: container, link types,
// timestamp resolution, packet counts by kind, time span, whether it can be modelled.
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "codec/capture_reader.h"
#include "codec/linktype.h"
#include "command_registry.h"

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

const RegisterCommand kInfo{{20, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("info", "Describe capture files: format, link types, packet counts, modelability");
    auto files = std::make_shared<std::vector<std::string>>();
    cmd->add_option("FILE", *files, "pcap or pcapng files")->required();
    cmd->callback([files, &exit_code] {
        for (const auto& f : *files) {
            auto cap = read_capture(f);
            if (!cap.ok()) {
                std::cerr << "dgcctl info: " << cap.status().message() << "\n";
                exit_code = 1;
                continue;
            }
            print_info(std::cout, cap->info);
        }
    });
}}};

}  // namespace
}  // namespace dgc::tools
