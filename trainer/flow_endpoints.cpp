#include "trainer/flow_endpoints.h"

#include <algorithm>
#include <utility>

#include "codec/address_class.h"
#include "trainer/broadcast_hosts.h"
#include "trainer/endpoint_roles.h"
#include "trainer/flow_choices.h"
#include "trainer/icmp_senders.h"
#include "trainer/synth_fields.h"
#include "trainer/tcp_roles.h"
#include "trainer/udp_service_ends.h"

namespace dgc::trainer {

FlowEndpoints::FlowEndpoints(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed, const RankedAddresses& ranked,
                             const std::vector<int8_t>& udp_answer, const std::vector<int>& icmp_kind, const IgmpSender& igmp)
    : side_(side), flows_(flows), seed_(seed), slot_addr_(ranked.addr), slot_mac_(ranked.mac), udp_answer_(udp_answer),
      icmp_kind_(icmp_kind), igmp_(igmp), unranked_(side, flows, seed), pool_pick_(assign_pool_ports(side, flows)),
      low_port_flows_left_(side.tcp_low_port_flows) {
    const auto it = std::find_if(side.stacks.begin(), side.stacks.end(), [](const TcpStack& t) { return t.opens; });
    if (it != side.stacks.end()) opening_stack_ = &*it;
    for (const auto& t : side.stacks) opening_w_.push_back(t.opens ? t.count : 0);
    draw_opening_ = side.format >= 7 && opening_stack_;
}

void FlowEndpoints::use_slot(Endpoint& e, int slot) const {
    const HostSemantics hs = slot < static_cast<int>(side_.host_sem.size()) ? side_.host_sem[slot] : HostSemantics{};
    e.addr = slot_addr_[slot], e.mac = slot_mac_[slot];
    e.ttl = side_.hosts[slot].ttl, e.tos = side_.hosts[slot].tos;
    if (hs.stack < side_.stacks.size()) e.stack = side_.stacks[hs.stack];
}

bool FlowEndpoints::choose(size_t fi, Rng& rng, Endpoint (&ep)[2]) {
    const FlowTokens& f = flows_[fi];
    const ProtoEntry& pe = proto_of(side_, f);
    const bool tcp = pe.proto == 6 && pe.ports, udp = pe.proto == 17 && pe.ports;
    const bool icmp = pe.proto == 1 || pe.proto == 58;
    const bool igmp = side_.format >= 62 && pe.proto == 2 && pe.ip_version == 4;
    const bool v9 = side_.format >= 9, v11 = side_.format >= 11, v15 = side_.format >= 15, v16 = side_.format >= 16;
    const bool v17 = side_.format >= 17, v28 = side_.format >= 28, v38 = side_.format >= 38;
    const bool shaped = side_.format >= 7;
    const auto put_slot = [this](Endpoint& e, int slot) { use_slot(e, slot); };
    for (int d = 0; d < 2; ++d) {
        const int slot = f.a[d == 0 ? kAttrCliHost : kAttrSrvHost];
        const bool ranked = slot < static_cast<int>(side_.hosts.size());
        const HostSemantics hs = ranked && slot < static_cast<int>(side_.host_sem.size()) ? side_.host_sem[slot] : HostSemantics{};
        if (ranked && class_version(static_cast<AddrClass>(hs.addr_class)) == pe.ip_version) {
            use_slot(ep[d], slot);
        } else if (const int alt = ranked ? same_version_slot(side_, slot, pe.ip_version) : -1; alt >= 0) {
            // The model put a ranked host in a flow of the other IP version: the next
            // ranked host of that version stands in (a dual-stack host's other address).
            use_slot(ep[d], alt);
        } else {
            unranked_.fill(ranked ? mix64(0xD0A1ULL ^ slot) : unranked_.next_index(), pe.ip_version, ep[d]);
        }
        // Format 9: the unspecified address sends DHCP requests and ARP probes, never a
        // TCP segment; a connection the model gave it goes to the busiest unicast host.
        if (v9 && tcp && unspecified(pe.ip_version, ep[d].addr))
            if (const int alt = unicast_slot(side_, pe.ip_version); alt >= 0) use_slot(ep[d], alt);
        // A stack seen only mid-connection opens as the chunk's commonest opening stack
        // (format 7: as one of its opening stacks, by hosts, the same for one address).
        if (!ep[d].stack.opens && opening_stack_) {
            const TcpStack& o =
                draw_opening_ ? side_.stacks[Rng(mix64(seed_ ^ addr_word(ep[d].addr) ^ 0x57ACULL)).pick(opening_w_)] : *opening_stack_;
            ep[d].stack.opens = true;
            ep[d].stack.syn_opts = o.syn_opts, ep[d].stack.syn_len = o.syn_len;
            ep[d].stack.mss = o.mss, ep[d].stack.wscale = o.wscale;
        }
        const int token = f.a[d == 0 ? kAttrCliPort : kAttrSrvPort];
        ep[d].port = !pe.ports ? 0 : pool_pick_[fi][d] >= 0 ? side_.pool[pool_pick_[fi][d]].port : port_of(token, side_.ports, rng);
        // Format 17: a ranked port keeps the protocols the chunk used it with.
        if (v17 && pe.ports && pool_pick_[fi][d] < 0)
            if (const int k = port_for_protocol(side_.port_protos, token, port_proto_bit(pe.proto), d == 1); k != token)
                ep[d].port = k >= 0 ? side_.ports[k] : ephemeral_port(rng);
        ep[d].window = static_cast<uint16_t>(1024 + rng.below(64000));
        ep[d].next_seq = static_cast<uint32_t>(rng.next());
        ep[d].ts_base = static_cast<uint32_t>(rng.next());
    }
    // A group address (multicast, broadcast) only ever receives: the model's client and
    // server trade places when it put one first, and a unicast host sends to two.
    // Format 15: a chunk without a unicast host of the version (ultraloq's IPv6 is the
    // unspecified address soliciting routers and neighbours) sends from the unspecified
    // address, as those solicitations do.
    if (group_in_chunk(side_, pe.ip_version, ep[0].addr)) {
        if (!group_in_chunk(side_, pe.ip_version, ep[1].addr)) {
            std::swap(ep[0], ep[1]);
        } else if (const int alt = unicast_slot(side_, pe.ip_version); alt >= 0) {
            ep[0].addr = slot_addr_[alt], ep[0].mac = slot_mac_[alt];
        } else if (const int none = v15 ? unspecified_slot(side_, pe.ip_version) : -1; none >= 0) {
            use_slot(ep[0], none);
        }
    }
    if (udp && shaped) {
        // Format 20's fresh client port, from a stream of its own: the flow's other draws keep their order.
        Rng own(mix64(seed_ ^ mix64(fi ^ 0xE9E4ULL)));
        pair_udp_ports(side_, ep[0].port, ep[1].port, side_.format >= 20 ? ephemeral_port(own) : 0);
    }
    // Format 10: a TCP client does not send from a port the chunk saw only in a fixed UDP
    // pairing (DHCP's 68, NTP's 123): the flow model drew it for the flow's size and
    // timing, not its protocol, and a chain kept it (ultraloq: 2,745 TCP packets from 68).
    if (side_.format >= 10 && tcp && udp_partner_port(side_, ep[0].port))
        ep[0].port = ephemeral_port(rng);
    auto unicast_but = [&](const std::array<uint8_t, 16>& a) { return unicast_slot_but(side_, pe.ip_version, slot_addr_, a); };
    // Format 11: TCP is a conversation between two unicast hosts. A server the model put
    // on a group address or on the client itself (ultraloq: SYNs to 255.255.255.255,
    // 490 packets from a host to itself) is the chunk's busiest unicast host but the
    // client; two ports below 1024 only as often as the chunk had them.
    if (v11 && tcp && (group_in_chunk(side_, pe.ip_version, ep[1].addr) || ep[1].addr == ep[0].addr))
        if (const int alt = unicast_but(ep[0].addr); alt >= 0) use_slot(ep[1], alt);
    if (v11 && tcp && ep[0].port < 1024 && ep[1].port < 1024) {
        if (low_port_flows_left_ > 0) --low_port_flows_left_;
        else ep[0].port = ephemeral_port(rng);
    }
    if (side_.format >= 26 && tcp) ep[0].port = tcp_client_port(ep[0].port, ep[1].port, mix64(seed_ ^ mix64(fi ^ 0x5E2FULL)));
    // Formats 31 and 30: a port, then a host, keeps its side_ of TCP (tcp_roles.h).
    if (side_.format >= 31 && tcp) {
        Rng own(mix64(seed_ ^ mix64(fi ^ 0x7C31ULL)));
        const auto p = tcp_role_ports(side_, {ep[0].port, ep[1].port}, ephemeral_port(own));
        ep[0].port = p[0], ep[1].port = p[1];
    }
    if (side_.format >= 30 && tcp) keep_tcp_roles(side_, pe.ip_version, slot_addr_, ep, put_slot);
    // Format 16: the unspecified address only solicits, and no host talks to itself.
    if (v16) {
        const uint8_t v = pe.ip_version;
        int slot = -1;
        switch (role_fix({v, pe.ports, udp, udp_answer_[fi] == 1, ep[0].addr, ep[1].addr, ep[0].port, ep[1].port})) {
            case RoleFix::kNone: break;
            case RoleFix::kReceiverToUnicast:
            case RoleFix::kSelfToUnicast:  // a group when the version has no other unicast host
                if (slot = unicast_but(ep[0].addr); slot < 0) slot = group_slot(side_, v);
                if (slot >= 0) use_slot(ep[1], slot);
                break;
            case RoleFix::kSenderToUnicast:
                if (slot = unicast_but(ep[1].addr); slot >= 0) use_slot(ep[0], slot);
                break;
            case RoleFix::kDhcpRequest:
                ep[0].port = kDhcpClientPort, ep[1].port = kDhcpServerPort, ep[1].addr = kLimitedBroadcast;
                break;
            case RoleFix::kReceiverToGroup:
                if (slot = group_slot(side_, v); slot >= 0) use_slot(ep[1], slot);
                break;
        }
    }
    // Format 15: the unspecified address solicits a group (a router, its own address's
    // neighbours, DHCP's broadcast); flipping a bit of it made :: send to ::1.
    if (v15 && ep[0].addr == ep[1].addr && unspecified(pe.ip_version, ep[0].addr))
        if (const int g = group_slot(side_, pe.ip_version); g >= 0) use_slot(ep[1], g);
    // Format 62: IGMP goes to the groups the chunk's went to, from their querier (igmp_messages.h).
    if (igmp) {
        if (const int g = igmp_.receiver(ep[1].addr, mix64(seed_ ^ mix64(fi ^ 0x16A9ULL))); g >= 0 && slot_addr_[g] != ep[0].addr)
            use_slot(ep[1], g);
        if (const int q = igmp_.sender(ep[1].addr); q >= 0) use_slot(ep[0], q);
    }
    // Format 38: an ICMP error from its kind's sender, to a unicast host (icmp_senders.h).
    const bool error_flow = v38 && icmp && send_icmp_error(side_, icmp_kind_[fi], pe.ip_version, slot_addr_, ep, put_slot);
    // Format 28: a well-known UDP port sits on its host, and its client asks first.
    if (v28 && udp && pe.ip_version == 4) serve_udp_ends(side_, slot_addr_, ep, mix64(seed_ ^ mix64(fi ^ 0x5E28ULL)), put_slot);
    if (ep[0].addr == ep[1].addr && ep[0].port == ep[1].port) ep[1].addr[15 - (pe.ip_version == 4 ? 12 : 0)] ^= 1;
    return error_flow;
}

}  // namespace dgc::trainer
