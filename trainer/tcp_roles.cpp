#include "trainer/tcp_roles.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <unordered_set>

#include "trainer/host_slots.h"
#include "trainer/key_hash.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

namespace {

// Format 48: what the chunk's handshakes say about who serves. `opened` holds each SYN's
// 4-tuple from its sender (the client) to its receiver; `listening` each end that received a
// SYN or sent a SYN-ACK.
class Handshakes {
public:
    explicit Handshakes(std::span<const PacketRecord> chunk) {
        for (const PacketRecord& r : chunk) {
            if (!r.is_ip() || r.proto != 6 || !r.has_ports() || !(r.tcp_flags & kSyn)) continue;
            const bool synack = r.tcp_flags & kAck;
            if (!synack) opened_.insert(directed(r, false));
            listening_.insert(end(r, synack));
        }
    }

    // The end of segment `r` that serves: 0 its source, 1 its destination. The connection's
    // own SYN says so; else the one end that listened in the chunk; else the lower port.
    int serving_end(const PacketRecord& r) const {
        if (opened_.count(directed(r, false))) return 1;
        if (opened_.count(directed(r, true))) return 0;
        const bool src = listening_.count(end(r, true)) > 0, dst = listening_.count(end(r, false)) > 0;
        if (src != dst) return src ? 0 : 1;
        return r.sport < r.dport ? 0 : 1;
    }

private:
    using End = std::tuple<uint8_t, std::array<uint8_t, 16>, uint16_t>;
    using Directed = std::tuple<uint8_t, std::array<uint8_t, 16>, uint16_t, std::array<uint8_t, 16>, uint16_t>;
    static End end(const PacketRecord& r, bool src) { return {r.ip_version, src ? r.src : r.dst, src ? r.sport : r.dport}; }
    // The 4-tuple from r's source to its destination (`reversed`: the other way).
    static Directed directed(const PacketRecord& r, bool reversed) {
        return reversed ? Directed{r.ip_version, r.dst, r.dport, r.src, r.sport} : Directed{r.ip_version, r.src, r.sport, r.dst, r.dport};
    }
    std::unordered_set<Directed, KeyHash> opened_;
    std::unordered_set<End, KeyHash> listening_;
};

// A ranked port's TCP roles; nullopt for a port the side does not rank.
std::optional<uint8_t> ranked_port_role(const ChunkSide& side, uint16_t p) {
    const size_t n = std::min(side.ports.size(), side.tcp_port_roles.size());
    const size_t k = static_cast<size_t>(std::find(side.ports.begin(), side.ports.begin() + n, p) - side.ports.begin());
    return k < n ? std::optional<uint8_t>(side.tcp_port_roles[k]) : std::nullopt;
}

uint8_t port_role(const ChunkSide& side, uint16_t p) { return ranked_port_role(side, p).value_or(0); }

bool has_role(const ChunkSide& side, int slot, uint8_t role) {
    return slot < 0 || (static_cast<size_t>(slot) < side.tcp_roles.size() && (side.tcp_roles[slot] & role));
}

// The roles of `n` entries in the chunk's TCP flows, by each flow's first segment: `entry(r, src)`
// names the entry at that end of segment `r`, -1 for none.
std::vector<uint8_t> count_roles(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows, size_t n,
                                 const std::function<int(const PacketRecord&, bool)>& entry) {
    std::vector<uint8_t> roles(n, 0);
    const Handshakes handshakes(chunk);
    for (const Flow& f : flows) {
        const PacketRecord& r = chunk[f.packets[0]];
        if (!r.is_ip() || r.proto != 6 || !r.has_ports()) continue;
        const int serves = handshakes.serving_end(r);
        for (int d = 0; d < 2; ++d)
            if (const int k = entry(r, d == 0); k >= 0 && static_cast<size_t>(k) < n)
                roles[k] |= r.sport == r.dport ? kTcpServerEnd | kTcpClientEnd : d == serves ? kTcpServerEnd : kTcpClientEnd;
    }
    return roles;
}

}  // namespace

std::vector<uint8_t> count_tcp_roles(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows, size_t hosts,
                                     const std::function<int(const PacketRecord&, bool)>& slot_of) {
    return count_roles(chunk, flows, hosts, slot_of);
}

std::vector<uint8_t> count_tcp_port_roles(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                          const std::vector<uint16_t>& ports) {
    return count_roles(chunk, flows, ports.size(), [&](const PacketRecord& r, bool src) {
        const auto it = std::find(ports.begin(), ports.end(), src ? r.sport : r.dport);
        return it == ports.end() ? -1 : static_cast<int>(it - ports.begin());
    });
}

std::array<uint16_t, 2> tcp_role_ports(const ChunkSide& side, std::array<uint16_t, 2> port, uint16_t ephemeral) {
    const std::vector<uint8_t>& roles = side.tcp_port_roles;
    if (port[0] == port[1] || std::none_of(roles.begin(), roles.end(), [](uint8_t r) { return r; })) return port;
    const size_t n = std::min(side.ports.size(), roles.size());
    auto lacks = [&](uint16_t p, uint8_t role) {
        const std::optional<uint8_t> r = ranked_port_role(side, p);
        return r && !(*r & role);
    };
    const int lo = server_end(side, port);
    if (lacks(port[lo], kTcpServerEnd))
        for (size_t k = 0; k < n; ++k)
            if (roles[k] & kTcpServerEnd) {
                port[lo] = side.ports[k];
                break;
            }
    if (port[lo ^ 1] == port[lo] || lacks(port[lo ^ 1], kTcpClientEnd)) port[lo ^ 1] = ephemeral;
    return port;
}

int server_end(const ChunkSide& side, std::array<uint16_t, 2> port) {
    const int lower = port[0] < port[1] ? 0 : 1;
    if (side.format < 48) return lower;
    const bool serves0 = port_role(side, port[0]) == kTcpServerEnd, serves1 = port_role(side, port[1]) == kTcpServerEnd;
    return serves0 != serves1 ? (serves0 ? 0 : 1) : lower;
}

bool opens_from_service(const ChunkSide& side, std::array<uint16_t, 2> port) {
    if (port[0] == port[1] || server_end(side, port) != 0) return false;
    return port_role(side, port[0]) == kTcpServerEnd;
}

std::array<int, 2> tcp_role_hosts(const ChunkSide& side, uint8_t version, std::array<uint16_t, 2> port, std::array<int, 2> host) {
    if (port[0] == port[1] || std::none_of(side.tcp_roles.begin(), side.tcp_roles.end(), [](uint8_t r) { return r; })) return host;
    const int serves = server_end(side, port);
    const std::array<uint8_t, 2> role{serves == 0 ? kTcpServerEnd : kTcpClientEnd, serves == 1 ? kTcpServerEnd : kTcpClientEnd};
    auto misfits = [&](std::array<int, 2> h) { return int{!has_role(side, h[0], role[0])} + int{!has_role(side, h[1], role[1])}; };
    std::array<int, 2> h = host;
    if (host[0] >= 0 && host[1] >= 0 && misfits({host[1], host[0]}) < misfits(host)) h = {host[1], host[0]};
    const int n = static_cast<int>(std::min(side.hosts.size(), side.tcp_roles.size()));
    for (int d = 0; d < 2; ++d) {
        if (has_role(side, h[d], role[d])) continue;
        for (int k = 1; k < n; ++k) {
            const int c = (h[d] + k) % n;
            if (c != h[d ^ 1] && side.hosts[c].ip_version == version && (side.tcp_roles[c] & role[d])) {
                h[d] = c;
                break;
            }
        }
    }
    return h;
}

void keep_tcp_roles(const ChunkSide& side, uint8_t version, const std::vector<std::array<uint8_t, 16>>& slot_addr,
                    Endpoint (&ep)[2], const std::function<void(Endpoint&, int)>& use_slot) {
    const std::array<int, 2> slot{slot_of_addr(slot_addr, ep[0].addr), slot_of_addr(slot_addr, ep[1].addr)};
    const std::array<int, 2> h = tcp_role_hosts(side, version, {ep[0].port, ep[1].port}, slot);
    for (int d = 0; d < 2; ++d)
        if (h[d] != slot[d]) use_slot(ep[d], h[d]);
}

}  // namespace dgc::trainer
