#include "codec/raw_segment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace dgc {
namespace {

std::string pseudo_random_bytes(size_t n, uint32_t seed) {
    // Half compressible, half noise, like a pcap: headers repeat, payloads do not.
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = (i / 64) % 2 ? char(rng() & 0xff) : char(i & 0x0f);
    return s;
}

struct TempDir {
    std::filesystem::path p = std::filesystem::temp_directory_path() /
                              ("dgc-rawseg-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    TempDir() { std::filesystem::create_directories(p); }
    ~TempDir() { std::filesystem::remove_all(p); }
};

TEST(RawSegment, IndexEncodingRoundTrips) {
    RawFrameIndex idx;
    idx.frames = {{0, 0, 100, 40}, {100, 40, 100, 50}, {200, 90, 7, 9}};
    auto dec = decode_frame_index(encode_frame_index(idx));
    ASSERT_TRUE(dec.ok()) << dec.status().message();
    EXPECT_EQ(*dec, idx);
    EXPECT_EQ(dec->raw_size(), 207u);
    EXPECT_EQ(dec->stored_size(), 99u);
    EXPECT_FALSE(decode_frame_index("").ok());
    EXPECT_FALSE(decode_frame_index(std::string("\x01\x02", 2)).ok());
}

TEST(RawSegment, FramesForRangeCoversExactlyTheTouchedFrames) {
    using Range = std::pair<size_t, size_t>;
    RawFrameIndex idx;
    idx.frames = {{0, 0, 100, 1}, {100, 1, 100, 1}, {200, 2, 50, 1}};
    EXPECT_EQ(frames_for_range(idx, 0, 1), (Range{0, 1}));
    EXPECT_EQ(frames_for_range(idx, 99, 2), (Range{0, 2}));
    EXPECT_EQ(frames_for_range(idx, 100, 100), (Range{1, 2}));
    EXPECT_EQ(frames_for_range(idx, 150, 1000), (Range{1, 3}));
    EXPECT_EQ(frames_for_range(idx, 250, 10), (Range{0, 0}));
    EXPECT_EQ(frames_for_range(idx, 10, 0), (Range{0, 0}));
}

TEST(RawSegment, AnyRangeReadsBackExactly) {
    TempDir dir;
    const std::string data = pseudo_random_bytes(1'000'003, 7);
    auto src = (dir.p / "src").string(), seg = (dir.p / "seg").string();
    std::ofstream(src, std::ios::binary) << data;
    auto idx = write_raw_segment(src, seg, 64 * 1024);
    ASSERT_TRUE(idx.ok()) << idx.status().message();
    EXPECT_EQ(idx->raw_size(), data.size());
    EXPECT_EQ(idx->frames.size(), (data.size() + 65535) / 65536);
    EXPECT_EQ(std::filesystem::file_size(seg), idx->stored_size());
    EXPECT_LT(idx->stored_size(), data.size());

    auto r = RawSegmentReader::open(seg, *idx);
    ASSERT_TRUE(r.ok());
    std::mt19937 rng(3);
    for (int i = 0; i < 200; ++i) {
        uint64_t off = rng() % (data.size() + 10);
        size_t len = rng() % 200'000;
        std::string out(len, '\0');
        auto n = r->read(off, out);
        ASSERT_TRUE(n.ok()) << n.status().message();
        size_t expect = off >= data.size() ? 0 : std::min<size_t>(len, data.size() - off);
        ASSERT_EQ(*n, expect) << "offset " << off;
        ASSERT_EQ(out.substr(0, *n), data.substr(std::min<size_t>(off, data.size()), expect)) << "offset " << off;
    }
}

TEST(RawSegment, ScanRebuildsTheIndexFromTheFileAlone) {
    TempDir dir;
    const std::string data = pseudo_random_bytes(300'000, 9);
    auto w = RawSegmentWriter::create((dir.p / "seg").string(), 100'000);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->append(data.substr(0, 12345)));
    ASSERT_TRUE(w->append(data.substr(12345)));
    auto idx = w->finish();
    ASSERT_TRUE(idx.ok());
    std::ifstream in(dir.p / "seg", std::ios::binary);
    std::string seg((std::istreambuf_iterator<char>(in)), {});
    auto scanned = scan_frame_index(seg);
    ASSERT_TRUE(scanned.ok()) << scanned.status().message();
    EXPECT_EQ(*scanned, *idx);
    EXPECT_FALSE(scan_frame_index(seg.substr(0, seg.size() - 3)).ok());
}

TEST(RawSegment, EmptyFileHasNoFramesAndReadsNothing) {
    TempDir dir;
    auto src = (dir.p / "empty").string(), seg = (dir.p / "seg").string();
    std::ofstream(src).close();
    auto idx = write_raw_segment(src, seg);
    ASSERT_TRUE(idx.ok());
    EXPECT_TRUE(idx->frames.empty());
    auto r = RawSegmentReader::open(seg, *idx);
    ASSERT_TRUE(r.ok());
    std::string out(10, 'x');
    EXPECT_EQ(*r->read(0, out), 0u);
}

TEST(RawSegment, CorruptFrameIsReportedWithThePath) {
    TempDir dir;
    auto src = (dir.p / "src").string(), seg = (dir.p / "seg").string();
    std::ofstream(src, std::ios::binary) << pseudo_random_bytes(50'000, 1);
    auto idx = write_raw_segment(src, seg, 16'384);
    ASSERT_TRUE(idx.ok());
    {
        std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(idx->frames[1].comp_offset + 5);
        f.put('\x7f').put('\x00').put('\x13');
    }
    auto r = RawSegmentReader::open(seg, *idx);
    ASSERT_TRUE(r.ok());
    std::string out(100, '\0');
    auto n = r->read(idx->frames[1].raw_offset, out);
    ASSERT_FALSE(n.ok());
    EXPECT_NE(n.status().message().find(seg), std::string::npos);
}

}  // namespace
}  // namespace dgc
