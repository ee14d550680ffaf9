#include "codec/raw_segment.h"

#include "codec/crc32.h"

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

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// `bytes` pseudo-random bytes segmented into 16 KiB frames at dir/seg.
struct TestSegment {
    std::string path;
    RawFrameIndex index;
};
TestSegment write_test_segment(const TempDir& dir, size_t bytes, uint32_t seed) {
    auto src = (dir.p / "src").string(), seg = (dir.p / "seg").string();
    std::ofstream(src, std::ios::binary) << pseudo_random_bytes(bytes, seed);
    auto idx = write_raw_segment(src, seg, 16'384);
    EXPECT_TRUE(idx.ok()) << idx.status().message();
    return {seg, idx ? *idx : RawFrameIndex{}};
}

TEST(RawSegment, Crc32IsTheZlibOne) {
    EXPECT_EQ(crc32("123456789"), 0xcbf43926u);  // the standard check value
    EXPECT_EQ(crc32(""), 0u);
    const std::string s = pseudo_random_bytes(1000, 5);
    for (size_t cut : {0, 1, 7, 8, 9, 500, 999, 1000})
        EXPECT_EQ(crc32_update(crc32(s.substr(0, cut)), s.substr(cut)), crc32(s)) << cut;
}

// Version 1 was written until v2 existed; its bytes stay readable forever (docs/format.md §5.2).
TEST(RawSegment, IndexVersion1StillDecodes) {
    const std::string v1("\x01" "\x64\x00\x00\x00" "\x28\x00\x00\x00" "\x07\x00\x00\x00" "\x09\x00\x00\x00", 17);
    auto dec = decode_frame_index(v1);
    ASSERT_TRUE(dec.ok()) << dec.status().message();
    EXPECT_EQ(dec->version, 1);
    EXPECT_FALSE(dec->checksummed());
    ASSERT_EQ(dec->frames.size(), 2u);
    EXPECT_EQ(dec->frames[1], (RawFrame{100, 40, 7, 9, 0}));
    EXPECT_EQ(encode_frame_index(*dec), v1) << "a v1 index re-encodes as v1, never with invented CRCs";
    EXPECT_FALSE(decode_frame_index(v1.substr(0, 16)).ok());
}

TEST(RawSegment, IndexVersion2BytesArePinned) {
    RawFrameIndex idx;
    idx.frames = {{0, 0, 100, 40, 0xdeadbeef}, {100, 40, 7, 9, 0x01020304}};
    // Computed independently (Python: zlib.crc32 of the 25 bytes before it).
    const std::string v2("\x02"
                         "\x64\x00\x00\x00" "\x28\x00\x00\x00" "\xef\xbe\xad\xde"
                         "\x07\x00\x00\x00" "\x09\x00\x00\x00" "\x04\x03\x02\x01"
                         "\xa4\x0a\xae\xc2",
                         29);
    EXPECT_EQ(encode_frame_index(idx), v2);
    auto dec = decode_frame_index(v2);
    ASSERT_TRUE(dec.ok()) << dec.status().message();
    EXPECT_EQ(*dec, idx);
    EXPECT_TRUE(dec->checksummed());
}

TEST(RawSegment, IndexVersion2DetectsEveryFlippedByte) {
    RawFrameIndex idx;
    idx.frames = {{0, 0, 100, 40, 11}, {100, 40, 100, 50, 22}, {200, 90, 7, 9, 33}};
    const std::string enc = encode_frame_index(idx);
    for (size_t i = 0; i < enc.size(); ++i) {
        std::string bad = enc;
        bad[i] = static_cast<char>(bad[i] ^ 0x5a);
        EXPECT_FALSE(decode_frame_index(bad).ok()) << "flip at byte " << i;
    }
    std::string newer = enc;
    newer[0] = 3;
    auto r = decode_frame_index(newer);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("version 3 (this build reads 1 to 2)"), std::string::npos)
        << r.status().message();
}

TEST(RawSegment, VerifySegmentFindsEveryFlippedByteInItsFrame) {
    TempDir dir;
    auto [seg, index] = write_test_segment(dir, 50'000, 3);
    const RawFrameIndex* idx = &index;
    ASSERT_EQ(idx->frames.size(), 4u);
    const std::string bytes = read_file(seg);
    EXPECT_TRUE(verify_segment(*idx, bytes).empty());
    for (size_t k = 0; k < idx->frames.size(); ++k) {
        const RawFrame& f = idx->frames[k];
        for (uint64_t at : {f.comp_offset, f.comp_offset + 1, f.comp_offset + 5, f.comp_offset + f.comp_size / 2,
                            f.comp_offset + f.comp_size - 1}) {
            std::string bad = bytes;
            bad[at] = static_cast<char>(bad[at] ^ 0x01);
            auto problems = verify_segment(*idx, bad);
            ASSERT_FALSE(problems.empty()) << "flip at byte " << at;
            bool named = false;
            for (const auto& p : problems) named |= p.find("frame " + std::to_string(k) + " ") != std::string::npos;
            EXPECT_TRUE(named) << "flip at byte " << at << " not blamed on frame " << k << ": " << problems[0];
        }
    }
    EXPECT_FALSE(verify_segment(*idx, bytes.substr(0, bytes.size() - 1)).empty());
    EXPECT_FALSE(verify_segment(*idx, bytes + "x").empty());
}

TEST(RawSegment, Version1SegmentsAreCheckedByDecompressionOnly) {
    TempDir dir;
    auto [seg, v1] = write_test_segment(dir, 40'000, 4);
    v1.version = 1;
    for (auto& f : v1.frames) f.crc = 0;
    auto dec = decode_frame_index(encode_frame_index(v1));
    ASSERT_TRUE(dec.ok());
    EXPECT_TRUE(verify_segment(*dec, read_file(seg)).empty()) << "no CRC to compare is not damage";
    auto r = RawSegmentReader::open(seg, *dec);
    ASSERT_TRUE(r.ok());
    std::string out(40'000, '\0');
    EXPECT_EQ(*r->read(0, out), 40'000u);
    EXPECT_EQ(out, pseudo_random_bytes(40'000, 4));
}

TEST(RawSegment, ReaderRefusesAFrameWhoseChecksumDisagrees) {
    TempDir dir;
    auto [seg, wrong] = write_test_segment(dir, 40'000, 6);
    ASSERT_EQ(wrong.frames.size(), 3u);
    wrong.frames[1].crc ^= 1;  // the bytes are fine, so only the CRC can refuse them
    auto r = RawSegmentReader::open(seg, wrong);
    ASSERT_TRUE(r.ok());
    std::string out(100, '\0');
    EXPECT_TRUE(r->read(0, out).ok());
    auto n = r->read(wrong.frames[1].raw_offset, out);
    ASSERT_FALSE(n.ok());
    EXPECT_NE(n.status().message().find("checksum mismatch"), std::string::npos) << n.status().message();
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
