#include "bench_mount.h"

#include <pcap/pcap.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace dgc::tools {

namespace fsys = std::filesystem;

double seconds_of(const std::function<int()>& f, int* rc) {
    auto t0 = std::chrono::steady_clock::now();
    int r = f();
    if (rc) *rc = r;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

long count_packets(const std::string& path) {
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), eb);
    if (!p) return -1;
    long n = 0;
    struct pcap_pkthdr* h;
    const u_char* d;
    while (pcap_next_ex(p, &h, &d) == 1) ++n;
    pcap_close(p);
    return n;
}

std::string dgcfs_binary(const std::string& given) {
    if (!given.empty()) return given;
    return (fsys::read_symlink("/proc/self/exe").parent_path() / "dgcfs").string();
}

bool Daemon::start(const std::string& bin, const std::string& store, const std::string& policy, const std::string& m,
                   const std::string& log, const std::vector<std::string>& args) {
    mnt = m;
    std::vector<std::string> argv = {bin, "-f", "--store", store, "--policy", policy};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(m);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid = ::fork();
    if (pid == 0) {
        FILE* f = std::freopen(log.c_str(), "a", stderr);
        (void)f;
        ::execv(bin.c_str(), cargv.data());
        std::_Exit(127);
    }
    for (int i = 0; i < 300; ++i) {
        if (fsys::exists(fsys::path(m) / "retention")) return true;
        if (::waitpid(pid, nullptr, WNOHANG) == pid) {
            pid = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

void Daemon::stop() {
    if (pid <= 0) return;
    // A daemon that never mounted has nothing to unmount: it is told to stop instead.
    if (sh("fusermount3 -u '" + mnt + "' 2>/dev/null") != 0) ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
}

}  // namespace dgc::tools
