// Format 30: a host keeps its side of TCP. The flow model draws a TCP flow's two hosts by
// rank, not by role, so two of a device's servers talked to each other: regenerated,
// ultraloq's week held 102 TCP packets on 10 4-tuples between its public MQTT servers (one
// on the client's port 60444), and the hub served 8883 to its router; blink-cam-01 615
// packets on 2 4-tuples without the camera, blink-cam-02 400 on 3. In the real weeks every
// TCP segment has the device at one end, on the client's side. The side stores, per ranked
// host, which end of the chunk's TCP flows it was seen at (the lower port's, a server's, or
// the higher's, a client's); the generator puts a host that was never at a flow's end
// there no more.
// Format 31: a ranked port keeps its side too. The flow model draws a TCP flow's server port
// by rank, and a device's busiest client ports rank with its services: regenerated,
// blink-cam-01 held 1,292 TCP packets on 2 4-tuples served from the camera's own client
// ports 64404 and 49632 (its real TCP is all to 443), ultraloq 89 on 2.
// Format 48: the end that serves is the one the connection's SYN went to, not the lower
// port. sifely's hub opens its connections to its server's 9999 from any port from 1024 up
// (432 of its week's 1,662 SYNs from below 9999): judged by the lower port, 9999 and the
// hub's busiest client ports each served and were clients, and the regenerated week held 103
// SYNs from the server's 9999 to the hub and 8 connections the server opened to the hub's
// high ports. The encoder now judges a flow's ends by its connection's SYN, else by the one
// end that listened in the chunk (received a SYN or sent a SYN-ACK), else by the lower port;
// the generator puts the server at a port that only served, whatever its number.
// Pure: the encoder counts, synthesize_records applies.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/flows.h"
#include "codec/record.h"
#include "trainer/chunk_tokens.h"
#include "trainer/synth_endpoint.h"

namespace dgc::trainer {

// A ranked host's TCP roles, as bits: at the lower port of a flow (a server's end), at the
// higher (a client's). Both ends of a flow between equal ports get both.
inline constexpr uint8_t kTcpServerEnd = 1, kTcpClientEnd = 2;

// Per ranked port (`ports`), the roles it had in the TCP flows (`flows`) of `chunk`, judged
// by each flow's first segment: the end the SYN of its 4-tuple went to serves; without one,
// the one end that listened in the chunk; else the lower port (formats 31 to 47 judged by the
// lower port alone; the encoder writes the newest format).
std::vector<uint8_t> count_tcp_port_roles(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                          const std::vector<uint16_t>& ports);

// A TCP flow's two ports (as drawn) once each ranked port is at an end of its role: a ranked
// port at the server's end (server_end) that never served is the first ranked port that did
// (the chunk's busiest service, unless the chunk is laid out in its parent's order); then a
// ranked port at the client's end never seen there, or one that is now the server's, is
// `ephemeral`. Unranked ports stay. Unchanged when no ranked port had a role or the ports
// are equal.
std::array<uint16_t, 2> tcp_role_ports(const ChunkSide& side, std::array<uint16_t, 2> port, uint16_t ephemeral);

// Which of a TCP flow's two ports serves (0 or 1): the lower one; format 48: the one that
// is a ranked port that only served, when the other is not, else the lower one.
int server_end(const ChunkSide& side, std::array<uint16_t, 2> port);

// Format 32: whether a SYN sent from `port[0]` to `port[1]` comes from the server's end
// (server_end): a ranked port that only ever served in the chunk. The flow model draws
// which end speaks first apart from the ports; format 31 kept the ports' sides, and ultraloq
// still opened 2 connections from the MQTT server's 8883 to the hub (tcptrace: unterminated).
// Up to format 47 an active FTP data connection (from port 20) read as one too; format 48
// counts port 20 as the client's end its SYN was sent from.
bool opens_from_service(const ChunkSide& side, std::array<uint16_t, 2> port);

// Per ranked host (`hosts` of them; `slot_of(record, src)`, -1 for an unranked one), the
// roles it had in the TCP flows (`flows`, the chunk's) of `chunk`, judged as
// count_tcp_port_roles judges them.
std::vector<uint8_t> count_tcp_roles(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows, size_t hosts,
                                     const std::function<int(const PacketRecord&, bool)>& slot_of);

// The ranked hosts a TCP flow of IP version `version` takes at its two ends (`port`, as
// drawn, the server's end server_end's; `host`: ranked slot, -1 for an unranked host, which
// stays) so that each end's host had that end's role in the chunk: the hosts as drawn when
// they had; else the two traded when that leaves fewer ends to move (none on a tie); an end
// still without its role then goes to the first ranked host after it (cyclically) of that
// version that had it and is not the other end. Unchanged when no host had a role (a chunk
// without TCP) or the ports are equal.
std::array<int, 2> tcp_role_hosts(const ChunkSide& side, uint8_t version, std::array<uint16_t, 2> port, std::array<int, 2> host);

// Applies tcp_role_hosts to a TCP flow's Endpoints: `slot_addr` holds the ranked hosts'
// synthetic addresses, `use_slot` makes an end a ranked host; ports stay where they are.
void keep_tcp_roles(const ChunkSide& side, uint8_t version, const std::vector<std::array<uint8_t, 16>>& slot_addr,
                    Endpoint (&ep)[2], const std::function<void(Endpoint&, int)>& use_slot);

}  // namespace dgc::trainer
