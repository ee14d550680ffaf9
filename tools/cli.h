// The command-line conventions both binaries share (like tcpdump's): exit 0 on success,
// 1 on failure, 2 on usage errors; --version prints the CMake project version.
#pragma once

#include <CLI/CLI.hpp>

namespace dgc::tools {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The CMake project version of this build ("0.1.0").
const char* version();

// Adds --version ("PROGRAM VERSION" on stdout, exit 0).
void add_version_flag(CLI::App& app, const std::string& program);

// What main() returns for a CLI11 parse error: help and --version print to stdout and
// give 0; every other parse error prints its message to stderr and gives kExitUsage.
int exit_for_parse_error(CLI::App& app, const CLI::ParseError& e);

}  // namespace dgc::tools
