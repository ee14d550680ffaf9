#include "trainer/edge_connections.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "codec/fidelity/semantics.h"
#include "trainer/flow_timing.h"
#include "trainer/key_hash.h"
#include "trainer/rng.h"
#include "trainer/synth_endpoint.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

namespace {

bool is_segment(const PacketRecord& r) { return r.is_ip() && r.proto == 6 && (r.present & kHasTcp) && r.has_ports(); }

using End = std::tuple<uint8_t, std::array<uint8_t, 16>, uint16_t>;  // version, address, port
using Key = std::pair<End, End>;                                     // the lower end first

Key key_of(uint8_t v, const std::array<uint8_t, 16>& a, uint16_t pa, const std::array<uint8_t, 16>& b, uint16_t pb) {
    End x{v, a, pa}, y{v, b, pb};
    return x < y ? Key{x, y} : Key{y, x};
}
Key key_of(const TcpRun& run) { return key_of(run.ip_version, run.client, run.client_port, run.server, run.server_port); }

// Moves a run's sequence numbers so that `now` (its numbers at one segment) become `want`.
void shift_seqs(const TcpRun& run, std::array<uint32_t, 2> now, std::array<uint32_t, 2> want, std::vector<PacketRecord>& records) {
    const uint32_t dc = want[0] - now[0], ds = want[1] - now[1];
    for (size_t i : run.at) {
        PacketRecord& r = records[i];
        const bool c = from_client(run, r);
        r.seq += c ? dc : ds;
        if (r.tcp_flags & kAck) r.ack += c ? ds : dc;
    }
}

// Lengthens or shortens the run's last data segments from one end (`client` or the server)
// by `bytes` in all, each within 1 byte and a 1,500-byte packet, and moves the numbers of what
// follows each: its later segments' sequence numbers and the ACKs of the other end that
// acknowledge past it. What no segment can take stays a gap in the numbers.
void absorb(const TcpRun& run, bool client, int64_t bytes, std::vector<PacketRecord>& records) {
    constexpr uint32_t kMaxIpLen = 1500;
    for (size_t k = run.at.size(); k-- > 0 && bytes != 0;) {
        PacketRecord& d = records[run.at[k]];
        const uint32_t payload = fidelity::tcp_payload_bytes(d);
        if (from_client(run, d) != client || payload == 0) continue;
        const int64_t take = std::clamp<int64_t>(bytes, 1 - int64_t{payload}, std::max<int64_t>(0, int64_t{kMaxIpLen} - d.ip_len));
        if (take == 0) continue;
        const uint32_t end = d.seq + payload;  // past it, before the change
        const bool whole = d.caplen == d.wirelen;
        d.ip_len = static_cast<uint32_t>(d.ip_len + take), d.wirelen = static_cast<uint32_t>(d.wirelen + take);
        if (whole) d.caplen = d.wirelen;
        d.caplen = std::min(d.caplen, d.wirelen);
        for (size_t j = k + 1; j < run.at.size(); ++j) {
            PacketRecord& r = records[run.at[j]];
            if (from_client(run, r) == client) {
                // A keep-alive probe repeats the last byte sent: it moves with that byte.
                const uint32_t from = fidelity::tcp_payload_bytes(r) <= 1 ? end - 1 : end;
                if (static_cast<int32_t>(r.seq - from) >= 0) r.seq = static_cast<uint32_t>(r.seq + take);
            } else if ((r.tcp_flags & kAck) && static_cast<int32_t>(r.ack - end) >= 0) {
                r.ack = static_cast<uint32_t>(r.ack + take);
            }
        }
        bytes -= take;
    }
}

// Puts a run on `e`'s hosts and ports: addresses, link addresses, TTL and TOS of an end that
// changes host, its port in any case.
void rename(TcpRun& run, const EdgeConnection& e, const ChunkSide& side, std::span<const std::array<uint8_t, 16>> slot_addr,
            std::span<const std::array<uint8_t, 6>> slot_mac, std::vector<PacketRecord>& records) {
    const std::array<uint8_t, 16> client = slot_addr[e.client_slot], server = slot_addr[e.server_slot];
    const bool move_client = client != run.client, move_server = server != run.server;
    for (size_t i : run.at) {
        PacketRecord& r = records[i];
        const bool c = from_client(run, r);
        const int src = c ? e.client_slot : e.server_slot, dst = c ? e.server_slot : e.client_slot;
        if (c ? move_client : move_server) {
            r.src = slot_addr[src];
            r.ttl = side.hosts[src].ttl, r.tos = side.hosts[src].tos;
            if (r.eth_src != std::array<uint8_t, 6>{}) r.eth_src = slot_mac[src];
        }
        if (c ? move_server : move_client) {
            r.dst = slot_addr[dst];
            if (r.eth_dst != std::array<uint8_t, 6>{}) r.eth_dst = slot_mac[dst];
        }
        r.sport = c ? e.client_port : e.server_port;
        r.dport = c ? e.server_port : e.client_port;
    }
    run.client = client, run.server = server, run.client_port = e.client_port, run.server_port = e.server_port;
}

}  // namespace

std::vector<TcpRun> tcp_runs(std::span<const PacketRecord> records) {
    std::vector<size_t> order(records.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return records[a].t_ns < records[b].t_ns; });
    std::vector<TcpRun> runs;
    std::unordered_map<Key, size_t, KeyHash> current;  // 4-tuple -> its latest run
    std::vector<char> past_handshake;  // per run: it has a segment other than a SYN
    for (size_t i : order) {
        const PacketRecord& r = records[i];
        if (!is_segment(r)) continue;
        const Key k = key_of(r.ip_version, r.src, r.sport, r.dst, r.dport);
        const bool syn = (r.tcp_flags & (kSyn | kAck)) == kSyn;
        auto it = current.find(k);
        if (it == current.end() || (syn && past_handshake[it->second])) {
            TcpRun run;
            run.ip_version = r.ip_version;
            const bool src_serves = r.sport < r.dport;
            run.client = src_serves ? r.dst : r.src, run.server = src_serves ? r.src : r.dst;
            run.client_port = src_serves ? r.dport : r.sport, run.server_port = src_serves ? r.sport : r.dport;
            run.opens = (r.tcp_flags & kSyn) != 0;
            current[k] = runs.size();
            runs.push_back(std::move(run));
            past_handshake.push_back(0);
        }
        const size_t n = current[k];
        TcpRun& run = runs[n];
        run.at.push_back(i);
        past_handshake[n] |= !(r.tcp_flags & kSyn);
        run.closes |= (r.tcp_flags & (kFin | kRst)) != 0;
    }
    return runs;
}

std::array<uint32_t, 2> seqs_at_start(const TcpRun& run, std::span<const PacketRecord> records) {
    std::array<std::optional<uint32_t>, 2> own, acked;  // {client, server}
    for (size_t i : run.at) {
        const PacketRecord& r = records[i];
        const int e = from_client(run, r) ? 0 : 1;
        if (!own[e]) own[e] = r.seq;
        if (!acked[1 - e] && (r.tcp_flags & kAck)) acked[1 - e] = r.ack;
    }
    return {own[0].value_or(acked[0].value_or(0)), own[1].value_or(acked[1].value_or(0))};
}

std::array<uint32_t, 2> seqs_at_end(const TcpRun& run, std::span<const PacketRecord> records) {
    std::array<std::optional<uint32_t>, 2> own, acked;
    for (size_t i : run.at) {
        const PacketRecord& r = records[i];
        const int e = from_client(run, r) ? 0 : 1;
        const uint32_t next = r.seq + fidelity::tcp_payload_bytes(r) + ((r.tcp_flags & (kSyn | kFin)) ? 1 : 0);
        if (!own[e] || static_cast<int32_t>(r.seq - *own[e]) >= 0) own[e] = next;  // not a retransmission
        if (r.tcp_flags & kAck) acked[1 - e] = r.ack;
    }
    return {own[0].value_or(acked[0].value_or(0)), own[1].value_or(acked[1].value_or(0))};
}

void find_edge_connections(std::span<const PacketRecord> chunk, std::span<const TcpRun> runs,
                           const std::function<int(const PacketRecord&, bool)>& slot_of,
                           std::vector<EdgeConnection>& in, std::vector<EdgeConnection>& out) {
    in.clear(), out.clear();
    auto edge = [&](const TcpRun& run, std::array<uint32_t, 2> seqs) -> std::optional<EdgeConnection> {
        const PacketRecord& r = chunk[run.at.front()];
        const bool c = from_client(run, r);
        const int client = slot_of(r, c), server = slot_of(r, !c);
        if (client < 0 || server < 0) return std::nullopt;
        return EdgeConnection{static_cast<uint8_t>(client), static_cast<uint8_t>(server), run.client_port, run.server_port,
                              seqs[0], seqs[1]};
    };
    std::vector<size_t> idx(runs.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    auto first_t = [&](size_t i) { return chunk[runs[i].at.front()].t_ns; };
    auto last_t = [&](size_t i) { return chunk[runs[i].at.back()].t_ns; };
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return first_t(a) < first_t(b); });
    for (size_t i : idx)
        if (!runs[i].opens && in.size() < kEdgeConnections)
            if (auto e = edge(runs[i], seqs_at_start(runs[i], chunk))) in.push_back(*e);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return last_t(a) > last_t(b); });
    for (size_t i : idx)
        if (!runs[i].closes && out.size() < kEdgeConnections)
            if (auto e = edge(runs[i], seqs_at_end(runs[i], chunk))) out.push_back(*e);
}

std::vector<int64_t> reach_edge(std::span<const int64_t> t, int64_t edge, int64_t split, int64_t cap) {
    if (t.empty() || edge - t.back() <= split) return {t.begin(), t.end()};
    return spread_to_edge(t, edge, split, cap);
}

namespace {

// A run's segments moved as reach_edge says, toward t1 (`tail`) or t0.
void reach(const TcpRun& run, bool tail, const EdgeReach& r, std::vector<PacketRecord>& records) {
    std::vector<int64_t> t;
    for (size_t i : run.at) t.push_back(tail ? records[i].t_ns : -records[i].t_ns);
    if (!tail) std::reverse(t.begin(), t.end());
    std::vector<int64_t> moved = reach_edge(t, tail ? r.t1 : -r.t0, r.split, r.cap);
    if (!tail) std::reverse(moved.begin(), moved.end());
    for (size_t k = 0; k < run.at.size(); ++k) records[run.at[k]].t_ns = tail ? moved[k] : -moved[k];
}

}  // namespace

void keep_edge_connections(const ChunkSide& side, std::span<const std::array<uint8_t, 16>> slot_addr,
                           std::span<const std::array<uint8_t, 6>> slot_mac, std::vector<PacketRecord>& records,
                           const EdgeReach* reach_to) {
    if (side.edge_in.empty() && side.edge_out.empty()) return;
    std::vector<TcpRun> runs = tcp_runs(records);
    std::unordered_map<Key, std::vector<size_t>, KeyHash> on;  // 4-tuple -> its runs
    for (size_t i = 0; i < runs.size(); ++i) on[key_of(runs[i])].push_back(i);
    std::vector<int> in_of(runs.size(), -1);  // the edge_in entry a run took
    std::vector<char> out_taken(runs.size(), 0);  // it took (or kept) an edge_out entry
    auto leave = [&](size_t i) {
        auto it = on.find(key_of(runs[i]));
        std::erase(it->second, i);
        if (it->second.empty()) on.erase(it);
    };
    // The model drew the real port of a connection at an edge for another connection (a ranked
    // port is the chunk's busiest): that one moves to a dynamic port no run has.
    auto move_away = [&](size_t j) {
        Rng rng(mix64(0xED6EULL ^ (uint64_t{runs[j].client_port} << 16 | runs[j].server_port) ^ mix64(j)));
        for (;;) {
            const uint16_t port = ephemeral_port(rng);
            const Key k = key_of(runs[j].ip_version, runs[j].client, port, runs[j].server, runs[j].server_port);
            if (on.count(k)) continue;
            leave(j);
            for (size_t i : runs[j].at) (from_client(runs[j], records[i]) ? records[i].sport : records[i].dport) = port;
            runs[j].client_port = port;
            on[k].push_back(j);
            return;
        }
    };
    // A run takes `e` when it serves e's port over e's IP version and no other edge's run
    // has e's 4-tuple.
    auto takes = [&](size_t i, const EdgeConnection& e) {
        const TcpRun& run = runs[i];
        if (run.server_port != e.server_port || side.hosts[e.client_slot].ip_version != run.ip_version ||
            side.hosts[e.server_slot].ip_version != run.ip_version)
            return false;
        const Key now = key_of(run), next = key_of(run.ip_version, slot_addr[e.client_slot], e.client_port, slot_addr[e.server_slot], e.server_port);
        if (next != now) {
            if (auto it = on.find(next); it != on.end()) {
                if (std::any_of(it->second.begin(), it->second.end(), [&](size_t j) { return in_of[j] >= 0 || out_taken[j]; }))
                    return false;
                for (size_t j : std::vector<size_t>(it->second)) move_away(j);
            }
            leave(i);
            on[next].push_back(i);
        }
        rename(runs[i], e, side, slot_addr, slot_mac, records);
        return true;
    };
    std::vector<size_t> idx(runs.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    for (size_t k = 0; k < side.edge_in.size(); ++k) {
        for (size_t i : idx) {  // runs are in order of their first segment
            if (runs[i].opens || in_of[i] >= 0) continue;
            const auto now = seqs_at_start(runs[i], records);
            if (!takes(i, side.edge_in[k])) continue;
            shift_seqs(runs[i], now, {side.edge_in[k].client_seq, side.edge_in[k].server_seq}, records);
            in_of[i] = static_cast<int>(k);
            break;
        }
    }
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return records[runs[a].at.back()].t_ns > records[runs[b].at.back()].t_ns; });
    for (const EdgeConnection& e : side.edge_out) {
        for (size_t i : idx) {
            if (runs[i].closes || out_taken[i]) continue;
            if (in_of[i] >= 0) {
                // Opened mid-connection too: it keeps the numbers the edge before gave it, and
                // only the same real connection may have it.
                const EdgeConnection& was = side.edge_in[static_cast<size_t>(in_of[i])];
                if (std::tie(was.client_slot, was.server_slot, was.client_port, was.server_port) !=
                    std::tie(e.client_slot, e.server_slot, e.client_port, e.server_port))
                    continue;
                // It spans the chunk: its data segments take the difference between the
                // bytes the model gave it and the real ones, so the numbers meet at both edges.
                const auto now = seqs_at_end(runs[i], records);
                absorb(runs[i], true, static_cast<int32_t>(e.client_seq - now[0]), records);
                absorb(runs[i], false, static_cast<int32_t>(e.server_seq - now[1]), records);
                out_taken[i] = 1;
                break;
            }
            const auto now = seqs_at_end(runs[i], records);
            if (!takes(i, e)) continue;
            shift_seqs(runs[i], now, {e.client_seq, e.server_seq}, records);
            out_taken[i] = 1;
            break;
        }
    }
    if (!reach_to) return;
    bool moved = false;
    for (size_t i = 0; i < runs.size(); ++i) {
        if (in_of[i] >= 0) reach(runs[i], false, *reach_to, records), moved = true;
        if (out_taken[i]) reach(runs[i], true, *reach_to, records), moved = true;
    }
    if (moved) std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; });
}

}  // namespace dgc::trainer
