#include "fs/fuse_passthrough_wire.h"

#include <cstring>

namespace dgc::fs::wire {
namespace {

template <typename T>
T get(std::span<const char> b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}

template <typename T>
void put(std::span<char> b, size_t off, T v) {
    std::memcpy(b.data() + off, &v, sizeof v);
}

// fuse_init_in: major, minor, max_readahead, flags, flags2 (all u32).
constexpr size_t kInitInFlags = 12, kInitInFlags2 = 16, kInitInMin = 20;
// fuse_init_out: ... flags @12 ... flags2 @32, max_stack_depth @36.
constexpr size_t kInitOutFlags = 12, kInitOutFlags2 = 32, kInitOutStackDepth = 36, kInitOutMin = 40;
// fuse_open_out: fh @0, open_flags @8, backing_id @12.
constexpr size_t kOpenFlags = 8, kOpenBackingId = 12;

// Where fuse_open_out starts: alone in an OPEN reply, after fuse_entry_out in a CREATE reply.
std::optional<size_t> open_out_offset(std::span<const char> body, uint32_t opcode) {
    if (opcode != kOpOpen && opcode != kOpCreate) return std::nullopt;
    const size_t off = opcode == kOpCreate ? kEntryOutSize : 0;
    if (body.size() < off + kOpenOutSize) return std::nullopt;
    return off;
}

}  // namespace

std::optional<RequestHeader> parse_request(std::span<const char> msg) {
    if (msg.size() < kInHeaderSize) return std::nullopt;
    return RequestHeader{get<uint32_t>(msg, 0), get<uint32_t>(msg, 4), get<uint64_t>(msg, 8)};
}

std::optional<ReplyHeader> parse_reply(std::span<const char> header) {
    if (header.size() < kOutHeaderSize) return std::nullopt;
    return ReplyHeader{get<uint32_t>(header, 0), get<int32_t>(header, 4), get<uint64_t>(header, 8)};
}

bool init_offers_passthrough(std::span<const char> msg) {
    auto h = parse_request(msg);
    if (!h || h->opcode != kOpInit || msg.size() < kInHeaderSize + kInitInMin) return false;
    auto in = msg.subspan(kInHeaderSize);
    return (get<uint32_t>(in, kInitInFlags) & kInitExt) && (get<uint32_t>(in, kInitInFlags2) & kPassthroughFlags2);
}

bool ask_passthrough(std::span<char> out) {
    if (out.size() < kInitOutMin) return false;
    const uint32_t flags = get<uint32_t>(out, kInitOutFlags);
    if (flags & kWritebackCache) return false;
    put<uint32_t>(out, kInitOutFlags, flags | kInitExt);
    put<uint32_t>(out, kInitOutFlags2, get<uint32_t>(out, kInitOutFlags2) | kPassthroughFlags2);
    put<uint32_t>(out, kInitOutStackDepth, 1);
    return true;
}

std::optional<uint64_t> open_reply_fh(std::span<const char> body, uint32_t opcode) {
    auto off = open_out_offset(body, opcode);
    if (!off) return std::nullopt;
    return get<uint64_t>(body, *off);
}

bool set_passthrough(std::span<char> body, uint32_t opcode, int32_t backing_id) {
    auto off = open_out_offset(body, opcode);
    if (!off) return false;
    put<uint32_t>(body, *off + kOpenFlags, get<uint32_t>(body, *off + kOpenFlags) | kOpenPassthrough);
    put<int32_t>(body, *off + kOpenBackingId, backing_id);
    return true;
}

}  // namespace dgc::fs::wire
