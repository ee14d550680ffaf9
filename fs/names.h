// What a name in retention/ may be, decided before anything is written for it, and how a
// name is shown in a log line. Pure functions (unit-tested in tests/fs/names_test.cpp).
#pragma once

#include <string>
#include <string_view>

namespace dgc::fs {

// POSIX NAME_MAX, what every local filesystem enforces per path component.
inline constexpr size_t kMaxNameBytes = 255;
// A relative path is an LMDB key (`paths`, `dirs`): LMDB's default build refuses longer keys.
inline constexpr size_t kMaxPathBytes = 511;

// 0 when `rel` (a path below retention/, "" for the root) may name a file or directory,
// else -ENAMETOOLONG (a component over NAME_MAX, or the whole path over what the catalog
// can key) or -EILSEQ (not UTF-8: catalog rows are JSON strings).
int name_error(std::string_view rel);

bool valid_utf8(std::string_view s);

// `s` with control characters, backslashes and bytes that are not UTF-8 written as \n, \t,
// \\ or \xNN, so a name cannot forge or tear a log line.
std::string printable(std::string_view s);

}  // namespace dgc::fs
