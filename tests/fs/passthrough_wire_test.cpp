// The protocol bytes kernel passthrough patches: offsets from <linux/fuse.h> (7.40).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "fs/fuse_passthrough_wire.h"

namespace dgc::fs::wire {
namespace {

template <typename T>
void put(std::vector<char>& b, size_t off, T v) {
    std::memcpy(b.data() + off, &v, sizeof v);
}
template <typename T>
T get(const std::vector<char>& b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}

std::vector<char> init_request(uint32_t flags, uint32_t flags2) {
    std::vector<char> m(kInHeaderSize + 64, 0);
    put<uint32_t>(m, 0, static_cast<uint32_t>(m.size()));
    put<uint32_t>(m, 4, kOpInit);
    put<uint64_t>(m, 8, 2);
    put<uint32_t>(m, kInHeaderSize + 0, 7);
    put<uint32_t>(m, kInHeaderSize + 4, 41);
    put<uint32_t>(m, kInHeaderSize + 12, flags);
    put<uint32_t>(m, kInHeaderSize + 16, flags2);
    return m;
}

TEST(PassthroughWire, RequestAndReplyHeaders) {
    std::vector<char> m(kInHeaderSize, 0);
    put<uint32_t>(m, 0, 40);
    put<uint32_t>(m, 4, kOpOpen);
    put<uint64_t>(m, 8, 0x1234567890ULL);
    auto h = parse_request(m);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->len, 40u);
    EXPECT_EQ(h->opcode, kOpOpen);
    EXPECT_EQ(h->unique, 0x1234567890ULL);
    EXPECT_FALSE(parse_request(std::span<const char>(m.data(), kInHeaderSize - 1)));

    std::vector<char> r(kOutHeaderSize, 0);
    put<uint32_t>(r, 0, 32);
    put<int32_t>(r, 4, -2);
    put<uint64_t>(r, 8, 77);
    auto rh = parse_reply(r);
    ASSERT_TRUE(rh);
    EXPECT_EQ(rh->error, -2);
    EXPECT_EQ(rh->unique, 77u);
}

TEST(PassthroughWire, InitOfferNeedsTheExtendedFlags) {
    EXPECT_TRUE(init_offers_passthrough(init_request(kInitExt, kPassthroughFlags2)));
    EXPECT_FALSE(init_offers_passthrough(init_request(0, kPassthroughFlags2)));  // flags2 not valid
    EXPECT_FALSE(init_offers_passthrough(init_request(kInitExt, 0)));
    auto not_init = init_request(kInitExt, kPassthroughFlags2);
    put<uint32_t>(not_init, 4, kOpOpen);
    EXPECT_FALSE(init_offers_passthrough(not_init));
}

TEST(PassthroughWire, AskingSetsFlagsAndStackDepthOnly) {
    std::vector<char> out(64, 0);
    put<uint32_t>(out, 0, 7);
    put<uint32_t>(out, 12, 0x1);       // some flag libfuse chose
    put<uint32_t>(out, 20, 1u << 20);  // max_write
    ASSERT_TRUE(ask_passthrough(out));
    EXPECT_EQ(get<uint32_t>(out, 12), 0x1u | kInitExt);
    EXPECT_EQ(get<uint32_t>(out, 32), kPassthroughFlags2);
    EXPECT_EQ(get<uint32_t>(out, 36), 1u);  // max_stack_depth
    EXPECT_EQ(get<uint32_t>(out, 20), 1u << 20);
    EXPECT_EQ(get<uint32_t>(out, 0), 7u);

    std::vector<char> wb(64, 0);
    put<uint32_t>(wb, 12, kWritebackCache);
    EXPECT_FALSE(ask_passthrough(wb));  // the kernel excludes the two
    EXPECT_EQ(get<uint32_t>(wb, 32), 0u);
    std::vector<char> old(24, 0);
    EXPECT_FALSE(ask_passthrough(old));
}

TEST(PassthroughWire, OpenAndCreateRepliesNameTheBackingFile) {
    std::vector<char> open_out(kOpenOutSize, 0);
    put<uint64_t>(open_out, 0, 0xABCDEF);
    put<uint32_t>(open_out, 8, 0x2);  // FOPEN_KEEP_CACHE stays
    EXPECT_EQ(open_reply_fh(open_out, kOpOpen), 0xABCDEFu);
    ASSERT_TRUE(set_passthrough(open_out, kOpOpen, 5));
    EXPECT_EQ(get<uint32_t>(open_out, 8), 0x2u | kOpenPassthrough);
    EXPECT_EQ(get<int32_t>(open_out, 12), 5);

    std::vector<char> create_out(kEntryOutSize + kOpenOutSize, 0);
    put<uint64_t>(create_out, 0, 99);  // the entry's nodeid, not the handle
    put<uint64_t>(create_out, kEntryOutSize, 0x4242);
    EXPECT_EQ(open_reply_fh(create_out, kOpCreate), 0x4242u);
    ASSERT_TRUE(set_passthrough(create_out, kOpCreate, 9));
    EXPECT_EQ(get<int32_t>(create_out, kEntryOutSize + 12), 9);
    EXPECT_EQ(get<uint64_t>(create_out, 0), 99u);

    EXPECT_FALSE(open_reply_fh(open_out, kOpInit));
    EXPECT_FALSE(open_reply_fh(std::span<const char>(create_out.data(), kEntryOutSize), kOpCreate));
}

}  // namespace
}  // namespace dgc::fs::wire
