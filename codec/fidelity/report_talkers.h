// The report's side-by-side tables: top talkers (source addresses by IP packets sent) and
// the protocol mix, for the real and the synthetic trace.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/fidelity/histogram.h"
#include "codec/record.h"

namespace dgc::fidelity {

struct Talker {
    std::string address;  // dotted IPv4 or RFC 5952 IPv6
    uint64_t packets = 0;
};

// The n source addresses with the most IP packets, most first; ties by address text.
std::vector<Talker> top_talkers(std::span<const PacketRecord> records, size_t n);

std::string address_text(const std::array<uint8_t, 16>& addr, uint8_t ip_version);

struct ProtoShare {
    uint64_t proto = 0;
    double real = 0, synth = 0;  // share of IP packets
};

// Both traces' `proto` histograms merged, by combined share, largest first.
std::vector<ProtoShare> protocol_mix(const Histogram& real, const Histogram& synth);

}  // namespace dgc::fidelity
