// Shared between fs/fuse_ops.cpp and fs/fuse_mount.cpp only; holds no FUSE types itself
// beyond a forward declaration.
#pragma once

struct fuse_operations;

namespace dgc::fs {

class Volume;
class KernelPassthrough;

// What libfuse hands back to each operation as private_data.
struct FuseContext {
    Volume* volume = nullptr;
    KernelPassthrough* passthrough = nullptr;  // null: libfuse's own /dev/fuse I/O
};

const struct fuse_operations* fuse_operations_table();

}  // namespace dgc::fs
