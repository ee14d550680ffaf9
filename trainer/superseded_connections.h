// Format 27: a device that keeps one connection to a service ends it when it opens the next.
// ultraloq's hub holds one MQTT connection at a time: the server sends a FIN, the hub opens
// the next connection and resets the old one seconds later, 46 times in its week. The flow
// model draws a connection's pieces and endings apart, and the chunk's counts of endings went
// to other pieces, so the regenerated hub left 10 connections open as it opened the next
// (tcptrace: 35 of 84 connections neither complete nor reset, real 5 of 54) and went on with
// an old one hours later. The chunk now counts such openings; while its count lasts, a
// regenerated SYN of a client closes the client's earlier, silent connections to that
// server port, and nothing goes on from them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"
#include "trainer/edge_connections.h"
#include "trainer/open_connections.h"

namespace dgc::trainer {

// A connection's final FIN or RST this long after its client opened another connection to
// the same server port is a close the new one caused (ultraloq's: 8 to 20 s).
inline constexpr int64_t kSupersedeWindowNs = 60'000'000'000;
// The earlier connections of a client and port an opening is checked against, the latest
// begun (a scanner's thousands of SYNs to one port stay linear).
inline constexpr size_t kSupersedeLookBack = 16;

// Generator: a SYN this soon after its chain's connection closed follows that close as the
// real ones do (the chunk's count of them includes it).
inline constexpr int64_t kRecentCloseNs = 300'000'000'000;

// Encoder: of the chunk's `runs` (tcp_runs), the SYN openings whose client had an earlier
// connection to that server port (one of the kSupersedeLookBack begun last) that sent more
// than SYNs and its final FIN or RST within kSupersedeWindowNs after the SYN; `by_client`:
// of those, the ones where the old connection's client sent that final segment; `resets`:
// those where it was a RST (format 60: isp-fragtest's browser closed 20 of its 22 with a FIN).
struct SupersedeCounts {
    uint32_t closes = 0, by_client = 0, resets = 0;
};
SupersedeCounts count_superseding_opens(std::span<const PacketRecord> chunk, std::span<const TcpRun> runs);

// A regenerated connection a later SYN of its client superseded.
struct SupersededConnection {
    uint8_t ip_version = 4;
    std::array<uint8_t, 16> client{}, server{};
    uint16_t client_port = 0, server_port = 0;
    int64_t last_t = 0;      // its last segment
    bool by_client = false;  // the client resets it (else the server)
};

// Generator: each superseded connection's last segment becomes a bare RST/ACK from the end
// that closes it (from that end's own latest segment: addresses, link addresses, TTL,
// options), with the sequence numbers the connection reached. `records` in time order.
void close_superseded(std::span<const SupersededConnection> closed, std::vector<PacketRecord>& records);

// Generator: format 27's state over one chunk's flows, in the order they are generated. A
// chain is a client host and the server port it talks to (client_key).
class ChainReopens {
public:
    explicit ChainReopens(const ChunkSide& side);

    // Decided resets come from this side (plan_tcp_flow's `resetter`), -1 before format 27.
    int resetter() const { return resetter_; }
    // Format 32: the longest silence past the 60 s split a connection goes on after
    // (longest_cont_excess of the chunk's counts); no bound before format 32.
    int64_t longest_silence() const { return longest_; }

    // A SYN flow of a chain an earlier piece already reopened: the chain's open connection
    // silent for over `split` at `start` that it goes on with instead, if any. Format 32: not
    // one silent for longer past `split` than the chunk's connections were (longest_cont_excess):
    // format 31 went on with ultraloq's after 2 and 4 hours, which tcptrace reads as new
    // connections that never opened; the SYN opens its own. Format 34: it goes on with that
    // one too, and the caller moves it up to a silence the chunk's connections had: format 32's
    // own opening was a handshake more than the model drew (ultraloq's week: 58 for 51, each
    // a 4-tuple argus and tcptrace count, superseded with a reset).
    std::optional<ConnState> reopened(OpenConnections& conns, const Endpoint& client, uint16_t server_port, int64_t start,
                                      int64_t split);
    // Whether a piece on a 4-tuple of its own, of a chain that had a connection close and has
    // none open, opens the chain's next connection (counted, while the chunk's count lasts).
    bool opens_early(OpenConnections& conns, const Endpoint& client, uint16_t server_port);
    // A SYN flow at `start`: the connections it supersedes (closed in `conns`), while the
    // chunk's count lasts. Listed for close_superseded while the count of resets lasts
    // (format 60); the rest end silently: the chunk's FIN endings stand for their closes,
    // where format 59 reset them all and isp-fragtest came back with 35 connections argus
    // calls reset for 29.
    std::vector<ConnState> supersede(OpenConnections& conns, const Endpoint& client, uint16_t server_port, uint8_t ip_version,
                                     int64_t start);
    // A connection of the chain closed at `t`.
    void closed(const Endpoint& client, uint16_t server_port, int64_t t);

    const std::vector<SupersededConnection>& superseded() const { return superseded_; }

private:
    bool on_ = false;
    bool late_ = false;  // format 34: a reopened chain's SYN goes on after any silence
    int resetter_ = -1;
    int64_t longest_;  // format 32: the longest silence past `split` a connection goes on after
    uint32_t supersede_left_ = 0, by_client_left_ = 0, early_left_ = 0, resets_left_ = 0;
    std::unordered_map<uint64_t, uint32_t> early_opens_;     // per chain: pieces that opened it early
    std::unordered_map<uint64_t, int64_t> closed_at_;        // per chain: its latest connection's close
    std::vector<SupersededConnection> superseded_;
};

}  // namespace dgc::trainer
