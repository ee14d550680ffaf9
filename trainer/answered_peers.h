// Format 22: the UDP 5-tuples between two ports of 1024 and up that got an answer, by their
// client host. A peer answers or it does not: gnutella's host pings the peers that answered
// it again (147 answered flows on 109 5-tuples), while the flow model, drawing each flow's
// hosts on its own, put 72 of 144 answered flows on a host pair the chunk had not used yet,
// where no 5-tuple could be repeated; 21 of the chunk's 38 repeats of an answered 5-tuple by
// an answered flow went unused and argus saw 127 answered 5-tuples for the real 109.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

class AnsweredPeers {
public:
    struct Peer {
        Endpoint server;
        std::array<uint16_t, 2> ports{};  // client, server
        int64_t end = 0;                  // its last datagram
    };

    // A UDP flow's 5-tuple as it ended: kept while its latest flow was answered between
    // two ports of 1024 and up (each client's latest 16), forgotten otherwise.
    void record(const Endpoint& client, const Endpoint& server, bool answered, int64_t end);

    // The peer of `client` answered last that has been silent for over `split` at `start`;
    // nullptr: none.
    const Peer* latest_silent(const Endpoint& client, int64_t start, int64_t split) const;

private:
    std::unordered_map<uint64_t, std::vector<Peer>> of_client_;
};

}  // namespace dgc::trainer
