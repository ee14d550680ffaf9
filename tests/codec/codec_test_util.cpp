#include "codec_test_util.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "codec/byte_order.h"

namespace dgc::test {
namespace fs = std::filesystem;

std::string hex(const std::string& text) {
    std::string out;
    int hi = -1;
    for (char c : text) {
        int v;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        } else {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<char>(hi << 4 | v));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

namespace {
void put16(std::string& s, uint16_t v, bool be) {
    uint8_t b[2];
    (be ? store_be16 : store_le16)(b, v);
    s.append(reinterpret_cast<char*>(b), 2);
}
void put32(std::string& s, uint32_t v, bool be) {
    uint8_t b[4];
    (be ? store_be32 : store_le32)(b, v);
    s.append(reinterpret_cast<char*>(b), 4);
}
void pad4(std::string& s) {
    while (s.size() % 4) s.push_back('\0');
}
std::string options_bytes(const PcapngOptions& opts) {
    std::string s;
    if (opts.empty()) return s;
    for (const auto& [code, value] : opts) {
        put16(s, code, false);
        put16(s, static_cast<uint16_t>(value.size()), false);
        s += value;
        pad4(s);
    }
    put32(s, 0, false);  // opt_endofopt
    return s;
}
}  // namespace

std::string pcap_header(uint32_t linktype, bool nanosecond, bool big_endian, uint32_t snaplen, uint16_t vmaj,
                        uint16_t vmin) {
    std::string s;
    put32(s, nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, big_endian);
    put16(s, vmaj, big_endian);
    put16(s, vmin, big_endian);
    put32(s, 0, big_endian);
    put32(s, 0, big_endian);
    put32(s, snaplen, big_endian);
    put32(s, linktype, big_endian);
    return s;
}

std::string pcap_record(uint32_t sec, uint32_t frac, const std::string& frame, uint32_t wirelen, bool big_endian) {
    std::string s;
    put32(s, sec, big_endian);
    put32(s, frac, big_endian);
    put32(s, static_cast<uint32_t>(frame.size()), big_endian);
    put32(s, wirelen ? wirelen : static_cast<uint32_t>(frame.size()), big_endian);
    return s + frame;
}

std::string pcapng_block(uint32_t type, const std::string& body) {
    std::string b = body;
    pad4(b);
    const uint32_t len = static_cast<uint32_t>(b.size() + 12);
    std::string s;
    put32(s, type, false);
    put32(s, len, false);
    s += b;
    put32(s, len, false);
    return s;
}

std::string pcapng_shb(uint16_t vmaj, uint16_t vmin, const PcapngOptions& opts) {
    std::string body;
    put32(body, 0x1a2b3c4d, false);
    put16(body, vmaj, false);
    put16(body, vmin, false);
    put32(body, 0xffffffff, false);  // section length unknown
    put32(body, 0xffffffff, false);
    return pcapng_block(0x0a0d0d0a, body + options_bytes(opts));
}

std::string pcapng_idb(uint16_t linktype, uint32_t snaplen, const PcapngOptions& opts) {
    std::string body;
    put16(body, linktype, false);
    put16(body, 0, false);
    put32(body, snaplen, false);
    return pcapng_block(1, body + options_bytes(opts));
}

std::string pcapng_epb(uint32_t if_id, uint64_t ticks, const std::string& frame, uint32_t wirelen) {
    std::string body;
    put32(body, if_id, false);
    put32(body, static_cast<uint32_t>(ticks >> 32), false);
    put32(body, static_cast<uint32_t>(ticks), false);
    put32(body, static_cast<uint32_t>(frame.size()), false);
    put32(body, wirelen ? wirelen : static_cast<uint32_t>(frame.size()), false);
    body += frame;
    return pcapng_block(6, body);
}

std::string pcapng_spb(const std::string& frame, uint32_t wirelen) {
    std::string body;
    put32(body, wirelen ? wirelen : static_cast<uint32_t>(frame.size()), false);
    return pcapng_block(3, body + frame);
}

std::string eth_ipv4_tcp_frame(uint8_t tcp_opt_len) {
    std::string f = hex("00 11 22 33 44 55  66 77 88 99 aa bb  08 00");
    const uint16_t tcp_len = static_cast<uint16_t>(20 + tcp_opt_len);
    std::string ip = hex("45 10 00 00  12 34 40 00  40 06 00 00  0a 00 00 01  0a 00 00 02");
    const uint16_t total = static_cast<uint16_t>(20 + tcp_len + 100);  // 100 payload bytes not captured
    ip[2] = static_cast<char>(total >> 8);
    ip[3] = static_cast<char>(total);
    std::string tcp = hex("04 d2 00 50  00 00 00 01  00 00 00 02  00 18 72 10  00 00 00 00");
    tcp[12] = static_cast<char>((tcp_len / 4) << 4);
    tcp += std::string(tcp_opt_len, '\x01');
    return f + ip + tcp;
}

namespace {
// Created on first use, removed when the test process exits.
struct TempDir {
    std::string path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "dgc-codec-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};
}  // namespace

const std::string& temp_dir() {
    static const TempDir dir;
    return dir.path;
}

std::string write_temp(const std::string& name, const std::string& bytes) {
    const std::string path = temp_dir() + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string g(n, '\0');
    for (char& c : g) c = static_cast<char>(rng());
    return g;
}

CommandResult run_command(const std::string& cmd) {
    CommandResult r;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    const int st = ::pclose(p);
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

bool have_tool(const std::string& name) { return run_command("command -v " + name).exit_code == 0; }

std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> v;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.is_regular_file()) v.push_back(e.path().string());
    }
    std::sort(v.begin(), v.end());
    return v;
}

std::string base_name(const std::string& path) { return fs::path(path).filename().string(); }

}  // namespace dgc::test
