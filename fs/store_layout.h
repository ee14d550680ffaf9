// Where things live inside a --store directory.
#pragma once

#include <cstdint>
#include <string>

namespace dgc::fs {

struct StoreLayout {
    std::string root;
    std::string catalog_dir() const { return root + "/catalog"; }
    std::string raw_dir() const { return root + "/raw"; }
    std::string staging_dir() const { return root + "/staging"; }
    std::string raw_path(uint64_t trace) const { return raw_dir() + "/" + std::to_string(trace) + ".zst"; }
    std::string staging_path(uint64_t id) const { return staging_dir() + "/" + std::to_string(id); }
    std::string log_path() const { return root + "/dgcfs.log"; }
    std::string status_path() const { return root + "/status.json"; }
};

}  // namespace dgc::fs
