#include "trainer/synth_endpoint.h"

#include <algorithm>

#include "trainer/rng.h"

namespace dgc::trainer {

uint64_t fold_addr(uint64_t h, const std::array<uint8_t, 16>& a) {
    for (int i = 0; i < 16; i += 8) {
        uint64_t w = 0;
        for (int k = 0; k < 8; ++k) w = w << 8 | a[i + k];
        h = mix64(h ^ w);
    }
    return h;
}

uint64_t addr_word(const std::array<uint8_t, 16>& a) { return fold_addr(0, a); }

uint64_t conn_key(const Endpoint& client, const Endpoint& server) {
    return fold_addr(fold_addr(server.port, client.addr), server.addr);
}

uint64_t host_pair_key(const Endpoint& client, const Endpoint& server) {
    Endpoint c = client, sv = server;
    c.port = sv.port = 0;
    return conn_key(c, sv);
}

uint64_t client_key(const Endpoint& client, uint16_t server_port) {
    Endpoint any_server;
    any_server.port = server_port;
    return conn_key(client, any_server);
}

uint64_t flow_key(uint8_t proto, const Endpoint& a, const Endpoint& b) {
    const uint64_t x = fold_addr(a.port, a.addr), y = fold_addr(b.port, b.addr);
    return mix64(std::min(x, y) ^ mix64(std::max(x, y) ^ proto));
}

}  // namespace dgc::trainer
