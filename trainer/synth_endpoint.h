// A flow end as the record generator builds it, and the hashed keys it finds flows and
// connections by (their arithmetic is pinned by the golden fixtures: same keys, same bytes).
#pragma once

#include <array>
#include <cstdint>

#include "trainer/chunk_tokens.h"
#include "trainer/rng.h"

namespace dgc::trainer {

struct Endpoint {
    std::array<uint8_t, 16> addr{};
    std::array<uint8_t, 6> mac{};
    uint16_t port = 0;
    uint8_t ttl = 64, tos = 0;
    uint16_t window = 0;
    uint32_t next_seq = 0;
    uint32_t syn_seq = 0;
    uint32_t last_seq = 0, last_payload = 0;  // its last data segment
    TcpStack stack;
    uint32_t ts_base = 0;  // its timestamp clock at the chunk's start (1 kHz)
    uint32_t ts_seen = 0;  // the peer's latest timestamp it has received
};

// RFC 6335's dynamic range, where clients' ephemeral ports are and no service listens.
inline constexpr uint16_t kFirstDynamicPort = 49152;
// A client's fresh ephemeral port.
inline uint16_t ephemeral_port(Rng& rng) { return static_cast<uint16_t>(kFirstDynamicPort + rng.below(16384)); }

// `h` with an address's two words folded in.
uint64_t fold_addr(uint64_t h, const std::array<uint8_t, 16>& a);
// An address as one word, hashed.
uint64_t addr_word(const std::array<uint8_t, 16>& a);
// A connection's hosts and server port, hashed (the client port aside).
uint64_t conn_key(const Endpoint& client, const Endpoint& server);
// A client host and a server host, hashed (the ports aside).
uint64_t host_pair_key(const Endpoint& client, const Endpoint& server);
// A client host and the server port it talks to, hashed.
uint64_t client_key(const Endpoint& client, uint16_t server_port);
// The spec's flow key (protocol and the unordered endpoint pair), hashed.
uint64_t flow_key(uint8_t proto, const Endpoint& a, const Endpoint& b);

}  // namespace dgc::trainer
