// Test fixture: a real dgcfs daemon mounted on a temporary directory. Without /dev/fuse
// the tests fail loudly: an integration test that silently skips proves nothing.
#pragma once

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dgc::fs::test {

namespace fsys = std::filesystem;

inline std::string data_path(const std::string& rel) { return std::string(DGC_SHARED_DATA) + "/pcaps/" + rel; }

inline std::string slurp(const fsys::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

// Frames libpcap reads from `path`, or -1 with the error in `err`.
inline long pcap_count(const std::string& path, std::string* err = nullptr) {
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), eb);
    if (!p) {
        if (err) *err = eb;
        return -1;
    }
    long n = 0;
    struct pcap_pkthdr* h;
    const u_char* d;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) ++n;
    if (rc == PCAP_ERROR && err) *err = pcap_geterr(p);
    pcap_close(p);
    return rc == PCAP_ERROR ? -1 : n;
}

inline bool wait_until(const std::function<bool()>& pred, double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
}

class MountedVolume {
public:
    // Small chunks and a 1 s training budget keep each test to seconds on 2 cores.
    explicit MountedVolume(const std::string& policy_body = "", const std::string& name = "it") {
        root_ = fsys::temp_directory_path() / ("dgcfs-" + name + "-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(counter()++));
        fsys::remove_all(root_);
        fsys::create_directories(mnt());
        fsys::create_directories(store());
        policy_body_ = policy_body;
        write_policy();
    }
    ~MountedVolume() {
        if (pid_ > 0) stop();
        if (!::testing::Test::HasFailure()) fsys::remove_all(root_);
    }

    // Before start(): a test that must watch training in progress gives it longer to run.
    void set_train_steps(int steps) { train_steps_ = std::to_string(steps); }
    void set_workers(int workers) { workers_ = std::to_string(workers); }
    // Before start(): the [training] table is this fixture's, so a test sets its chunk size here.
    void set_chunk_packets(int packets) {
        chunk_packets_ = packets;
        write_policy();
    }

    fsys::path mnt() const { return root_ / "mnt"; }
    fsys::path store() const { return root_ / "store"; }
    fsys::path retention() const { return mnt() / "retention"; }
    fsys::path archive() const { return mnt() / "archive"; }
    fsys::path log() const { return root_ / "daemon.log"; }

    void start(const std::vector<std::string>& extra_args = {}) {
        ASSERT_TRUE(fsys::exists("/dev/fuse")) << "/dev/fuse is missing: integration tests need FUSE "
                                                  "(load the fuse module / run the container with --device /dev/fuse)";
        const std::string bin = std::string(DGC_BINARY_DIR) + "/tools/dgcfs";
        ASSERT_TRUE(fsys::exists(bin)) << bin << " not built";
        pid_ = ::fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            FILE* out = std::freopen(log().c_str(), "a", stderr);
            (void)out;
            ::dup2(STDERR_FILENO, STDOUT_FILENO);
            std::vector<std::string> args = {bin,          "-f",      "--store", store().string(), "--policy",
                                             (root_ / "policy.toml").string(), "--train-steps", train_steps_,
                                             "--workers",  workers_,  "--device", "cpu", "--log-level", "debug"};
            args.insert(args.end(), extra_args.begin(), extra_args.end());
            args.push_back(mnt().string());
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(bin.c_str(), argv.data());
            std::_Exit(127);
        }
        int status = 0;
        bool exited = false;
        bool up = wait_until(
            [&] {
                exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
                return exited || fsys::exists(retention());
            },
            30);
        if (exited) pid_ = -1;
        ASSERT_FALSE(exited) << "dgcfs exited (status " << status << ") instead of mounting; log:\n" << slurp(log());
        ASSERT_TRUE(up) << "dgcfs did not mount within 30 s; log:\n" << slurp(log());
    }

    // Clean unmount; the daemon finishes in-flight work and exits.
    void stop() {
        if (pid_ <= 0) return;
        sh("fusermount3 -u '" + mnt().string() + "'");
        int status = 0;
        bool exited = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 60);
        if (!exited) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
        EXPECT_TRUE(exited) << "dgcfs did not exit within 60 s of fusermount3 -u";
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "dgcfs exit status " << status;
    }

    // The crash: no chance to finish anything.
    void kill9() {
        ASSERT_GT(pid_, 0);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        sh("fusermount3 -u -z '" + mnt().string() + "' 2>/dev/null");
    }

    void signal(int sig) const {
        ASSERT_GT(pid_, 0);
        ::kill(pid_, sig);
    }
    fsys::path policy_path() const { return root_ / "policy.toml"; }

    std::string xattr(const fsys::path& p, const std::string& name) const {
        char buf[4096];
        ssize_t n = ::getxattr(p.c_str(), ("user.dgcfs." + name).c_str(), buf, sizeof buf);
        return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
    }

    // Copies a shared capture in with cp(1), like an operator would.
    void cp_in(const std::string& shared_rel, const std::string& dest_rel) const {
        ASSERT_EQ(sh("cp '" + data_path(shared_rel) + "' '" + (retention() / dest_rel).string() + "'"), 0);
    }

    bool wait_archived(const std::string& rel, double seconds = 90) const {
        return wait_until([&] { return fsys::exists(archive() / rel); }, seconds);
    }

    std::string daemon_log() const { return slurp(log()); }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    void write_policy() const {
        std::ofstream(policy_path()) << "[training]\nchunk_packets = " << chunk_packets_ << "\nchunk_seconds = 3600\n"
                                     << "quiet_ms = 300\n\n"
                                     << policy_body_ << "\n";
    }

    fsys::path root_;
    std::string policy_body_;
    int chunk_packets_ = 4000;
    pid_t pid_ = -1;
    std::string train_steps_ = "40";
    std::string workers_ = "1";
};

}  // namespace dgc::fs::test
