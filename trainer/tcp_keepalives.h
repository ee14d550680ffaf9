// Format 40: how a quiet TCP connection speaks again. schlage's lock keeps its MQTT connection
// open with a keep-alive probe every 300 s (a bare ACK one byte below what it sent, seq =
// next - 1) and the server ACKs each one: 1,800 probes and 1,791 ACKs of them in the week, a
// quarter of its TCP segments. sifely's hub and its servers always speak again with data.
// Format 39 sent the model's bare ACKs in those slots at the next sequence number: tshark saw
// 9 keep-alives on schlage and 1,394 duplicate ACKs, and on sifely 90 bare ACKs after a
// minute's silence repeating what they had acknowledged (the real week has none). It also
// drew each 60 s piece of a connection its own windows, which tshark reads as window
// updates (schlage 1,679, real 3); from format 40 a connection keeps its two windows.
//
// A quiet segment has ACK and no SYN, FIN or RST, acknowledges nothing its side had not
// acknowledged, and comes after its 4-tuple was silent at least a second; it is bare when it
// carries no data (or one byte one below its side's next sequence number, as Windows
// probes), a probe when it is one below. The side stores, for clients (the end that sent the
// 4-tuple's opening SYN, else the higher port) and servers, the quiet segments, the bare ones
// and the probes, and the one-byte probes. The generator finds its own by the same rule and,
// for each end: makes bare ones probes at the chunk's share of its bare ones; then keeps bare
// the others at the chunk's share of its quiet segments that were no probe, and gives the
// rest data (as much as its side last sent), moving the connection's later sequence and
// acknowledgement numbers past it. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

inline constexpr int64_t kKeepAliveQuietNs = 1'000'000'000;

struct TcpKeepAlives {
    // [0] clients, [1] servers: probes <= bare <= quiet; one_byte <= both ends' probes
    std::array<uint32_t, 2> quiet{}, bare{}, probes{};
    uint32_t one_byte = 0;
};

TcpKeepAlives count_keepalives(std::span<const PacketRecord> records);

// Applies the chunk's shares to `records`' quiet segments, in time order.
void send_keepalives(const TcpKeepAlives& chunk, std::vector<PacketRecord>& records);

}  // namespace dgc::trainer
