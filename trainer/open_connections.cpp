#include "trainer/open_connections.h"

#include <algorithm>
#include <utility>

namespace dgc::trainer {

std::vector<uint64_t>& OpenConnections::open_of(const Endpoint& client, uint16_t server_port) {
    auto& o = of_client_[client_key(client, server_port)];
    std::erase_if(o, [&](uint64_t c) {
        ConnState& st = latest[c];
        if (st.closed) st.listed = false;
        return st.closed;
    });
    return o;
}

void OpenConnections::name_open_connection(Endpoint& client, Endpoint& server, int format) {
    if (!open_of(client, server.port).empty()) return;
    if (!open_of(server, client.port).empty() || (open_of(client, client.port).empty() && !open_of(server, server.port).empty()))
        std::swap(client, server);
    if (open_of(client, server.port).empty() && !open_of(client, client.port).empty()) std::swap(client.port, server.port);
    // Format 19: ultraloq's hub talks MQTT on 8883 only, but the model drew some of its
    // keep-alive flows between two of its ephemeral ports; each opened a 4-tuple of its own.
    if (format < 19 || !open_of(client, server.port).empty() || client.port < kFirstDynamicPort || server.port < kFirstDynamicPort)
        return;
    bool found = false, server_side = false;
    uint16_t port = 0;
    int64_t last = 0;
    for (const bool s : {false, true}) {
        const Endpoint& host = s ? server : client;
        const auto ports = server_ports_.find(addr_word(host.addr));
        if (ports == server_ports_.end()) continue;
        for (const uint16_t p : ports->second)
            for (const uint64_t c : open_of(host, p))
                if (!found || latest[c].end > last) found = true, server_side = s, port = p, last = latest[c].end;
    }
    if (!found) return;
    if (server_side) std::swap(client, server);
    server.port = port;
}

std::vector<ConnState> OpenConnections::supersede(const Endpoint& client, uint16_t server_port, int64_t at) {
    std::vector<ConnState> out;
    for (uint64_t c : open_of(client, server_port))
        if (ConnState& st = latest[c]; st.established && st.end <= at) st.closed = true, out.push_back(st);
    return out;
}

void OpenConnections::record(uint64_t conn, const ConnState& state, const Endpoint& client, int format) {
    const bool v18 = format >= 18;
    const auto known = v18 ? latest.find(conn) : latest.end();
    const bool listed = known != latest.end() && known->second.listed;
    const bool inserted = latest.insert_or_assign(conn, state).second;
    // Format 9 listed a host pair's connection once; format 18 lists it again after an
    // earlier one closed.
    if (v18 ? listed : !(inserted && format >= 9)) return;
    of_client_[client_key(client, state.server.port)].push_back(conn);
    if (format < 19) return;
    auto& ports = server_ports_[addr_word(client.addr)];
    if (std::find(ports.begin(), ports.end(), state.server.port) == ports.end()) ports.push_back(state.server.port);
}

}  // namespace dgc::trainer
