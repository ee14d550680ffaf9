#include "mount_args.h"

#include <algorithm>
#include <sstream>

namespace dgc::tools {
namespace {

bool userspace_only(const std::string& item) {
    static const std::set<std::string> kDropped = {"defaults", "auto",   "noauto", "user",
                                                   "users",    "nouser", "nofail", "_netdev"};
    return item.empty() || kDropped.count(item) || item.rfind("x-", 0) == 0 || item.rfind("X-", 0) == 0;
}

// Sorts one -o list into dgcfs options (appended to `out`) and the rest (returned).
std::vector<std::string> split_option_list(const std::string& list, const std::set<std::string>& own,
                                           std::vector<std::string>& out) {
    std::vector<std::string> fuse;
    std::stringstream ss(list);
    for (std::string item; std::getline(ss, item, ',');) {
        if (userspace_only(item)) continue;
        const auto eq = item.find('=');
        std::string key = item.substr(0, eq);
        std::replace(key.begin(), key.end(), '_', '-');
        if (own.count(key))
            out.push_back("--" + key + (eq == std::string::npos ? "" : item.substr(eq)));
        else
            fuse.push_back(item);
    }
    return fuse;
}

}  // namespace

std::vector<std::string> translate_mount_args(const std::vector<std::string>& args,
                                              const std::set<std::string>& own_options) {
    std::vector<std::string> out, fuse;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string list;
        if (args[i] == "-o" && i + 1 < args.size())
            list = args[++i];
        else if (args[i].size() > 2 && args[i].rfind("-o", 0) == 0)
            list = args[i].substr(2);
        else {
            out.push_back(args[i]);
            continue;
        }
        auto rest = split_option_list(list, own_options, out);
        fuse.insert(fuse.end(), rest.begin(), rest.end());
    }
    if (!fuse.empty()) {
        std::string joined;
        for (const auto& f : fuse) joined += (joined.empty() ? "" : ",") + f;
        out.push_back("-o");
        out.push_back(joined);
    }
    return out;
}

}  // namespace dgc::tools
