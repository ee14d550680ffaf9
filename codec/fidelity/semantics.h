// Traffic semantics (docs/semantics.md): checks that an analyst's tools see the same kind
// of traffic in a synthetic trace as in the real one (TCP connections that open and close,
// SYNs without data, real header lengths and options, exact packet lengths, ICMP types,
// answered UDP, address classes, MAC structure, tshark-style TCP anomalies). Each check is
// a JSD between the real and the synthetic trace's histogram, like the 17 metrics of
// ../shared/spec/fidelity.md, beside a floor from the real trace's two flow-hash halves.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "codec/fidelity/histogram.h"
#include "codec/record.h"

namespace dgc::fidelity {

enum SemanticCheck : int {
    kTcpCompleteness, kSynPayload, kTcpHeader, kExactLen, kIcmpMix, kUdpPairing,
    kAddrClassHosts, kAddrClassPkts, kMacsPerIp, kIpsPerMac, kTcpAnomaly, kTcpAnomalyDirs,
    kSemanticCount
};

// Names as `dgcctl eval` and its --json print them (docs/semantics.md).
inline constexpr std::array<std::string_view, kSemanticCount> kSemanticNames = {
    "tcp_completeness", "syn_payload", "tcp_header", "exact_len", "icmp_mix", "udp_pairing",
    "addr_class_hosts", "addr_class_pkts", "macs_per_ip", "ips_per_mac", "tcp_anomaly", "tcp_anomaly_dirs"};

// A check passes when its value is at most its floor plus this (issue 11's target).
inline constexpr double kSemanticMargin = 0.05;

// One trace's histograms, one per check. exact_len holds the raw per-length counts: its
// bins depend on both traces and are drawn when two profiles are compared.
struct SemanticProfile {
    std::array<Histogram, kSemanticCount> checks;
};

SemanticProfile profile_semantics(std::span<const PacketRecord> records);

struct SemanticSet {
    std::array<std::optional<double>, kSemanticCount> checks{};  // nullopt: no samples on either side
    std::optional<double> mean;                                   // over the defined checks
};

SemanticSet compare_semantics(const SemanticProfile& real, const SemanticProfile& synth);
SemanticSet semantics(std::span<const PacketRecord> real, std::span<const PacketRecord> synth);
// compare_semantics between REAL's split_by_flow_hash halves.
SemanticSet semantics_floor(std::span<const PacketRecord> real);

// value <= floor + kSemanticMargin; nullopt when the value is undefined. An undefined
// floor (REAL has no samples) with a defined value (only SYNTH has some) fails.
std::optional<bool> semantic_pass(const std::optional<double>& value, const std::optional<double>& floor);
// How many defined checks fail semantic_pass.
int semantic_failures(const SemanticSet& score, const SemanticSet& floor);

// ---- Building blocks, exposed for the tests and for tools that explain a score. ----

// TCP payload bytes: ip_len - IP header - TCP header (options included), 0 when negative.
// The record has no IHL, so the IP header counts 20 (IPv4) or 40 (IPv6) bytes.
uint32_t tcp_payload_bytes(const PacketRecord& r);

// tshark's tcp.completeness bits.
enum CompletenessBits : uint8_t {
    kCmpSyn = 1, kCmpSynAck = 2, kCmpAck = 4, kCmpData = 8, kCmpFin = 16, kCmpRst = 32
};

// What sequence analysis says of one TCP segment (one verdict each, in this priority).
enum SegmentVerdict : uint8_t {
    kSegOk, kSegGap, kSegKeepAlive, kSegOutOfOrder, kSegRetrans, kSegAckUnseen, kSegVerdictCount,
    kSegNotTcp = 0xff  // record is not a TCP segment with a full header
};
inline constexpr std::array<std::string_view, kSegVerdictCount> kSegVerdictNames = {
    "ok", "gap", "keepalive", "out_of_order", "retrans", "ack_unseen"};

struct TcpConnection {
    uint32_t first_record = 0;            // index of its first segment
    uint8_t completeness = 0;             // CompletenessBits
    std::array<uint32_t, 2> segments{};   // per direction (0: the key's smaller endpoint)
    std::array<uint32_t, 2> anomalous{};  // per direction: segments with a verdict other than ok / keepalive
    std::array<uint8_t, 2> anomalies{};   // per direction: bit v set when a segment got that verdict v
};

// tcp_anomaly_dirs' rate class of `anomalous` of `segments`: 0 for none, else
// 1 + bit_length(floor(64 * anomalous / segments)) (1..8, about one class per doubling).
uint64_t anomaly_rate_class(uint32_t anomalous, uint32_t segments);

struct TcpAnalysis {
    std::vector<TcpConnection> connections;  // in order of first segment
    std::vector<uint8_t> verdict;            // per record: SegmentVerdict
};

// Connections (4-tuple, split by a 60 s gap and by a SYN that is not a retransmission of
// the connection's own SYN) and per-segment sequence analysis, with 32-bit wraparound.
TcpAnalysis analyze_tcp(std::span<const PacketRecord> records);

// Deliberately independent of codec/address_class.h, which the generator uses: a yardstick
// that shared the generator's classifier would hide that classifier's mistakes.
enum class AddressClass : uint8_t {
    kV4Unspecified, kV4Private10, kV4Private172, kV4Private192, kV4Shared, kV4Loopback, kV4LinkLocal,
    kV4Multicast, kV4LimitedBroadcast, kV4DirectedBroadcast, kV4Reserved, kV4Documentation, kV4Public,
    kV6Unspecified, kV6Loopback, kV6V4Mapped, kV6LinkLocal, kV6Ula, kV6Multicast, kV6Documentation,
    kV6Global, kV6Other,
    kCount
};
AddressClass address_class(const std::array<uint8_t, 16>& addr, uint8_t ip_version);
std::string_view address_class_name(AddressClass c);

// Bin of macs_per_ip: n itself up to 8, then one bin per power of two.
uint64_t small_count_bin(uint64_t n);
// Bin of ips_per_mac for a MAC carrying n of the trace's total distinct IPs: 0 for one IP;
// else by n / total: 1 below 10 %, 2 below 50 %, 3 from 50 % (a gateway), so that the bin
// does not move with volume (the floor's halves see half the IPs behind one gateway).
uint64_t share_bin(uint64_t n, uint64_t total);

}  // namespace dgc::fidelity
