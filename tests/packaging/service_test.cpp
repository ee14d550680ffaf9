// The package's service where systemd does not run (README, "Debian package"): build the
// .deb with cpack, extract it into a scratch root as dpkg would install it, and do what
// systemd does for dgcfs.service: run its ExecStart line (read from the installed unit) with
// NOTIFY_SOCKET set, wait for READY=1, then stop it the unit's way (no ExecStop: KillSignal
// to the main process). The installed /etc/dgcfs/dgcfs.toml is used with its store and
// mount point moved into the scratch directory. Between start and stop, the volume takes a
// real capture and `dgcctl status --json` (the packaged one) says the daemon runs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>

#include <regex>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

// One line of a unit file's [Service] section: "" when absent.
std::string unit_setting(const std::string& unit, const std::string& key) {
    std::istringstream in(unit);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    return {};
}

// ExecStart's words as systemd splits them (whitespace; double quotes group), without the
// "-@+!" prefixes that only change how systemd treats the result.
std::vector<std::string> split_command_line(std::string line) {
    while (!line.empty() && std::string("-@+!:").find(line[0]) != std::string::npos) line.erase(0, 1);
    std::vector<std::string> words;
    std::string w;
    bool quoted = false, any = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted, any = true;
        else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
            if (any) words.push_back(w);
            w.clear(), any = false;
        } else w += c, any = true;
    }
    if (any) words.push_back(w);
    return words;
}

// `key = "value"` lines of the installed config, with `value` replaced.
std::string set_toml_string(std::string toml, const std::string& key, const std::string& value) {
    const std::regex line("(^|\n)" + key + " *= *\"[^\"]*\"");
    EXPECT_TRUE(std::regex_search(toml, line)) << key << " is not in the shipped dgcfs.toml:\n" << toml;
    return std::regex_replace(toml, line, "$1" + key + " = \"" + value + "\"");
}

struct Outcome {
    int code = -1;
    std::string out;
};

Outcome capture(const std::string& cmd) {
    Outcome o;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    for (size_t n; p && (n = std::fread(buf, 1, sizeof buf, p)) > 0;) o.out.append(buf, n);
    const int st = p ? ::pclose(p) : -1;
    o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return o;
}

bool mounted(const fsys::path& p) { return slurp("/proc/mounts").find(" " + p.string() + " fuse") != std::string::npos; }

class ServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        work_ = fsys::temp_directory_path() / ("dgcfs-service-" + std::to_string(::getpid()));
        fsys::remove_all(work_);
        fsys::create_directories(work_ / "out");
    }
    void TearDown() override {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        sh("fusermount3 -u -z '" + (work_ / "srv" / "dgcfs").string() + "' 2>/dev/null");
        if (sock_ >= 0) ::close(sock_);
        if (!HasFailure()) fsys::remove_all(work_);
    }

    // systemd's end of Type=notify: a datagram socket it names in NOTIFY_SOCKET.
    void listen_for_notify() {
        sock_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(sock_, 0);
        struct sockaddr_un addr {};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, notify_path().c_str(), sizeof addr.sun_path - 1);
        ASSERT_EQ(::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
        struct timeval tv {1, 0};
        ::setsockopt(sock_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    // Datagrams until one holds `what` or `seconds` pass (or the daemon exits).
    std::string wait_notify(const std::string& what, double seconds) {
        std::string all;
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < end && all.find(what) == std::string::npos) {
            char buf[512];
            const ssize_t n = ::recv(sock_, buf, sizeof buf, 0);
            if (n > 0) all += std::string(buf, size_t(n)) + "\n";
            else if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
        }
        return all;
    }
    // The unit's command line, run as systemd runs it: in the foreground, its output to a
    // journal stand-in, NOTIFY_SOCKET in the environment.
    void exec_start(const std::vector<std::string>& argv) {
        pid_ = ::fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            FILE* out = std::freopen((work_ / "journal.log").c_str(), "a", stderr);
            (void)out;
            ::dup2(STDERR_FILENO, STDOUT_FILENO);
            ::setenv("NOTIFY_SOCKET", notify_path().c_str(), 1);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            std::_Exit(127);
        }
    }
    fsys::path notify_path() const { return work_ / "notify.sock"; }
    std::string journal() const { return slurp(work_ / "journal.log"); }

    fsys::path work_;
    pid_t pid_ = -1;
    int status_ = 0;
    int sock_ = -1;
};

TEST_F(ServiceTest, InstalledUnitStartsNotifiesAndStopsCleanlyWithoutSystemd) {
    ASSERT_TRUE(fsys::exists("/dev/fuse")) << "/dev/fuse is missing: the service cannot mount";
    // The package, as packaging_test builds it.
    const std::string cpack = "cd '" + work_.string() + "' && cpack -G DEB --config '" DGC_BINARY_DIR
                              "/CPackConfig.cmake' -B '" + (work_ / "out").string() + "' 2>&1";
    const Outcome built = capture(cpack);
    ASSERT_EQ(built.code, 0) << built.out;
    fsys::path deb;
    for (const auto& e : fsys::directory_iterator(work_ / "out"))
        if (e.path().extension() == ".deb") deb = e.path();
    ASSERT_FALSE(deb.empty()) << built.out;
    const fsys::path root = work_ / "root";
    ASSERT_EQ(sh("dpkg-deb -x '" + deb.string() + "' '" + root.string() + "'"), 0);

    // What systemd would read.
    const std::string unit = slurp(root / "lib/systemd/system/dgcfs.service");
    ASSERT_FALSE(unit.empty()) << "no lib/systemd/system/dgcfs.service in " << deb;
    EXPECT_EQ(unit_setting(unit, "Type"), "notify");
    EXPECT_TRUE(unit_setting(unit, "ExecStop").empty()) << "the stop path below is KillSignal's";
    EXPECT_EQ(unit_setting(unit, "KillSignal"), "SIGTERM");
    std::vector<std::string> argv = split_command_line(unit_setting(unit, "ExecStart"));
    ASSERT_GE(argv.size(), 1u) << unit;
    // Installed paths live under the scratch root instead of /.
    for (auto& a : argv)
        if (!a.empty() && a[0] == '/') {
            EXPECT_TRUE(fsys::exists(root / a.substr(1))) << a << " is not installed by the package";
            a = (root / a.substr(1)).string();
        }
    EXPECT_EQ(argv[0], (root / "usr/bin/dgcfs").string());

    // The shipped config, its store and mount point moved here; everything else as shipped.
    const fsys::path config = root / "etc/dgcfs/dgcfs.toml";
    std::string toml = slurp(config);
    toml = set_toml_string(toml, "store", (work_ / "var/lib/dgcfs").string());
    toml = set_toml_string(toml, "mountpoint", (work_ / "srv/dgcfs").string());
    toml = set_toml_string(toml, "policy", (root / "etc/dgcfs/policy.toml").string());
    std::ofstream(config) << toml;
    const fsys::path mnt = work_ / "srv/dgcfs";

    listen_for_notify();
    exec_start(argv);
    const std::string notified = wait_notify("READY=1", 60);
    const bool was_mounted = mounted(mnt);
    ASSERT_NE(notified.find("READY=1"), std::string::npos) << "no READY=1 within 60 s:\n" << notified << journal();
    EXPECT_TRUE(was_mounted) << "READY=1 came before " << mnt << " was mounted";
    EXPECT_NE(notified.find("MAINPID=" + std::to_string(pid_)), std::string::npos) << notified;

    // A mounted volume: a capture goes in with cp and reads back byte for byte.
    const std::string pcap = data_path("dev/nDPI__gnutella.pcap");
    ASSERT_EQ(sh("cp '" + pcap + "' '" + (mnt / "retention/day1.pcap").string() + "'"), 0);
    EXPECT_EQ(sh("cmp -s '" + pcap + "' '" + (mnt / "retention/day1.pcap").string() + "'"), 0);

    // The packaged dgcctl: status --json parses, exit 0, the daemon we started.
    const std::string dgcctl = (root / "usr/bin/dgcctl").string();
    Outcome st;
    ASSERT_TRUE(wait_until([&] { return (st = capture("'" + dgcctl + "' status --json '" + mnt.string() + "'")).code == 0; }, 10))
        << st.code << " " << st.out;
    auto j = nlohmann::json::parse(st.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << st.out;
    EXPECT_EQ(j["schema"], 1);
    EXPECT_EQ(j["daemon"]["running"], true);
    EXPECT_EQ(j["daemon"]["pid"], pid_);
    EXPECT_EQ(j["daemon"]["mountpoint"], mnt.string());
    EXPECT_EQ(j["store"], (work_ / "var/lib/dgcfs").string());

    // systemctl stop: the unit's KillSignal to the main process; a clean unmount, exit 0.
    ASSERT_GT(pid_, 0) << "the daemon exited by itself:\n" << journal();
    ::kill(pid_, SIGTERM);
    const bool exited = wait_until([&] { return ::waitpid(pid_, &status_, WNOHANG) == pid_; }, 120);
    ASSERT_TRUE(exited) << "dgcfs still runs 120 s after SIGTERM:\n" << journal();
    pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status_) && WEXITSTATUS(status_) == 0) << "status " << status_ << "\n" << journal();
    EXPECT_FALSE(mounted(mnt)) << mnt << " is still mounted after stop";
    st = capture("'" + dgcctl + "' status --json '" + (work_ / "var/lib/dgcfs").string() + "'");
    EXPECT_EQ(st.code, 3) << "status says the daemon is down: " << st.out;
    j = nlohmann::json::parse(st.out, nullptr, false);
    EXPECT_EQ(j["daemon"]["running"], false);
    EXPECT_GE(j["traces"]["total"].get<int>(), 1) << "the capture survives the stop";
}

}  // namespace
}  // namespace dgc::fs::test
