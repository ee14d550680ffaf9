#include "trainer/udp_services.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "trainer/host_slots.h"

namespace dgc::trainer {

namespace {

bool unicast_v4(const std::array<uint8_t, 16>& a) { return !unspecified(4, a) && !is_group(4, a); }

// The commonest key of `counts` with its share of `total` in 15ths when it holds over half.
std::pair<uint16_t, uint8_t> mode_over_half(const std::map<uint16_t, uint32_t>& counts, uint32_t total) {
    uint16_t best = 0;
    uint32_t n = 0;
    for (auto [k, c] : counts)
        if (c > n) best = k, n = c;
    if (total < kServiceMinDatagrams || n * 2 <= total) return {0, 0};
    return {best, static_cast<uint8_t>(n * 15 / total)};
}

static_assert(UdpService::kNoServiceHost == kNoSlot);

// The ranked host (slot >= 0) that holds nine in ten of `total`, or none.
uint8_t nine_in_ten(const std::map<int, uint32_t>& by_slot, uint32_t total) { return nine_in_ten_slot(by_slot, total, kServiceMinDatagrams); }

// Where none holds nine in ten: the two largest ranked hosts when they do together (the first
// the larger), and the first's share of the two in 15ths. Only for a port that is asked (a
// server's): two NTP peers on 123 at both ends hold it together and serve nobody.
std::pair<std::array<uint8_t, 2>, uint8_t> nine_in_ten_pair(const std::map<int, uint32_t>& by_slot, uint32_t total) {
    std::pair<int, uint32_t> top[2] = {{-1, 0}, {-1, 0}};
    for (auto [slot, n] : by_slot) {
        if (slot < 0) continue;
        if (n > top[0].second) top[1] = top[0], top[0] = {slot, n};
        else if (n > top[1].second) top[1] = {slot, n};
    }
    const uint32_t both = top[0].second + top[1].second;
    if (total < kServiceMinDatagrams || !top[1].second || both * 10 < total * 9) return {{UdpService::kNoServiceHost, UdpService::kNoServiceHost}, 0};
    return {{static_cast<uint8_t>(top[0].first), static_cast<uint8_t>(top[1].first)}, static_cast<uint8_t>(top[0].second * 15 / both)};
}

const UdpService* entry_of(const std::vector<UdpService>& services, const std::vector<uint16_t>& ports, uint16_t port) {
    for (const UdpService& s : services)
        if (s.port < ports.size() && ports[s.port] == port) return &s;
    return nullptr;
}

// The host that holds the service at end `d` of `e` (-1: none): its one host, else the member of
// its pair the model drew at either end, else the one `u` picks at the pair's shares.
int holder(const UdpService* s, const UdpEnds& e, int d, uint64_t u) {
    if (!s) return -1;
    if (s->host != UdpService::kNoServiceHost) return s->host;
    if (s->pair[0] == UdpService::kNoServiceHost) return -1;
    for (int end : {d, d ^ 1})
        if (e.host[end] == s->pair[0] || e.host[end] == s->pair[1]) return e.host[end];
    return u % 15 < s->pair_share ? s->pair[0] : s->pair[1];
}

bool udp_v4(const PacketRecord& r) { return r.is_ip() && r.ip_version == 4 && r.proto == 17 && r.has_ports(); }

}  // namespace

bool service_flag(const std::vector<UdpService>& services, const std::vector<uint16_t>& ports, uint16_t port, uint8_t flag) {
    const UdpService* s = entry_of(services, ports, port);
    return s && (s->flags & flag);
}

std::vector<UdpService> count_udp_services(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows,
                                           const std::vector<uint16_t>& ports,
                                           const std::function<int(const PacketRecord&, bool)>& slot_of) {
    struct Counts {
        std::map<int, uint32_t> hosts[2];  // at the port's end, at the other end (unicast only)
        uint32_t unicast[2] = {0, 0};
        std::map<uint16_t, uint32_t> len[2];  // to it, from it
        uint32_t total[2] = {0, 0};
        uint32_t to_group = 0;
        uint32_t flows = 0, asked = 0;  // flows on it, those whose first datagram went to it
        uint32_t several = 0, answered = 0;  // its flows of two or more datagrams, those answered
    };
    std::map<size_t, Counts> by_rank;
    auto rank_of = [&](uint16_t port) {
        return port < kServicePortLimit ? static_cast<size_t>(std::find(ports.begin(), ports.end(), port) - ports.begin()) : ports.size();
    };
    for (const PacketRecord& r : chunk) {
        if (!udp_v4(r)) continue;
        for (int end = 0; end < 2; ++end) {  // 0: the receiver's port, 1: the sender's
            const size_t rank = rank_of(end == 0 ? r.dport : r.sport);
            if (rank >= ports.size()) continue;
            Counts& c = by_rank[rank];
            ++c.len[end][static_cast<uint16_t>(std::min<uint32_t>(r.ip_len, 65535))];
            ++c.total[end];
            const bool src = end == 1;
            if (unicast_v4(src ? r.src : r.dst)) ++c.hosts[0][slot_of(r, src)], ++c.unicast[0];
            if (r.sport != r.dport && unicast_v4(src ? r.dst : r.src)) ++c.hosts[1][slot_of(r, !src)], ++c.unicast[1];
            c.to_group += end == 0 && is_group(4, r.dst);
        }
    }
    for (const Flow& f : flows) {
        const PacketRecord& r = chunk[f.packets[0]];
        if (!udp_v4(r)) continue;
        const bool answered = std::any_of(f.packets.begin(), f.packets.end(), [&](uint32_t i) {
            return chunk[i].src != r.src || chunk[i].sport != r.sport;
        });
        for (const uint16_t port : {r.dport, r.sport}) {
            if (const size_t rank = rank_of(port); rank < ports.size()) {
                Counts& c = by_rank[rank];
                ++c.flows;
                c.asked += port == r.dport && r.sport != r.dport;  // NTP peers ask each other
                c.several += f.packets.size() >= 2, c.answered += answered;
            }
            if (r.sport == r.dport) break;
        }
    }
    std::vector<UdpService> out;
    for (const auto& [rank, c] : by_rank) {
        UdpService s;
        s.port = static_cast<uint8_t>(rank);
        s.host = nine_in_ten(c.hosts[0], c.unicast[0]), s.client = nine_in_ten(c.hosts[1], c.unicast[1]);
        std::tie(s.len_in, s.share_in) = mode_over_half(c.len[0], c.total[0]);
        std::tie(s.len_out, s.share_out) = mode_over_half(c.len[1], c.total[1]);
        if (c.flows >= kServiceMinDatagrams && c.asked * 10 >= c.flows * 9) s.flags |= UdpService::kAsked;
        if (c.to_group && c.to_group * 10 >= c.total[0]) s.flags |= UdpService::kToGroup;
        if (c.several >= kServiceMinDatagrams && c.answered * 10 >= c.several * 9) s.flags |= UdpService::kAnswered;
        if (c.several >= kServiceMinDatagrams && c.answered * 10 <= c.several) s.flags |= UdpService::kUnanswered;
        if (s.host == UdpService::kNoServiceHost && (s.flags & UdpService::kAsked))
            std::tie(s.pair, s.pair_share) = nine_in_ten_pair(c.hosts[0], c.unicast[0]);
        if (s.host != UdpService::kNoServiceHost || s.client != UdpService::kNoServiceHost || s.share_in || s.share_out || s.flags ||
            s.pair[0] != UdpService::kNoServiceHost)
            out.push_back(s);
    }
    return out;
}

UdpEnds serve_udp_ports(const std::vector<UdpService>& services, const std::vector<uint16_t>& ports, UdpEnds e, uint16_t ephemeral,
                        uint64_t u, bool broadcasts) {
    auto served = [&](int d) { return holder(entry_of(services, ports, e.port[d]), e, d, u); };
    auto asked = [&](int d) { return service_flag(services, ports, e.port[d], UdpService::kAsked); };
    const bool broadcast = broadcasts && e.port[0] == e.port[1] && !e.pinned[0] &&
                           service_flag(services, ports, e.port[0], UdpService::kToGroup);
    if (broadcast && !e.pinned[1]) e.pinned[1] = true, e.host[1] = -1, e.to_broadcast = true;
    // One service's port at both ends: the sender is its client.
    if (e.port[0] == e.port[1] && served(0) >= 0 && !broadcast) e.port[0] = ephemeral;
    // A service that speaks first to a client's port: the client asks, the service answers.
    if (asked(0) && !asked(1) && !e.pinned[1] && !e.pinned[0]) std::swap(e.port[0], e.port[1]);
    // A service the chunk never reached through a group address is asked at its host.
    if (e.pinned[1] && !e.pinned[0] && served(1) >= 0 && served(1) != e.host[0] &&
        !service_flag(services, ports, e.port[1], UdpService::kToGroup))
        e.pinned[1] = false, e.host[1] = -1;
    for (int d : {1, 0}) {
        const int h = served(d);
        if (h < 0 || e.host[d] == h || e.pinned[d]) continue;
        if (e.host[d ^ 1] == h && !e.pinned[d ^ 1]) {
            std::swap(e.host[0], e.host[1]);
            std::swap(e.host_moved[0], e.host_moved[1]);
            e.hosts_swapped = !e.hosts_swapped;
        } else if (e.host[d ^ 1] != h) {
            e.host[d] = h, e.host_moved[d] = true;
        }
    }
    // And its client, where one host asks it nine times in ten, is that host.
    for (int d : {1, 0}) {
        const UdpService* svc = entry_of(services, ports, e.port[d]);
        const int c = svc && served(d) >= 0 && served(d ^ 1) < 0 && svc->client != UdpService::kNoServiceHost ? svc->client : -1;
        if (c >= 0 && c != e.host[d] && c != e.host[d ^ 1] && !e.pinned[d ^ 1]) e.host[d ^ 1] = c, e.host_moved[d ^ 1] = true;
    }
    return e;
}

std::optional<uint32_t> service_len(const std::vector<UdpService>& services, const std::vector<uint16_t>& ports, uint16_t sport,
                                    uint16_t dport, uint64_t u) {
    const UdpService* to = entry_of(services, ports, dport);
    const UdpService* from = entry_of(services, ports, sport);
    const uint8_t share_to = to ? to->share_in : 0, share_from = from ? from->share_out : 0;
    if (!share_to && !share_from) return std::nullopt;
    const bool by_to = share_to >= share_from;
    const uint8_t share = by_to ? share_to : share_from;
    if (u % 15 >= share) return std::nullopt;
    return by_to ? to->len_in : from->len_out;
}

}  // namespace dgc::trainer
