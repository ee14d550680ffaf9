// Where a dgcctl command writes its result: a file, or standard output for "-" (as
// tcpdump -w - does). Outputs are checked before the work starts, so a missing directory
// fails at once instead of after minutes of training.
#pragma once

#include <string>
#include <string_view>

#include "codec/status.h"

namespace dgc::tools {

inline bool is_stdio(const std::string& path) { return path == "-"; }

// The path a capture reader opens for an input named `path` ("-": standard input).
inline std::string input_path(const std::string& path) { return is_stdio(path) ? "/dev/stdin" : path; }

// Fails, naming the path and the reason, when `path` could not be created or replaced:
// its directory is missing or not writable, or it is a directory or a read-only file.
Status check_writable(const std::string& path);

// Writes all of `bytes`. A regular file is written beside itself, synced, then renamed
// over the name asked for, so a full disk or a crash never leaves a truncated output;
// a device or pipe is written in place; "-" is standard output.
Status write_output(const std::string& path, std::string_view bytes);

}  // namespace dgc::tools
