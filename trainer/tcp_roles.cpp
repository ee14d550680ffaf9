#include "trainer/tcp_roles.h"

#include <algorithm>

#include "trainer/host_slots.h"

namespace dgc::trainer {

namespace {

// The role a flow's end `d` has: the lower port's end serves.
uint8_t role_of_end(std::array<uint16_t, 2> port, int d) { return port[d] < port[d ^ 1] ? kTcpServerEnd : kTcpClientEnd; }

bool has_role(const ChunkSide& side, int slot, uint8_t role) {
    return slot < 0 || (static_cast<size_t>(slot) < side.tcp_roles.size() && (side.tcp_roles[slot] & role));
}

// The roles of `n` entries in the chunk's TCP flows, by each flow's first segment: `entry(r, src)`
// names the entry at that end of segment `r`, -1 for none.
std::vector<uint8_t> count_roles(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows, size_t n,
                                 const std::function<int(const PacketRecord&, bool)>& entry) {
    std::vector<uint8_t> roles(n, 0);
    for (const Flow& f : flows) {
        const PacketRecord& r = chunk[f.packets[0]];
        if (!r.is_ip() || r.proto != 6 || !r.has_ports()) continue;
        const std::array<uint16_t, 2> port{r.sport, r.dport};
        for (int d = 0; d < 2; ++d)
            if (const int k = entry(r, d == 0); k >= 0 && static_cast<size_t>(k) < n)
                roles[k] |= port[0] == port[1] ? kTcpServerEnd | kTcpClientEnd : role_of_end(port, d);
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
        const size_t k = static_cast<size_t>(std::find(side.ports.begin(), side.ports.begin() + n, p) - side.ports.begin());
        return k < n && !(roles[k] & role);
    };
    const int lo = port[0] < port[1] ? 0 : 1;
    if (lacks(port[lo], kTcpServerEnd))
        for (size_t k = 0; k < n; ++k)
            if (roles[k] & kTcpServerEnd) {
                port[lo] = side.ports[k];
                break;
            }
    if (port[lo ^ 1] == port[lo] || lacks(port[lo ^ 1], kTcpClientEnd)) port[lo ^ 1] = ephemeral;
    return port;
}

bool opens_from_service(const ChunkSide& side, std::array<uint16_t, 2> port) {
    if (port[0] >= port[1]) return false;
    const size_t n = std::min(side.ports.size(), side.tcp_port_roles.size());
    const size_t k = static_cast<size_t>(std::find(side.ports.begin(), side.ports.begin() + n, port[0]) - side.ports.begin());
    return k < n && side.tcp_port_roles[k] == kTcpServerEnd;
}

std::array<int, 2> tcp_role_hosts(const ChunkSide& side, uint8_t version, std::array<uint16_t, 2> port, std::array<int, 2> host) {
    if (port[0] == port[1] || std::none_of(side.tcp_roles.begin(), side.tcp_roles.end(), [](uint8_t r) { return r; })) return host;
    const std::array<uint8_t, 2> role{role_of_end(port, 0), role_of_end(port, 1)};
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
