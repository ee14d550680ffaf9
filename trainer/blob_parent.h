// A chunk delta names its parent keyframe by library id, and ids are local to their
// container: `t<trace>c<chunk>` in a store, `chunk-<i>` in a .dgc (docs/format.md, known
// gap 13). Moving a model between them renames the parent inside the blob. Only that one
// field changes: the version byte, kind, seed, side information and every tensor byte
// are kept, so the model regenerates exactly what it did under its old name.
#pragma once

#include <string>
#include <string_view>

#include "codec/status.h"

namespace dgc::trainer {

// The parent id a blob names ("" for a keyframe). `what` names the blob in errors.
Result<std::string> blob_parent(std::string_view blob, const std::string& what);

// The same delta with `parent` as its parent id: the body is decompressed, its parent
// field replaced, and recompressed as encode_blob does; the header keeps the blob's own
// version and gets a new CRC. Refuses keyframes (they name no parent) and corrupt blobs.
Result<std::string> with_parent(std::string_view blob, const std::string& parent, const std::string& what);

}  // namespace dgc::trainer
