// dgcctl bench-fs --pcap FILE: the retention volume's speed targets, measured on this machine.
//  1. cp of a large pcap into retention/ vs cp to the store's own filesystem, pair-wise per round;
//  2. tcpdump -r archive/... -w /dev/null in packets/s (first read generates, second is cached);
//  3. the daemon's RSS idle after mount, while training, and idle after reads.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench_mount.h"
#include "command_registry.h"
#include "progress.h"

namespace dgc::tools {
namespace {

namespace fsys = std::filesystem;
using Clock = std::chrono::steady_clock;
const std::vector<std::string> kTrainArgs = {"--train-steps", "40", "--workers", "1"};

// A large classic pcap: the source's header, then its records repeated until `bytes`.
bool make_big_pcap(const std::string& src, const std::string& out, uint64_t bytes) {
    std::ifstream in(src, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string data = ss.str();
    if (data.size() < 24 || (data.compare(0, 4, "\xd4\xc3\xb2\xa1") != 0 && data.compare(0, 4, "\x4d\x3c\xb2\xa1") != 0))
        return false;  // little-endian classic pcap only: records are then appended verbatim
    std::ofstream o(out, std::ios::binary);
    o.write(data.data(), 24);
    uint64_t written = 24;
    while (written < bytes) {
        o.write(data.data() + 24, static_cast<std::streamsize>(data.size() - 24));
        written += data.size() - 24;
    }
    return bool(o);
}

int run_bench(const std::string& pcap, uint64_t size_mb, int rounds, std::string dir, std::string bin) {
    bin = dgcfs_binary(bin);
    if (!fsys::exists(bin)) {
        std::cerr << "bench-fs: " << bin << " not found (--dgcfs)\n";
        return 1;
    }
    if (dir.empty()) dir = "/var/tmp/dgcfs-bench-" + std::to_string(::getpid());
    const fsys::path root(dir);
    fsys::create_directories(root / "plain");
    fsys::create_directories(root / "mnt");
    const std::string big = (root / "big.pcap").string();
    if (!make_big_pcap(pcap, big, size_mb << 20)) {
        std::cerr << "bench-fs: " << pcap << ": need a little-endian classic pcap to build the large file\n";
        return 1;
    }
    const double big_mb = double(fsys::file_size(big)) / (1 << 20);
    sh("cat '" + big + "' > /dev/null");  // both copies start from a warm source
    const std::string log = (root / "daemon.log").string();

    // Phase 1: ingest throughput. A long quiet period keeps background ingest out of the timings.
    std::ofstream(root / "quiet.toml") << "[training]\nquiet_ms = 3600000\n";
    Daemon d;
    if (!d.start(bin, (root / "store1").string(), (root / "quiet.toml").string(), (root / "mnt").string(), log, kTrainArgs)) {
        std::cerr << "bench-fs: dgcfs did not mount; see " << log << "\n";
        return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const long idle_rss_mount = rss_kib(d.pid);
    // cp to ext4 uses copy_file_range (an in-kernel copy); cat shows what a read/write copy
    // through user space, the only kind a FUSE destination allows, costs on the same disk.
    std::vector<double> plain_s, fuse_s, cat_s;
    // Phase 1 is about a third of the run; phase 2 waits for training and reads.
    Progress shown("bench-fs");
    for (int r = 0; r < rounds; ++r) {
        shown.update(0.3 * r / rounds, "cp round " + std::to_string(r + 1) + "/" + std::to_string(rounds));
        const std::string pdst = (root / "plain" / ("r" + std::to_string(r) + ".pcap")).string();
        const std::string fdst = (root / "mnt" / "retention" / ("r" + std::to_string(r) + ".pcap")).string();
        int rc1 = 0, rc2 = 0;
        plain_s.push_back(seconds_of([&] { return sh("cp '" + big + "' '" + pdst + "'"); }, &rc1));
        fuse_s.push_back(seconds_of([&] { return sh("cp '" + big + "' '" + fdst + "'"); }, &rc2));
        if (rc1 || rc2) {
            std::cerr << "bench-fs: cp failed\n";
            d.stop();
            return 1;
        }
        fsys::remove(pdst);
        cat_s.push_back(seconds_of([&] { return sh("cat '" + big + "' > '" + pdst + "'"); }));
        fsys::remove(pdst);
        fsys::remove(fdst);
    }
    d.stop();
    std::sort(plain_s.begin(), plain_s.end());
    std::sort(fuse_s.begin(), fuse_s.end());
    std::sort(cat_s.begin(), cat_s.end());
    shown.finish();
    const double cat_mbs = big_mb / cat_s[cat_s.size() / 2];
    const double plain_mbs = big_mb / plain_s[plain_s.size() / 2], fuse_mbs = big_mb / fuse_s[fuse_s.size() / 2];
    std::printf("bench-fs (%s, %.0f MiB large file, %d rounds, median)\n", pcap.c_str(), big_mb, rounds);
    std::printf("  cp to store filesystem   %8.1f MiB/s\n", plain_mbs);
    std::printf("  cp into retention/       %8.1f MiB/s   ratio %.0f%% (target >= 60%%)\n", fuse_mbs,
                100 * fuse_mbs / plain_mbs);
    std::printf("  cat > store filesystem   %8.1f MiB/s   (retention/ at %.0f%% of a user-space copy)\n", cat_mbs,
                100 * fuse_mbs / cat_mbs);
    std::printf("  daemon RSS idle after mount   %6.1f MiB (target <= 200)\n", idle_rss_mount / 1024.0);
    std::fflush(stdout);

    // Phase 2: archive read speed and memory while training.
    // One chunk per 20000 packets whatever the capture's time span, so the read test has few chunks.
    std::ofstream(root / "normal.toml") << "[training]\nquiet_ms = 300\nchunk_seconds = 1e9\nchunk_packets = 20000\n";
    if (!d.start(bin, (root / "store2").string(), (root / "normal.toml").string(), (root / "mnt").string(), log, kTrainArgs)) {
        std::cerr << "bench-fs: dgcfs did not mount; see " << log << "\n";
        return 1;
    }
    const fsys::path arch = root / "mnt" / "archive" / "bench.pcap";
    sh("cp '" + pcap + "' '" + (root / "mnt" / "retention" / "bench.pcap").string() + "'");
    long train_rss = 0;
    auto t0 = Clock::now();
    while (!fsys::exists(arch) && Clock::now() - t0 < std::chrono::minutes(10)) {
        shown.update(-1, "waiting for the model of bench.pcap");
        train_rss = std::max(train_rss, rss_kib(d.pid));
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (!fsys::exists(arch)) {
        std::cerr << "bench-fs: the pcap was not modelled within 10 minutes; see " << log << "\n";
        d.stop();
        return 1;
    }
    const double train_s = std::chrono::duration<double>(Clock::now() - t0).count();
    shown.update(-1, "tcpdump -r archive/");
    const long packets = count_packets(arch.string());
    sh("echo 1 > /proc/sys/vm/drop_caches 2>/dev/null");
    const std::string tcpdump = "tcpdump -r '" + arch.string() + "' -w /dev/null 2>/dev/null";
    const double cold = seconds_of([&] { return sh(tcpdump); });
    const double warm = seconds_of([&] { return sh(tcpdump); });
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const long idle_rss_after = rss_kib(d.pid);
    d.stop();
    fsys::remove_all(root);
    shown.finish();

    std::printf("  modelled %ld packets in %.1f s (1 s budget per chunk)\n", packets, train_s);
    std::printf("  tcpdump -r archive/, first read (generates)  %10.0f packets/s\n", double(packets) / cold);
    std::printf("  tcpdump -r archive/, second read (cached)    %10.0f packets/s (target >= 50000)\n",
                double(packets) / warm);
    std::printf("  daemon RSS peak while training %6.1f MiB\n", train_rss / 1024.0);
    std::printf("  daemon RSS idle after reads   %6.1f MiB\n", idle_rss_after / 1024.0);
    return 0;
}

const RegisterCommand kBenchFs{{93, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("bench-fs", "Retention volume: cp ingest ratio, archive read packets/s, daemon RSS");
    auto pcap = std::make_shared<std::string>();
    auto size_mb = std::make_shared<uint64_t>(512);
    auto rounds = std::make_shared<int>(3);
    auto dir = std::make_shared<std::string>();
    auto bin = std::make_shared<std::string>();
    cmd->add_option("--pcap", *pcap, "Classic little-endian pcap: modelled for the read test, repeated for cp")
        ->required();
    cmd->add_option("--size-mb", *size_mb, "Size of the large file for the cp test")->capture_default_str();
    cmd->add_option("--rounds", *rounds, "cp pairs (median reported)")->capture_default_str();
    cmd->add_option("--dir", *dir, "Work directory on the filesystem to compare with (default /var/tmp/...)");
    cmd->add_option("--dgcfs", *bin, "dgcfs binary (default: next to dgcctl)");
    cmd->callback([=, &exit_code] { exit_code = run_bench(*pcap, *size_mb, *rounds, *dir, *bin); });
}}};

}  // namespace
}  // namespace dgc::tools
