// A path as one word of the shell command lines the integration tests run: in single
// quotes, an embedded single quote closed, escaped and reopened.
#pragma once

#include <filesystem>
#include <string>

namespace dgc::testing {

inline std::string shell_quote(const std::filesystem::path& p) {
    std::string out = "'";
    for (char c : p.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace dgc::testing
