// Format 26: a TCP connection that a chunk's edge cuts stays one connection. Chunks are
// modelled and regenerated apart, so before format 26 each side of an edge drew its own
// client port and sequence numbers for it: at each of ultraloq's seven day-chunk edges the
// hub's connection came back as one that opens and never ends and one on another 4-tuple
// that ends without opening, and in a volume's hourly chunks (its default) lockly's week
// came back as 334 tcptrace connections where the real has 21, with 125 segments tshark
// finds after a gap (real 8). Each chunk now stores the few connections open at its first
// and at its last record (client and server host slots and ports, each end's next sequence
// number there); the chunks on both sides of an edge store the same values, and each puts
// its own regenerated connection on that 4-tuple with those numbers.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/record.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer {

inline constexpr size_t kEdgeConnections = 4;  // stored per edge, at most

// One TCP connection among time-ordered records: its 4-tuple's segments from a SYN (or the
// first segment) up to the next SYN that follows other segments. The server is the end
// with the lower port (on a tie, the first segment's receiver).
struct TcpRun {
    std::vector<size_t> at;  // record indices, in time order
    uint8_t ip_version = 4;
    std::array<uint8_t, 16> client{}, server{};
    uint16_t client_port = 0, server_port = 0;
    bool opens = false;   // its first segment is a SYN or SYN-ACK
    bool closes = false;  // it sent a FIN or RST
};
std::vector<TcpRun> tcp_runs(std::span<const PacketRecord> records);
// Whether a record of `run` was sent by its client.
inline bool from_client(const TcpRun& run, const PacketRecord& r) { return r.src == run.client && r.sport == run.client_port; }

// Each end's next sequence number {client, server} where a run starts (its first segment's
// sequence number) and where it ends (past its furthest data, SYN or FIN, retransmissions
// aside: a segment counts when it starts at or past what came before); an end that sent
// nothing: the other end's first (last) ACK of it, else 0.
std::array<uint32_t, 2> seqs_at_start(const TcpRun& run, std::span<const PacketRecord> records);
std::array<uint32_t, 2> seqs_at_end(const TcpRun& run, std::span<const PacketRecord> records);

// Encoder: of the chunk's `runs` (tcp_runs), up to kEdgeConnections that open mid-connection
// (earliest first) and that never close (latest first), between two ranked hosts. `slot_of(r, src)`: the ranked slot of
// a record's source (src) or destination, -1 when unranked.
void find_edge_connections(std::span<const PacketRecord> chunk, std::span<const TcpRun> runs,
                           const std::function<int(const PacketRecord&, bool)>& slot_of,
                           std::vector<EdgeConnection>& in, std::vector<EdgeConnection>& out);

// Generator: the regenerated runs that open mid-connection take side.edge_in's 4-tuples and
// starting numbers, the ones that never close side.edge_out's, matched by server port
// (earliest and latest first). `records` in time order; `slot_addr` / `slot_mac`: the
// ranked hosts' synthetic addresses. Other runs the model put on an entry's 4-tuple move to
// a dynamic client port (a ranked port is the chunk's busiest, and the model draws it for
// other connections too); a run that would take another edge run's 4-tuple keeps its own.
// A run that takes both edges' entries of one real connection has its last data segments
// from each end lengthened or shortened (each within 1 byte of payload and a 1,500-byte IP
// packet) by the difference between its bytes and the real ones, and what follows moved.
// Format 32: each run that took an edge's entry reaches that edge, [t0, t1] the chunk's IP
// records: the chain of a device's keep-alives ran out minutes before the chunk ended (or
// began after it started), and with the next chunk's run the silence across the edge was
// over tcptrace's 4 minutes (ultraloq: 3 of its 7 day edges, 8 to 17 minutes). `split`: the
// spec's flow timeout; `cap`: the longest silence between pieces the chunk's connections had.
// `records` stay in time order.
struct EdgeReach {
    int64_t t0 = 0, t1 = 0, split = 0, cap = 0;
};
void keep_edge_connections(const ChunkSide& side, std::span<const std::array<uint8_t, 16>> slot_addr,
                           std::span<const std::array<uint8_t, 6>> slot_mac, std::vector<PacketRecord>& records,
                           const EdgeReach* reach = nullptr);

// Format 32, pure: a connection's segment times `t` (ascending) after its last piece (the
// segments after its last silence over `split`) moves to end at `edge`, when it ends more
// than `split` before it; each piece before moves as little as keeps the silence after it
// within `cap` (or as long as it was). A piece never moves past the one after it.
std::vector<int64_t> reach_edge(std::span<const int64_t> t, int64_t edge, int64_t split, int64_t cap);

}  // namespace dgc::trainer
