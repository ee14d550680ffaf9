// dgcfs and dgcctl as an operator meets them: every start-up error on stderr with exit 1
// before the daemon detaches, usage errors exit 2, one daemon per store, the mount(8) and
// config-file forms, readiness for systemd, logs written as they happen, `dgcctl status`
// exit codes and --json. Spawns the real binaries.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "mount_args.h"
#include "tests/fs/mounted_volume.h"
#include "tests/shell_quote.h"

namespace dgc::fs::test {
namespace {

struct Outcome {
    int code = -1;
    std::string out, err;
};

const std::string kBin = std::string(DGC_BINARY_DIR) + "/tools/";

using dgc::testing::shell_quote;

// Runs a shell command line; stdout and stderr apart, and the exit status.
Outcome run(const std::string& cmd) {
    static int n = 0;
    const fsys::path base = fsys::temp_directory_path() / ("dgcfs-daemon-out-" + std::to_string(::getpid()) + "-" +
                                                           std::to_string(n++));
    const int status = sh(cmd + " >" + shell_quote(base.string() + ".out") + " 2>" + shell_quote(base.string() + ".err"));
    Outcome o;
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = slurp(base.string() + ".out");
    o.err = slurp(base.string() + ".err");
    fsys::remove(base.string() + ".out");
    fsys::remove(base.string() + ".err");
    return o;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

bool alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// A scratch directory with an empty mount point, a store and a small policy.
class Scratch {
public:
    Scratch() {
        root_ = fsys::temp_directory_path() / ("dgcfs-daemon-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(counter_++));
        fsys::remove_all(root_);
        fsys::create_directories(mnt());
        std::ofstream(policy()) << "[training]\nchunk_packets = 4000\nquiet_ms = 300\n";
    }
    ~Scratch() {
        for (const auto& m : mounted_) stop(m);
        if (!::testing::Test::HasFailure()) fsys::remove_all(root_);
    }
    fsys::path root() const { return root_; }
    fsys::path mnt() const { return root_ / "mnt"; }
    fsys::path store() const { return root_ / "store"; }
    fsys::path policy() const { return root_ / "policy.toml"; }
    // dgcfs in the background (no -f) with the test's usual settings.
    std::string dgcfs(const std::string& extra) const {
        return kBin + "dgcfs --store " + shell_quote(store()) + " --policy " + shell_quote(policy()) +
               " --workers 1 --device cpu --train-steps 40 " + extra;
    }
    pid_t lock_pid() const {
        std::ifstream in(store() / "dgcfs.lock");
        long pid = 0;
        in >> pid;
        return static_cast<pid_t>(pid);
    }
    // Waits for the volume, remembers to unmount it.
    bool wait_mounted(const fsys::path& m) {
        mounted_.push_back(m);
        return wait_until([&] { return fsys::exists(m / "retention"); }, 30);
    }
    // Clean unmount; true once the daemon holding the store has exited.
    bool stop(const fsys::path& m) {
        const pid_t pid = lock_pid();
        sh("fusermount3 -u " + shell_quote(m) + " 2>/dev/null");
        return wait_until([&] { return !alive(pid); }, 60);
    }

private:
    static inline int counter_ = 0;
    fsys::path root_;
    std::vector<fsys::path> mounted_;
};

TEST(DaemonStartup, MissingOrBadPolicyIsReportedOnStderr) {
    Scratch s;
    auto o = run(kBin + "dgcfs --store " + shell_quote(s.store()) + " --policy " + shell_quote(s.root() / "nope.toml") + " " + shell_quote(s.mnt()));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "policy " + (s.root() / "nope.toml").string() + ": No such file or directory")) << o.err;

    std::ofstream(s.policy()) << "[training\nchunk_packets = 4000\n";
    o = run(s.dgcfs(shell_quote(s.mnt())));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "dgcfs: cannot open the store: ")) << o.err;
    EXPECT_TRUE(contains(o.err, s.policy().string())) << o.err;
    EXPECT_FALSE(fsys::exists(s.mnt() / "retention")) << "mounted despite the bad policy";
}

TEST(DaemonStartup, UnreadableBaseModelIsReportedOnStderr) {
    Scratch s;
    auto o = run(s.dgcfs("--base " + shell_quote(s.root() / "none.model") + " " + shell_quote(s.mnt())));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "base model " + (s.root() / "none.model").string() + ": No such file or directory"))
        << o.err;

    std::ofstream(s.root() / "junk.model") << "this is not a model";
    o = run(s.dgcfs("--base " + shell_quote(s.root() / "junk.model") + " " + shell_quote(s.mnt())));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "dgcfs: cannot open the store: ")) << o.err;
    EXPECT_TRUE(contains(o.err, "junk.model")) << o.err;
}

TEST(DaemonStartup, StoreThatCannotHoldFilesIsReported) {
    Scratch s;
    std::ofstream(s.root() / "file") << "x";
    auto o = run(kBin + "dgcfs --store " + shell_quote(s.root() / "file" / "store") + " " + shell_quote(s.mnt()));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "store " + (s.root() / "file" / "store").string() + ": cannot create: Not a directory"))
        << o.err;
    o = run(kBin + "dgcfs --store " + shell_quote(s.root() / "file") + " " + shell_quote(s.mnt()));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "store " + (s.root() / "file").string() + ": ")) << o.err;
}

TEST(DaemonStartup, MountPointMustBeAnEmptyDirectory) {
    Scratch s;
    auto o = run(s.dgcfs(shell_quote(s.root() / "absent")));
    EXPECT_EQ(o.code, 1);
    EXPECT_TRUE(contains(o.err, "mount point " + (s.root() / "absent").string() + ": No such file or directory"))
        << o.err;

    std::ofstream(s.root() / "plain") << "x";
    o = run(s.dgcfs(shell_quote(s.root() / "plain")));
    EXPECT_EQ(o.code, 1);
    EXPECT_TRUE(contains(o.err, "mount point " + (s.root() / "plain").string() + ": Not a directory")) << o.err;

    std::ofstream(s.mnt() / "leftover") << "x";
    o = run(s.dgcfs(shell_quote(s.mnt())));
    EXPECT_EQ(o.code, 1);
    EXPECT_TRUE(contains(o.err, "mount point " + s.mnt().string() + ": Directory not empty")) << o.err;
    fsys::remove(s.mnt() / "leftover");

    // --mkdir creates a missing one (the service's mount point).
    o = run(s.dgcfs("--mkdir " + shell_quote(s.root() / "made")));
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_TRUE(s.wait_mounted(s.root() / "made"));
    EXPECT_TRUE(s.stop(s.root() / "made"));
}

TEST(DaemonStartup, OneDaemonPerStoreAndTheLogIsWrittenAsItHappens) {
    Scratch s;
    auto o = run(s.dgcfs(shell_quote(s.mnt())));
    ASSERT_EQ(o.code, 0) << o.err;
    ASSERT_TRUE(s.wait_mounted(s.mnt()));
    // The lock names the daemon that serves, not the parent that detached.
    const pid_t pid = s.lock_pid();
    ASSERT_TRUE(alive(pid));
    EXPECT_EQ(slurp("/proc/" + std::to_string(pid) + "/comm"), "dgcfs\n");

    fsys::create_directories(s.root() / "mnt2");
    o = run(s.dgcfs(shell_quote(s.root() / "mnt2")));
    EXPECT_EQ(o.code, 1);
    EXPECT_TRUE(contains(o.err, "store " + s.store().string() + " is in use by another dgcfs (pid " +
                                    std::to_string(pid) + ")"))
        << o.err;
    EXPECT_TRUE(contains(o.err, (s.store() / "dgcfs.lock").string())) << o.err;
    EXPECT_FALSE(fsys::exists(s.root() / "mnt2" / "retention"));

    // Flushed as written: the line is there while the daemon still runs; mode 0640.
    EXPECT_TRUE(contains(slurp(s.store() / "dgcfs.log"), "mounted dgcfs on " + s.mnt().string()));
    struct stat st {};
    ASSERT_EQ(::stat((s.store() / "dgcfs.log").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);

    // kill -9 loses nothing logged and frees the store; the next daemon (a service restart)
    // detaches the dead mount it left and mounts on the same directory.
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(wait_until([&] { return !alive(pid); }, 10));
    EXPECT_TRUE(contains(slurp(s.store() / "dgcfs.log"), "mounted dgcfs on " + s.mnt().string()));
    o = run(s.dgcfs(shell_quote(s.mnt())));
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_TRUE(contains(o.err, "Transport endpoint is not connected; detaching the dead mount")) << o.err;
    EXPECT_TRUE(s.wait_mounted(s.mnt()));
    EXPECT_NE(s.lock_pid(), pid);
    EXPECT_TRUE(s.stop(s.mnt()));
}

TEST(DaemonStartup, UsageErrorsExitTwoAndVersionIsTheProjects) {
    Scratch s;
    for (const std::string bin : {"dgcfs", "dgcctl"}) {
        auto o = run(kBin + bin + " --version");
        EXPECT_EQ(o.code, 0);
        EXPECT_EQ(o.out, bin + " " + DGC_PROJECT_VERSION + "\n");
        o = run(kBin + bin + (bin == "dgcctl" ? " status /tmp" : " /tmp") + " --no-such-option");
        EXPECT_EQ(o.code, 2) << bin;
        EXPECT_TRUE(contains(o.err, "--no-such-option")) << o.err;
        o = run(kBin + bin + " --help");
        EXPECT_EQ(o.code, 0);
        EXPECT_TRUE(contains(o.out, "--version")) << o.out;
    }
    auto o = run(kBin + "dgcfs a b c");
    EXPECT_EQ(o.code, 2) << o.err;
    o = run(kBin + "dgcfs --workers 0 " + shell_quote(s.mnt()));
    EXPECT_EQ(o.code, 2) << o.err;
    EXPECT_TRUE(contains(o.err, "--workers")) << o.err;
    o = run(kBin + "dgcfs --config " + shell_quote(s.root() / "absent.toml"));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "absent.toml")) << o.err;
    std::ofstream(s.root() / "bad.toml") << "store = \"/tmp/x\"\nno_such_setting = 3\n";
    o = run(kBin + "dgcfs --config " + shell_quote(s.root() / "bad.toml"));
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "dgcfs: config " + (s.root() / "bad.toml").string() + ": ")) << o.err;
    EXPECT_TRUE(contains(o.err, "no_such_setting")) << o.err;
    if (!fsys::exists("/etc/dgcfs/dgcfs.toml")) {
        o = run(kBin + "dgcfs");
        EXPECT_EQ(o.code, 2) << o.err;
        EXPECT_TRUE(contains(o.err, "no mount point given")) << o.err;
    }

    o = run(kBin + "dgcctl");
    EXPECT_EQ(o.code, 2) << o.err;
    o = run(kBin + "dgcctl no-such-command");
    EXPECT_EQ(o.code, 2) << o.err;
    o = run(kBin + "dgcctl status");
    EXPECT_EQ(o.code, 2) << o.err;
    EXPECT_TRUE(contains(o.err, "TARGET")) << o.err;
    o = run(kBin + "dgcctl --log-level loud status /tmp");
    EXPECT_EQ(o.code, 2) << o.err;
    // Global options after the subcommand too; a directory that is no store is a failure (1).
    o = run(kBin + "dgcctl status /tmp --log-level debug");
    EXPECT_EQ(o.code, 1) << o.err;
    EXPECT_TRUE(contains(o.err, "dgcctl status: /tmp: neither a mounted dgcfs volume nor a store")) << o.err;
}

TEST(DaemonStatus, ExitCodeSaysWhetherTheDaemonRunsAndJsonFollowsTheSchema) {
    Scratch s;
    auto o = run(s.dgcfs(shell_quote(s.mnt())));
    ASSERT_EQ(o.code, 0) << o.err;
    ASSERT_TRUE(s.wait_mounted(s.mnt()));
    // Not a capture: accepted raw-only, so the status has a trace without waiting for training.
    ASSERT_EQ(sh("cp /etc/os-release " + shell_quote(s.mnt() / "retention" / "notes.txt")), 0);
    ASSERT_TRUE(wait_until([&] { return contains(run(kBin + "dgcctl status --json " + shell_quote(s.mnt())).out, "notes.txt"); },
                           30));

    o = run(kBin + "dgcctl status --json " + shell_quote(s.mnt()) + " --log-level warn");
    EXPECT_EQ(o.code, 0) << o.err;
    auto j = nlohmann::json::parse(o.out);
    EXPECT_EQ(j["schema"], 1);
    EXPECT_EQ(j["store"], s.store().string());
    EXPECT_EQ(j["daemon"]["running"], true);
    EXPECT_EQ(j["daemon"]["pid"], s.lock_pid());
    EXPECT_EQ(j["daemon"]["mountpoint"], s.mnt().string());
    EXPECT_EQ(j["traces"]["total"], 1);
    for (const char* k : {"staging", "queued", "training", "modelled", "raw-expired", "unmodelable"})
        EXPECT_TRUE(j["traces"]["by_state"][k].is_number_unsigned()) << k;
    for (const char* k : {"jobs", "chunks_total", "chunks_done"}) EXPECT_TRUE(j["queue"][k].is_number()) << k;
    EXPECT_GT(j["bytes"]["accepted"].get<uint64_t>(), 0u);
    for (const char* k : {"raw", "models", "saving"}) EXPECT_TRUE(j["bytes"][k].is_number()) << k;
    EXPECT_TRUE(j["training"].is_array());
    EXPECT_EQ(j["traces"]["by_state"]["unmodelable"], 1);
    ASSERT_EQ(j["unmodelable"].size(), 1u);
    EXPECT_EQ(j["unmodelable"][0]["path"], "notes.txt");
    EXPECT_TRUE(j["recent_errors"].is_array());

    // Into a pipe, --watch never sends terminal control codes.
    // Ten seconds: a loaded machine takes seconds to start dgcctl at all.
    o = run("timeout 10 " + kBin + "dgcctl status --watch --interval 0.5 " + shell_quote(s.mnt()) + " | cat");
    EXPECT_EQ(o.out.find('\x1b'), std::string::npos);
    size_t frames = 0;
    for (size_t at = o.out.find("daemon:     running"); at != std::string::npos; at = o.out.find("daemon:     running", at + 1)) ++frames;
    EXPECT_GE(frames, 2u) << "expected several frames:\n" << o.out;

    ASSERT_TRUE(s.stop(s.mnt()));
    o = run(kBin + "dgcctl status " + shell_quote(s.store()));
    EXPECT_EQ(o.code, 3) << o.out << o.err;
    EXPECT_TRUE(contains(o.out, "daemon:     not running")) << o.out;
    o = run(kBin + "dgcctl status --json " + shell_quote(s.store()));
    EXPECT_EQ(o.code, 3);
    j = nlohmann::json::parse(o.out);
    EXPECT_EQ(j["daemon"]["running"], false);
    EXPECT_TRUE(j["daemon"]["pid"].is_null());
    EXPECT_EQ(j["traces"]["total"], 1);
}

TEST(DaemonMount, MountHelperFormAndFstabOptions) {
    // What mount.fuse3 runs for `mount -t fuse.dgcfs STORE MNT -o ...` and for an fstab line.
    Scratch s;
    auto o = run(kBin + "dgcfs " + shell_quote(s.store()) + " " + shell_quote(s.mnt()) + " -o rw,nofail,_netdev,policy=" +
                 s.policy().string() + ",workers=1,device=cpu,train_steps=40,log_level=warn");
    ASSERT_EQ(o.code, 0) << o.err;
    ASSERT_TRUE(s.wait_mounted(s.mnt()));
    EXPECT_TRUE(wait_until([&] { return fsys::exists(s.store() / "status.json"); }, 5));
    auto st = nlohmann::json::parse(slurp(s.store() / "status.json"));
    EXPECT_EQ(st["store"], s.store().string());
    EXPECT_EQ(st["policy_file"], s.policy().string());
    EXPECT_FALSE(contains(slurp(s.store() / "dgcfs.log"), "mounted dgcfs")) << "log_level=warn not applied";
    EXPECT_TRUE(s.stop(s.mnt()));

    // mount(8) itself, through mount.fuse3. An installed dgcfs is found as `-t fuse.dgcfs`;
    // this build's is named by mount.fuse3's PROGRAM#SOURCE form.
    if (::geteuid() == 0 && fsys::exists("/sbin/mount.fuse3")) {
        o = run("mount -t fuse " + shell_quote(kBin + "dgcfs#" + s.store().string()) + " " + shell_quote(s.mnt()) +
                " -o policy=" + s.policy().string() + ",workers=1,device=cpu");
        ASSERT_EQ(o.code, 0) << o.err;
        ASSERT_TRUE(s.wait_mounted(s.mnt()));
        EXPECT_TRUE(contains(slurp("/proc/mounts"), s.mnt().string() + " fuse.dgcfs"));
        EXPECT_TRUE(s.stop(s.mnt()));
    }
}

TEST(DaemonMount, ConfigFileAndReadinessNotification) {
    Scratch s;
    const fsys::path config = s.root() / "dgcfs.toml";
    std::ofstream(config) << "store = \"" << s.store().string() << "\"\nmountpoint = \"" << s.mnt().string()
                          << "\"\npolicy = \"" << s.policy().string() << "\"\nworkers = 1\ndevice = \"cpu\"\n";
    // systemd's side of Type=notify: a datagram socket named by NOTIFY_SOCKET.
    const fsys::path sock_path = s.root() / "notify.sock";
    int sock = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    ASSERT_GE(sock, 0);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    struct timeval tv {30, 0};
    ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    // In the foreground, as the service runs it.
    const std::string cmd = "NOTIFY_SOCKET=" + sock_path.string() + " " + kBin + "dgcfs -f --config " + shell_quote(config) +
                            " >" + shell_quote(s.root() / "fg.log") + " 2>&1 &";
    ASSERT_EQ(sh(cmd), 0);
    char buf[256] = {};
    const ssize_t n = ::recv(sock, buf, sizeof buf - 1, 0);
    ::close(sock);
    const std::string msg(buf, n > 0 ? static_cast<size_t>(n) : 0);
    const bool mounted_at_ready = fsys::exists(s.mnt() / "retention");
    EXPECT_TRUE(s.wait_mounted(s.mnt()));
    ASSERT_GT(n, 0) << "no readiness notification within 30 s; output:\n" << slurp(s.root() / "fg.log");
    EXPECT_TRUE(contains(msg, "READY=1")) << msg;
    EXPECT_TRUE(mounted_at_ready) << "READY=1 came before the volume was mounted";
    EXPECT_TRUE(contains(msg, "MAINPID=" + std::to_string(s.lock_pid()))) << msg;
    EXPECT_TRUE(s.stop(s.mnt()));
}

TEST(DaemonMetrics, NodeExporterServesTheMetricsFile) {
    const std::string exporter = "/usr/bin/prometheus-node-exporter";
    ASSERT_TRUE(fsys::exists(exporter)) << exporter << " is missing (tools/install-deps.sh installs it)";
    Scratch s;
    const fsys::path dir = s.root() / "textfile";
    fsys::create_directories(dir);
    auto o = run(s.dgcfs("--metrics-file " + shell_quote(dir / "dgcfs.prom") + " --metrics-interval 1 " + shell_quote(s.mnt())));
    ASSERT_EQ(o.code, 0) << o.err;
    ASSERT_TRUE(s.wait_mounted(s.mnt()));
    ASSERT_EQ(sh("cp /etc/os-release " + shell_quote(s.mnt() / "retention" / "notes.txt")), 0);
    ASSERT_TRUE(wait_until([&] { return contains(slurp(dir / "dgcfs.prom"), "dgcfs_traces{state=\"unmodelable\"} 1"); },
                           30))
        << slurp(dir / "dgcfs.prom");

    // A real scrape: node_exporter's textfile collector parses the file and serves it.
    const std::string port = std::to_string(20000 + ::getpid() % 20000);
    ASSERT_EQ(sh(exporter + " --web.listen-address=127.0.0.1:" + port + " --collector.disable-defaults" +
                 " --collector.textfile --collector.textfile.directory=" + shell_quote(dir) + " >" +
                 shell_quote(s.root() / "exporter.log") + " 2>&1 & echo $! >" + shell_quote(s.root() / "exporter.pid")),
              0);
    std::string scraped;
    wait_until([&] {
        scraped = run("curl -sf http://127.0.0.1:" + port + "/metrics").out;
        return contains(scraped, "dgcfs_up");
    }, 20);
    ::kill(std::stoi(slurp(s.root() / "exporter.pid")), SIGTERM);
    EXPECT_TRUE(contains(scraped, "dgcfs_up 1")) << scraped << slurp(s.root() / "exporter.log");
    EXPECT_TRUE(contains(scraped, "dgcfs_traces{state=\"unmodelable\"} 1")) << scraped;
    EXPECT_TRUE(contains(scraped, "dgcfs_raw_bytes ")) << scraped;
    EXPECT_TRUE(contains(scraped, "node_textfile_scrape_error 0")) << scraped;

    // Unmounting leaves a last word: the daemon is down.
    ASSERT_TRUE(s.stop(s.mnt()));
    EXPECT_TRUE(contains(slurp(dir / "dgcfs.prom"), "dgcfs_up 0")) << slurp(dir / "dgcfs.prom");
    EXPECT_EQ(std::distance(fsys::directory_iterator(dir), fsys::directory_iterator()), 1) << "temporary files left";

    o = run(s.dgcfs("--metrics-file " + shell_quote(s.root() / "no-dir" / "dgcfs.prom") + " " + shell_quote(s.mnt())));
    EXPECT_EQ(o.code, 1);
    EXPECT_TRUE(contains(o.err, "metrics file " + (s.root() / "no-dir" / "dgcfs.prom").string() + ": ")) << o.err;
}

TEST(MountArgs, SplitsOwnOptionsFromKernelOnes) {
    const std::set<std::string> own = {"store", "policy", "train-steps", "sync-close"};
    using V = std::vector<std::string>;
    EXPECT_EQ(tools::translate_mount_args({"/s", "/m", "-o", "rw,policy=/p.toml,train_steps=2,allow_other,nofail"}, own),
              (V{"/s", "/m", "--policy=/p.toml", "--train-steps=2", "-o", "rw,allow_other"}));
    EXPECT_EQ(tools::translate_mount_args({"-odefaults,_netdev,x-systemd.automount,sync_close", "/m"}, own),
              (V{"--sync-close", "/m"}));
    EXPECT_EQ(tools::translate_mount_args({"-o", "ro", "-f", "/m", "-o", "allow_other"}, own),
              (V{"-f", "/m", "-o", "ro,allow_other"}));
    EXPECT_EQ(tools::translate_mount_args({"--store", "/s", "/m"}, own), (V{"--store", "/s", "/m"}));
}

}  // namespace
}  // namespace dgc::fs::test
