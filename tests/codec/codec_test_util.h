// Helpers for the codec tests: hex byte literals, tiny capture files built in the test,
// a per-process temp dir, and running the reference tools (capinfos, tshark).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codec/record.h"

namespace dgc::test {

// "45 00 00 28 ..." (spaces and newlines ignored) to bytes.
std::string hex(const std::string& text);

// Classic pcap file header / record, written in either byte order.
std::string pcap_header(uint32_t linktype, bool nanosecond = false, bool big_endian = false,
                        uint32_t snaplen = 65535, uint16_t vmaj = 2, uint16_t vmin = 4);
std::string pcap_record(uint32_t sec, uint32_t frac, const std::string& frame, uint32_t wirelen = 0,
                        bool big_endian = false);

// pcapng blocks (little endian). Options are given as (code, value) pairs.
using PcapngOptions = std::vector<std::pair<uint16_t, std::string>>;
std::string pcapng_shb(uint16_t vmaj = 1, uint16_t vmin = 0, const PcapngOptions& opts = {});
std::string pcapng_idb(uint16_t linktype, uint32_t snaplen = 0, const PcapngOptions& opts = {});
std::string pcapng_epb(uint32_t if_id, uint64_t ticks, const std::string& frame, uint32_t wirelen = 0);
std::string pcapng_spb(const std::string& frame, uint32_t wirelen = 0);
std::string pcapng_block(uint32_t type, const std::string& body);

// Frames: Ethernet + IPv4 + TCP with the given options length, ports 1234 -> 80.
std::string eth_ipv4_tcp_frame(uint8_t tcp_opt_len = 0);

// A fresh directory under $TMPDIR for this test process; removed at exit.
const std::string& temp_dir();
std::string write_temp(const std::string& name, const std::string& bytes);
std::string read_file(const std::string& path);
// Deterministic pseudo-random bytes: the garbage of damaged-capture tests.
std::string random_bytes(size_t n, uint32_t seed);

struct CommandResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};
CommandResult run_command(const std::string& cmd);
bool have_tool(const std::string& name);

// Every regular file in a directory, sorted (for parameterised corpus tests).
std::vector<std::string> files_in(const std::string& dir);
std::string base_name(const std::string& path);

}  // namespace dgc::test
