// archive/ read-ahead (issue 12: regeneration keeps pace): a reader in chunk c has chunks
// c+1..c+N generated on N threads meanwhile, into the same bounded cache, and the bytes are
// those of a reader without read-ahead. ArchiveCache over a real catalog, no FUSE.
#include "fs/archive.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "codec/capture_reader.h"
#include "trainer/pipeline.h"

namespace dgc::fs {
namespace {

bool wait_until(const std::function<bool()>& pred, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

// A store whose trace 1 is four modelled chunks of a real capture (a keyframe, then chunks
// built on it), as the workers would commit them.
struct FourChunkStore {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("dgc-readahead-" + std::to_string(::getpid()));
    std::unique_ptr<Catalog> catalog;
    LibraryHolder library;
    FourChunkStore() {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        catalog = std::move(Catalog::open(dir.string(), false).value());
        auto cap = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/USTC-TFC2016__Tinba.pcap");
        EXPECT_TRUE(cap.ok()) << cap.status().message();
        constexpr uint32_t kChunks = 4, kPackets = 800;
        IngestCommit in;
        in.trace.id = 1;
        in.trace.path = "t.pcap";
        in.trace.chunks = kChunks;
        in.trace.packets = kChunks * kPackets;
        in.trace.raw_size = 1000;
        in.frame_index = std::string("\x01", 1);
        for (uint32_t i = 0; i < kChunks; ++i) in.chunks.push_back({1, i, i * kPackets, kPackets});
        EXPECT_TRUE(catalog->commit_ingest(in));
        trainer::TrainOptions opts;
        opts.device = trainer::Device::kCpu;
        opts.steps = 16;
        PcapFormat fmt;
        for (uint32_t i = 0; i < kChunks; ++i) {
            std::span<const PacketRecord> recs(cap->records.data() + i * kPackets, kPackets);
            auto m = trainer::train_chunk(fmt, recs, *library.snapshot(), opts);
            EXPECT_TRUE(m.ok()) << m.status().message();
            ModelCommit mc;
            mc.trace = 1;
            mc.chunk = i;
            mc.blob = m->blob;
            if (m->parent_id.empty()) mc.keyframe_id = "t1c" + std::to_string(i);
            mc.row = in.chunks[i];
            mc.row.done = true;
            mc.row.packets = m->packets;
            mc.row.synth_bytes = m->synth_bytes;
            mc.row.model_bytes = m->blob.size();
            mc.row.parent_id = m->parent_id;
            EXPECT_TRUE(catalog->commit_model(mc));
            if (!mc.keyframe_id.empty()) library.add(mc.keyframe_id, mc.blob);
        }
    }
    ~FourChunkStore() {
        catalog.reset();
        std::filesystem::remove_all(dir);
    }
};

std::string read_all(ArchiveCache& a, const std::shared_ptr<const ArchiveFile>& f) {
    std::string out(f->map.total_size(), '\0');
    auto n = a.read(f, 0, std::span<char>(out.data(), out.size()));
    EXPECT_TRUE(n.ok()) << n.status().message();
    return out;
}

TEST(ArchiveReadAhead, ChunksAfterTheReadersAreGeneratedMeanwhileWithTheSameBytes) {
    const std::vector<uint64_t> even(8, 10);
    EXPECT_EQ(chunks_ahead(0, even, 2, 1000), (std::vector<uint32_t>{1, 2, 3, 4, 5, 6})) << "three per thread";
    EXPECT_EQ(chunks_ahead(5, even, 2, 1000), (std::vector<uint32_t>{6, 7}));
    EXPECT_TRUE(chunks_ahead(7, even, 2, 1000).empty());
    EXPECT_TRUE(chunks_ahead(0, even, 0, 1000).empty());
    EXPECT_EQ(chunks_ahead(0, even, 2, 35), (std::vector<uint32_t>{1, 2, 3})) << "as far as the budget";
    const std::vector<uint64_t> large{10, 50, 50, 50, 50};
    EXPECT_EQ(chunks_ahead(0, large, 1, 60), (std::vector<uint32_t>{1}));
    EXPECT_EQ(chunks_ahead(0, large, 2, 60), (std::vector<uint32_t>{1, 2})) << "one per thread whatever its size";

    FourChunkStore s;
    ArchiveCache plain(*s.catalog, s.library, size_t(96) << 20, 0);
    ArchiveCache ahead(*s.catalog, s.library, size_t(96) << 20, 2);
    auto fp = plain.open(1), fa = ahead.open(1);
    ASSERT_TRUE(fp.ok() && fa.ok()) << fp.status().message();
    const auto& sizes = (*fa)->chunk_sizes;
    ASSERT_EQ(sizes.size(), 4u);

    // A reader at the start of chunk 0: the three after it follow without being asked for.
    char buf[100];
    ASSERT_TRUE(ahead.read(*fa, 0, std::span<char>(buf, sizeof buf)).ok());
    const uint64_t all = sizes[0] + sizes[1] + sizes[2] + sizes[3];
    EXPECT_TRUE(wait_until([&] { return ahead.cached_bytes() == all; }, 60)) << "cached " << ahead.cached_bytes() << " of " << all;
    // Without read-ahead only what was read is generated.
    ASSERT_TRUE(plain.read(*fp, 0, std::span<char>(buf, sizeof buf)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(plain.cached_bytes(), sizes[0]);

    EXPECT_EQ(read_all(ahead, *fa), read_all(plain, *fp));
}

TEST(ArchiveReadAhead, ACacheWithWorkQueuedStopsPromptly) {
    FourChunkStore s;
    for (int i = 0; i < 3; ++i) {
        ArchiveCache a(*s.catalog, s.library, size_t(96) << 20, 2);
        auto f = a.open(1);
        ASSERT_TRUE(f.ok());
        char buf[10];
        ASSERT_TRUE(a.read(*f, 0, std::span<char>(buf, sizeof buf)).ok());
    }  // destroyed with chunks 1 to 3 queued or generating: joins, no use after free (ASan)
}

}  // namespace
}  // namespace dgc::fs
