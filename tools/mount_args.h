// The mount(8) form of dgcfs: `mount -t fuse.dgcfs STORE MOUNTPOINT -o opts` and fstab lines
// run `dgcfs STORE MOUNTPOINT -o opts` (through mount.fuse3), with dgcfs's own settings
// (store=, policy=, workers=...) mixed into the same -o list as the kernel's (rw, allow_other...).
#pragma once

#include <set>
#include <string>
#include <vector>

namespace dgc::tools {

// Rewrites every `-o a,b=c` (and `-oa,b`) in args: an item naming one of `own_options`
// (long option names without "--"; '_' may stand for '-') becomes `--name=value` or
// `--name`; mount(8)'s userspace-only items (defaults, auto, noauto, user, users, nouser,
// nofail, _netdev, x-*) are dropped; the rest stays together in one `-o` for libfuse.
// Everything else passes through unchanged. Pure.
std::vector<std::string> translate_mount_args(const std::vector<std::string>& args,
                                              const std::set<std::string>& own_options);

}  // namespace dgc::tools
