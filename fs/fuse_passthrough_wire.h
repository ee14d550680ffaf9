// The few bytes of the kernel FUSE protocol that kernel passthrough (Linux 6.9+) needs and
// libfuse 3.14 predates: spotting INIT/OPEN/CREATE requests, asking for passthrough in the
// INIT reply, and naming a backing file in an OPEN/CREATE reply. Pure functions on message
// bytes (layouts from <linux/fuse.h>, protocol 7.40), so a unit test can check every offset.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace dgc::fs::wire {

inline constexpr uint32_t kOpOpen = 14;
inline constexpr uint32_t kOpInit = 26;
inline constexpr uint32_t kOpCreate = 35;

inline constexpr uint32_t kInitExt = 1u << 30;          // FUSE_INIT_EXT: flags2 is valid
inline constexpr uint32_t kWritebackCache = 1u << 16;   // FUSE_WRITEBACK_CACHE
inline constexpr uint32_t kPassthroughFlags2 = 1u << 5; // FUSE_PASSTHROUGH (bit 37) in flags2
inline constexpr uint32_t kOpenPassthrough = 1u << 7;   // FOPEN_PASSTHROUGH

inline constexpr size_t kInHeaderSize = 40;   // struct fuse_in_header
inline constexpr size_t kOutHeaderSize = 16;  // struct fuse_out_header
inline constexpr size_t kEntryOutSize = 128;  // struct fuse_entry_out, before fuse_open_out in a CREATE reply
inline constexpr size_t kOpenOutSize = 16;    // struct fuse_open_out

struct RequestHeader {
    uint32_t len = 0;
    uint32_t opcode = 0;
    uint64_t unique = 0;
};
std::optional<RequestHeader> parse_request(std::span<const char> msg);

struct ReplyHeader {
    uint32_t len = 0;
    int32_t error = 0;
    uint64_t unique = 0;
};
std::optional<ReplyHeader> parse_reply(std::span<const char> header);

// An INIT request (header included): does the kernel offer passthrough?
bool init_offers_passthrough(std::span<const char> msg);
// An INIT reply body (struct fuse_init_out): ask for passthrough with a stack depth of 1
// (backing files live on an ordinary filesystem). False, untouched, if it cannot be asked
// for (short body, or writeback cache, which excludes it).
bool ask_passthrough(std::span<char> init_out);

// The handle in an OPEN or CREATE reply body, and marking that open as passthrough.
std::optional<uint64_t> open_reply_fh(std::span<const char> body, uint32_t opcode);
bool set_passthrough(std::span<char> body, uint32_t opcode, int32_t backing_id);

}  // namespace dgc::fs::wire
