// `dgcctl bench-ingest [--variant steady|changing] [--hours N]`: does a retention volume keep
// pace with a long capture (issue 12 item 6)? Builds the capture from dev traces
// (tools/bench_capture.h), copies it into a fresh volume and measures, in one run: modelling
// packets/s from cp start to "modelled" against xz -6 -T2 on the same file, the daemon's peak
// RSS meanwhile, model bytes per packet, the chunks' reuse decisions, a cold read of archive/
// and the whole capture's fidelity. Targets are reported, never turned into the exit status.
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_capture.h"
#include "bench_mount.h"
#include "cli.h"
#include "codec/capture_reader.h"
#include "codec/fidelity/fidelity.h"
#include "command_registry.h"
#include "progress.h"

namespace dgc::tools {
namespace {

namespace fsys = std::filesystem;
using Clock = std::chrono::steady_clock;

// Issue 12's targets, printed beside the figures.
constexpr double kSteadyXzTarget = 5.0, kChangingXzTarget = 2.0;
constexpr double kRssTargetMib = 400, kReadTargetPps = 200'000, kModelBytesTarget = 0.15;
constexpr double kMeanMargin = 0.05, kJointMargin = 0.10;

struct IngestArgs {
    std::string variant = "steady";
    int hours = 12;
    std::string base, keep, dgcfs, traces, data_dir = "../shared/data/pcaps/dev";
    int train_steps = 0, workers = 0, timeout_min = 240;
    bool json = false;
};

struct IngestResult {
    uint64_t packets = 0, capture_bytes = 0, chunks = 0, model_bytes = 0;
    std::optional<uint64_t> shared_model_bytes;
    size_t traces = 0;
    double model_s = 0, xz_s = 0, read_s = 0;
    long peak_rss_kib = 0, archive_packets = 0, modelled_packets = 0;
    std::string decisions;  // empty: the volume does not say
    double mean = 1, mean_floor = 0, joint = 1, joint_floor = 0;
};

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

// user.dgcfs.NAME of a path; nullopt when the volume has no such value (ENODATA) or fails.
std::optional<std::string> xattr(const fsys::path& p, const std::string& name) {
    char buf[512];
    const ssize_t n = ::getxattr(p.c_str(), ("user.dgcfs." + name).c_str(), buf, sizeof buf);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
}

std::optional<uint64_t> xattr_u64(const fsys::path& p, const std::string& name) {
    auto v = xattr(p, name);
    if (!v) return std::nullopt;
    try {
        return std::stoull(*v);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Share of chunks done in a "training 3/12" state; negative when the state does not say.
double training_fraction(const std::string& state) {
    unsigned done = 0, all = 0;
    if (std::sscanf(state.c_str(), "training %u/%u", &done, &all) == 2 && all > 0) return double(done) / all;
    return -1;
}

// Loads the traces of the recipe; those whose link type differs from the first are left out
// with a note, since one classic pcap carries one link type.
Result<std::vector<bench::Trace>> load_traces(const IngestArgs& a) {
    std::vector<std::string> names = split_commas(a.traces);
    if (names.empty())
        names = a.variant == "steady" ? bench::steady_trace_names() : bench::changing_trace_names();
    std::vector<bench::Trace> traces;
    for (const std::string& n : names) {
        const std::string path = n.find('/') == std::string::npos ? (fsys::path(a.data_dir) / n).string() : n;
        auto t = bench::load_trace(path);
        if (!t) return t.status();
        if (!traces.empty() && t->linktype != traces[0].linktype) {
            std::cerr << "bench-ingest: " << path << ": link type " << t->linktype << ", not "
                      << traces[0].linktype << " like " << traces[0].name << "; left out\n";
            continue;
        }
        traces.push_back(std::move(*t));
    }
    if (traces.empty()) return Status::invalid("bench-ingest: no traces to build the capture from");
    return traces;
}

Status fail(const std::string& why, Daemon& d) {
    d.stop();
    return Status::io(why);
}

// The fresh volume of one run: where its store, mount point and log are, and how dgcfs starts.
struct Bench {
    std::string bin, store, policy, mnt, log;
    std::vector<std::string> args;
    bool start(Daemon& d) const { return d.start(bin, store, policy, mnt, log, args); }
};

Bench bench_volume(const IngestArgs& a, const fsys::path& root) {
    Bench b{dgcfs_binary(a.dgcfs), (root / "store").string(), (root / "policy.toml").string(),
            (root / "mnt").string(), (root / "daemon.log").string(), {}};
    if (a.train_steps > 0) b.args.insert(b.args.end(), {"--train-steps", std::to_string(a.train_steps)});
    if (a.workers > 0) b.args.insert(b.args.end(), {"--workers", std::to_string(a.workers)});
    if (!a.base.empty()) b.args.insert(b.args.end(), {"--base", a.base});
    return b;
}

// cp into retention/, then polls the state until "modelled", sampling the daemon's RSS.
Status model_capture(const IngestArgs& a, const Bench& b, const fsys::path& capture, IngestResult& r,
                     Progress& shown) {
    Daemon d;
    if (!b.start(d)) return fail("bench-ingest: dgcfs did not mount; see " + b.log, d);
    const fsys::path in_retention = fsys::path(b.mnt) / "retention" / capture.filename();
    const auto t0 = Clock::now();
    shown.update(0.1, "cp into retention/");
    if (sh("cp '" + capture.string() + "' '" + in_retention.string() + "'") != 0)
        return fail("bench-ingest: cp " + capture.string() + " into " + in_retention.string() + " failed", d);
    for (std::string state; state != "modelled";) {
        state = xattr(in_retention, "state").value_or("");
        const long rss = rss_kib(d.pid);
        if (rss < 0) return fail("bench-ingest: dgcfs exited while modelling; see " + b.log, d);
        r.peak_rss_kib = std::max(r.peak_rss_kib, rss);
        if (state.rfind("unmodelable", 0) == 0 || state.rfind("does not regenerate", 0) == 0)
            return fail("bench-ingest: " + in_retention.string() + ": " + state, d);
        if (Clock::now() - t0 > std::chrono::minutes(a.timeout_min))
            return fail("bench-ingest: " + in_retention.string() + " not modelled within " +
                            std::to_string(a.timeout_min) + " minutes (" + state + "); see " + b.log,
                        d);
        const double f = training_fraction(state);
        shown.update(f < 0 ? -1 : 0.1 + 0.6 * f, "modelling: " + (state.empty() ? "copying" : state));
        if (state != "modelled") std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    r.model_s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.modelled_packets = static_cast<long>(xattr_u64(in_retention, "packets").value_or(0));
    r.chunks = xattr_u64(in_retention, "chunks").value_or(0);
    r.model_bytes = xattr_u64(in_retention, "model_bytes").value_or(0);
    r.shared_model_bytes = xattr_u64(in_retention, "shared_model_bytes");
    r.decisions = xattr(in_retention, "decisions").value_or("");
    d.stop();
    return Status::ok();
}

// A new daemon has generated nothing yet, and unmounting dropped the kernel's pages: the
// timed read is cold. The archive's records come back for the fidelity score.
Result<Capture> read_archive_cold(const Bench& b, const fsys::path& capture, IngestResult& r, Progress& shown) {
    shown.update(0.75, "cold read of archive/");
    sh("sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null");
    Daemon d;
    if (!b.start(d)) return fail("bench-ingest: dgcfs did not remount; see " + b.log, d);
    const std::string archived = (fsys::path(b.mnt) / "archive" / capture.filename()).string();
    r.read_s = seconds_of([&] { return static_cast<int>(r.archive_packets = count_packets(archived)); });
    if (r.archive_packets < 0) return fail("bench-ingest: " + archived + ": libpcap cannot read it", d);
    shown.update(0.8, "fidelity of the whole capture");
    auto synth = read_capture(archived);
    d.stop();
    return synth;
}

// Copies the capture into a fresh volume, waits until it is modelled, then remounts cold,
// reads archive/ and scores the whole capture as `dgcctl eval` does.
Status run_volume(const IngestArgs& a, const fsys::path& root, const fsys::path& capture, IngestResult& r,
                  Progress& shown) {
    const Bench b = bench_volume(a, root);
    if (!fsys::exists(b.bin)) return Status::not_found("bench-ingest: " + b.bin + " not found (--dgcfs)");
    // One chunk per hour of capture: the hours are the unit the recipe varies.
    std::ofstream(b.policy) << "[training]\nchunk_seconds = 3600\nchunk_packets = 1000000\n";
    fsys::create_directories(b.mnt);
    if (Status st = model_capture(a, b, capture, r, shown); !st) return st;
    auto synth = read_archive_cold(b, capture, r, shown);
    if (!synth) return synth.status();
    auto real = read_capture(capture.string());
    if (!real) return real.status();
    const auto score = fidelity::evaluate(real->records, synth->records);
    shown.update(0.9, "fidelity floor");
    const auto fl = fidelity::floor(real->records);
    r.mean = score.score.average.value_or(1);
    r.joint = score.score.joint_average.value_or(1);
    r.mean_floor = fl.score.average.value_or(0);
    r.joint_floor = fl.score.joint_average.value_or(0);
    return Status::ok();
}

const char* verdict(bool pass) { return pass ? "pass" : "fail"; }

void print_text(const IngestArgs& a, const IngestResult& r) {
    const double pps = r.packets / r.model_s, xz_pps = r.packets / r.xz_s;
    const double target = a.variant == "steady" ? kSteadyXzTarget : kChangingXzTarget;
    const double bpp = double(r.model_bytes) / r.packets;
    std::printf("bench-ingest %s, %d h from %zu traces: %lu packets, %.1f MiB\n", a.variant.c_str(), a.hours,
                r.traces, static_cast<unsigned long>(r.packets), r.capture_bytes / 1048576.0);
    std::printf("  modelling, cp start to modelled   %8.1f s  %9.0f packets/s (%ld packets modelled)\n", r.model_s, pps,
                r.modelled_packets);
    std::printf("  xz -6 -T2 on the same file        %8.1f s  %9.0f packets/s\n", r.xz_s, xz_pps);
    std::printf("  dgcfs / xz                        %8.2fx (target >= %.0fx): %s\n", pps / xz_pps, target,
                verdict(pps / xz_pps >= target));
    std::printf("  daemon RSS peak while modelling   %8.1f MiB (target <= %.0f): %s\n", r.peak_rss_kib / 1024.0,
                kRssTargetMib, verdict(r.peak_rss_kib / 1024.0 <= kRssTargetMib));
    std::printf("  models                            %8.3f B/packet (target <= %.2f): %s; %lu bytes, %lu chunks\n", bpp,
                kModelBytesTarget, verdict(bpp <= kModelBytesTarget), static_cast<unsigned long>(r.model_bytes),
                static_cast<unsigned long>(r.chunks));
    if (r.shared_model_bytes)
        std::printf("  shared models                     %8.3f B/packet (%lu bytes)\n",
                    double(*r.shared_model_bytes) / r.packets, static_cast<unsigned long>(*r.shared_model_bytes));
    std::printf("  decisions: %s\n", r.decisions.empty() ? "n/a" : r.decisions.c_str());
    std::printf("  cold read of archive/ (libpcap)   %8.1f s  %9.0f packets/s (target >= %.0f): %s; %ld packets\n",
                r.read_s, r.archive_packets / r.read_s, kReadTargetPps,
                verdict(r.archive_packets / r.read_s >= kReadTargetPps), r.archive_packets);
    std::printf("  fidelity 17-mean %.3f vs floor %.3f + %.2f: %s\n", r.mean, r.mean_floor, kMeanMargin,
                verdict(r.mean <= r.mean_floor + kMeanMargin));
    std::printf("  fidelity joint   %.3f vs floor %.3f + %.2f: %s\n", r.joint, r.joint_floor, kJointMargin,
                verdict(r.joint <= r.joint_floor + kJointMargin));
}

void print_json(const IngestArgs& a, const IngestResult& r) {
    nlohmann::json j = {
        {"schema", 1},
        {"variant", a.variant},
        {"hours", a.hours},
        {"traces", r.traces},
        {"packets", r.packets},
        {"capture_bytes", r.capture_bytes},
        {"modelled_packets", r.modelled_packets},
        {"model_seconds", r.model_s},
        {"model_packets_per_s", r.packets / r.model_s},
        {"xz_seconds", r.xz_s},
        {"xz_packets_per_s", r.packets / r.xz_s},
        {"ratio_to_xz", r.xz_s / r.model_s},
        {"peak_rss_kib", r.peak_rss_kib},
        {"model_bytes", r.model_bytes},
        {"model_bytes_per_packet", double(r.model_bytes) / r.packets},
        {"chunks", r.chunks},
        {"decisions", r.decisions.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.decisions)},
        {"archive_packets", r.archive_packets},
        {"read_seconds", r.read_s},
        {"read_packets_per_s", r.archive_packets / r.read_s},
        {"mean", r.mean},
        {"mean_floor", r.mean_floor},
        {"mean_pass", r.mean <= r.mean_floor + kMeanMargin},
        {"joint", r.joint},
        {"joint_floor", r.joint_floor},
        {"joint_pass", r.joint <= r.joint_floor + kJointMargin},
    };
    j["shared_model_bytes"] = r.shared_model_bytes ? nlohmann::json(*r.shared_model_bytes) : nlohmann::json(nullptr);
    std::cout << j.dump(2) << "\n";
}

int run_ingest(const IngestArgs& a) {
    Progress shown("bench-ingest");
    shown.update(0, "building the capture");
    auto traces = load_traces(a);
    if (!traces) {
        std::cerr << traces.status().message() << "\n";
        return kExitFailure;
    }
    const auto variant = a.variant == "steady" ? bench::Variant::kSteady : bench::Variant::kChanging;
    auto picks = bench::build_capture(*traces, variant, a.hours);
    if (!picks) {
        std::cerr << "bench-ingest: " << picks.status().message() << "\n";
        return kExitFailure;
    }
    const fsys::path root =
        a.keep.empty() ? fsys::path("/var/tmp/dgcfs-bench-ingest-" + std::to_string(::getpid())) : fsys::path(a.keep);
    std::error_code ec;
    fsys::create_directories(root, ec);
    const fsys::path capture = root / ("ingest-" + a.variant + ".pcap");
    {
        std::ofstream out(capture, std::ios::binary);
        bench::write_pcap(*traces, *picks, out);
        if (ec || !out) {
            std::cerr << "bench-ingest: " << capture.string() << ": cannot write the capture\n";
            return kExitFailure;
        }
    }
    IngestResult r;
    r.traces = traces->size();
    r.packets = picks->size();
    r.capture_bytes = fsys::file_size(capture);
    traces->clear();
    picks->clear();

    // xz runs on its own thread so the progress line keeps moving through its minute or two.
    int xz_rc = 0;
    std::atomic<bool> xz_done = false;
    std::thread xz([&] {
        r.xz_s = seconds_of([&] { return sh("xz -6 -T2 -c '" + capture.string() + "' > /dev/null"); }, &xz_rc);
        xz_done = true;
    });
    while (!xz_done) {
        shown.update(-1, "xz -6 -T2 on the capture");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    xz.join();
    Status st = xz_rc == 0 ? run_volume(a, root, capture, r, shown)
                           : Status::io("bench-ingest: xz -6 -T2 " + capture.string() + " failed");
    shown.finish();
    if (a.keep.empty()) fsys::remove_all(root, ec);
    if (!st) {
        std::cerr << st.message() << "\n";
        return kExitFailure;
    }
    if (r.packets == 0 || r.model_s <= 0 || r.read_s <= 0) {
        std::cerr << "bench-ingest: the capture is empty; nothing was measured\n";
        return kExitFailure;
    }
    a.json ? print_json(a, r) : print_text(a, r);
    return kExitOk;
}

const RegisterCommand kBenchIngest{{94, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("bench-ingest",
                                   "Retention volume on a long capture: modelling vs xz, RSS, model bytes, decisions, "
                                   "cold read, fidelity");
    auto a = std::make_shared<IngestArgs>();
    cmd->add_option("--variant", a->variant, "steady: one hour repeated, 3/4 of its flows; changing: new traces each hour")
        ->check(CLI::IsMember({"steady", "changing"}))
        ->capture_default_str();
    cmd->add_option("--hours", a->hours, "Hours of capture")->check(CLI::Range(1, 1000))->capture_default_str();
    cmd->add_option("--traces", a->traces, "Comma-separated traces instead of the variant's list (names in --data-dir, or paths)");
    cmd->add_option("--data-dir", a->data_dir, "Where trace names are looked up")->capture_default_str();
    cmd->add_option("--base", a->base, "Base model passed to dgcfs --base");
    cmd->add_option("--train-steps", a->train_steps, "Passed to dgcfs --train-steps (0: the policy's)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--workers", a->workers, "Passed to dgcfs --workers (0: its default)")->check(CLI::NonNegativeNumber);
    cmd->add_option("--timeout-min", a->timeout_min, "Give up when modelling takes longer")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--keep", a->keep, "Work in DIR and keep the capture, store and daemon log there");
    cmd->add_option("--dgcfs", a->dgcfs, "dgcfs binary (default: next to dgcctl)");
    cmd->add_flag("--json", a->json, "One JSON object (schema in dgcctl(1)) instead of the table");
    cmd->callback([a, &exit_code] { exit_code = run_ingest(*a); });
}}};

}  // namespace
}  // namespace dgc::tools
