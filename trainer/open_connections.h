// The TCP connections the record generator has opened, by hosts and server port: a flow the
// spec's 60 s rule cut from a longer connection goes on with one of them (formats 9, 18, 19).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

struct ConnState {
    int64_t end = 0;  // its last segment
    uint16_t client_port = 0;
    bool closed = false;  // it sent a FIN or RST
    Endpoint server;
    bool listed = false;  // format 18: in its client's list of open connections
    bool established = true;  // it sent more than SYNs
    int64_t lead = 0;  // format 27: how much earlier its last flow started than drawn
};

class OpenConnections {
public:
    // By conn_key (hosts and server port): the latest connection.
    std::unordered_map<uint64_t, ConnState> latest;

    // The client's connections to that server port still open, in the order they were
    // listed; closed ones leave the list.
    std::vector<uint64_t>& open_of(const Endpoint& client, uint16_t server_port);

    // Format 18: a mid-connection flow whose client has no open connection to its server
    // port, drawn the wrong way round (hosts, ports or both), turns to name the connection
    // it belongs to. Format 19: one between two dynamic ports (49152 and up, where no
    // service listens) goes on with the connection its client, or else its server, used
    // last, whatever that connection's server port.
    void name_open_connection(Endpoint& client, Endpoint& server, int format);

    // A TCP flow's connection after its last segment: `state` replaces the latest one of
    // its hosts and server port, and is listed as open under `format`'s rules.
    void record(uint64_t conn, const ConnState& state, const Endpoint& client, int format);

    // Format 27: the client's established open connections to that server port silent since
    // `at` close (a SYN there superseded them; an unanswered SYN is not a connection to end);
    // returns them.
    std::vector<ConnState> supersede(const Endpoint& client, uint16_t server_port, int64_t at);

private:
    std::unordered_map<uint64_t, std::vector<uint64_t>> of_client_;  // client_key -> conns
    std::unordered_map<uint64_t, std::vector<uint16_t>> server_ports_;  // format 19: client address -> server ports
};

}  // namespace dgc::trainer
