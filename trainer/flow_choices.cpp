// Decisions the chunk's counts make for the flows the models drew (format 6): which flow
// gets which ICMP kind, which SYN flows go unanswered, how TCP flows end, which UDP flows
// are answered, which mid-connection flows carry timestamps, the capture's loss rates, and
// (format 18) which start bucket each TCP flow takes.
// Each hands out an exact per-chunk count, preferring the flows whose model tokens agree.
#include "trainer/flow_choices.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <map>
#include <queue>
#include <set>
#include <tuple>

#include "trainer/endpoint_roles.h"
#include "trainer/flow_timing.h"
#include "trainer/host_slots.h"
#include "trainer/icmp_kind_flows.h"
#include "trainer/rng.h"
#include "trainer/synth_endpoint.h"
#include "trainer/synth_fields.h"

namespace dgc::trainer {

namespace {
bool icmp_is_reply(uint8_t proto, uint8_t type) { return icmp_request_of(proto, type) >= 0; }

// Format 59: a kind the stratified draw gave no flow takes the smallest flow of the kind
// with the most flows, while that kind has two or more; kinds in the chunk's order (most
// packets first), and of the flows so taken the commoner kinds the larger. `flows` is
// largest first.
void give_every_kind_a_flow(const std::vector<int>& kinds, const std::vector<size_t>& flows, std::vector<int>& out) {
    std::map<int, size_t> held;
    for (size_t f : flows) ++held[out[f]];
    std::vector<int> served;
    std::vector<size_t> taken;  // positions in `flows`
    for (int k : kinds) {
        if (held[k]) continue;
        const auto donor = std::max_element(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
        if (donor->second < 2) break;
        size_t p = flows.size();
        while (out[flows[--p]] != donor->first) {}
        --donor->second, ++held[k];
        out[flows[p]] = k;
        served.push_back(k), taken.push_back(p);
    }
    std::sort(taken.begin(), taken.end());
    for (size_t i = 0; i < taken.size(); ++i) out[flows[taken[i]]] = served[i];
}
}  // namespace

// Index into side.icmp of each ICMP flow's kind (-1 for other flows).
std::vector<int> assign_icmp_kinds(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed) {
    std::vector<int> out(flows.size(), -1);
    Rng rng(mix64(seed ^ 0x1C3BULL));
    for (uint8_t proto : {uint8_t{1}, uint8_t{58}}) {
        std::vector<size_t> fl;
        for (size_t i = 0; i < flows.size(); ++i)
            if (proto_of(side, flows[i]).proto == proto) fl.push_back(i);
        // Kinds a flow can open with: requests and unsolicited messages; replies only when
        // the chunk saw nothing else (a capture of one direction).
        bool requests = false;
        for (const auto& k : side.icmp) requests |= k.proto == proto && !icmp_is_reply(k.proto, k.type);
        std::vector<double> cum;
        std::vector<int> kind;
        double total = 0;
        for (size_t k = 0; k < side.icmp.size(); ++k) {
            const auto& e = side.icmp[k];
            if (e.proto != proto || (requests && icmp_is_reply(e.proto, e.type))) continue;
            total += e.count;
            cum.push_back(total);
            kind.push_back(static_cast<int>(k));
        }
        if (fl.empty() || kind.empty()) continue;
        std::stable_sort(fl.begin(), fl.end(), [&](size_t a, size_t b) { return flows[a].packets > flows[b].packets; });
        // Format 64: each kind that opened flows as many as it opened, a lone reply's too
        // (icmp_kind_flows.h); format 59's rule then serves a kind that only ever came inside
        // another's flows.
        if (const std::vector<int> opening = side.format >= 64 ? opening_kinds(side, proto) : std::vector<int>{}; !opening.empty()) {
            give_kinds_their_flows(side, opening, fl, flows, out);
            give_every_kind_a_flow(kind, fl, out);
            continue;
        }
        // Stratified over the flows (largest first): every kind with a share of at least one
        // flow gets one, in proportion to its packets.
        const double offset = static_cast<double>(rng.below(1u << 20)) / (1u << 20);
        for (size_t r = 0; r < fl.size(); ++r) {
            const double u = total * (static_cast<double>(r) + offset) / static_cast<double>(fl.size());
            const size_t k = static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
            out[fl[r]] = kind[std::min(k, kind.size() - 1)];
        }
        if (side.format >= 59) give_every_kind_a_flow(kind, fl, out);
    }
    return out;
}

LossRates loss_rates(const TcpLoss& l) {
    if (!l.segments) return {};
    const double n = static_cast<double>(l.segments);
    return {l.gaps / n, l.retrans / n, l.unseen / n};
}

LossRates end_loss_rates(const ChunkSide& side, const LossRates& r, int end) {
    if (side.format < 41) return r;
    const TcpLoss& all = side.tcp_loss;
    const TcpLoss& e = side.loss_ends[end & 1];
    if (!e.segments || !all.segments) return r;
    const double segment_share = static_cast<double>(e.segments) / all.segments;
    auto scale = [&](double rate, uint32_t at_end, uint32_t events) {
        return events ? rate * (static_cast<double>(at_end) / events) / segment_share : rate;
    };
    return {scale(r.gap, e.gaps, all.gaps), scale(r.retrans, e.retrans, all.retrans), scale(r.unseen, e.unseen, all.unseen)};
}

double unseen_run_goes_on(const ChunkSide& side, int end, double streak) {
    const uint32_t runs = side.loss_ends[end & 1].unseen, acks = side.unseen_acks[end & 1];
    if (side.format < 43 || runs == 0 || acks <= runs) return 0.0;
    return std::max(0.0, 1.0 - streak * runs / acks);
}

double resend_after_ack_share(const ChunkSide& side, int end) {
    const uint32_t resends = side.loss_ends[end & 1].retrans;
    if (side.format < 44 || resends == 0) return 1.0;
    return std::min(1.0, static_cast<double>(side.spurious_retrans[end & 1]) / resends);
}

double mean_streak(std::span<const uint8_t> dirs, uint8_t dir) {
    size_t sent = 0, streaks = 0;
    for (size_t j = 0; j < dirs.size(); ++j)
        if (dirs[j] == dir) ++sent, streaks += j == 0 || dirs[j - 1] != dir;
    return streaks ? static_cast<double>(sent) / streaks : 1.0;
}

std::vector<uint8_t> pick_lossy_flows(const ChunkSide& side, const std::vector<FlowTokens>& flows) {
    if (side.format < 14) return {};
    std::vector<uint8_t> out(flows.size(), 0);
    std::vector<std::pair<uint64_t, size_t>> order;  // (host pair's hash, flow)
    for (size_t i = 0; i < flows.size(); ++i)
        if (tcp_first_flag(side, flows[i]) >= 0)
            order.emplace_back(mix64(uint64_t{flows[i].a[kAttrCliHost]} << 8 | flows[i].a[kAttrSrvHost]), i);
    std::stable_sort(order.begin(), order.end());
    std::vector<uint32_t> left = side.lossy_flows;
    left.resize(kPktClasses, 0);
    for (auto [hash, i] : order)
        if (uint32_t& n = left[pkts_class(flows[i].packets)]; n) --n, out[i] = 1;
    return out;
}

void pair_udp_ports(const ChunkSide& side, uint16_t& cli, uint16_t& srv, uint16_t ephemeral) {
    auto partner = [&](uint16_t port) -> int {
        const int t = port_token(port, side.ports);
        for (auto [p, q] : side.port_partners)
            if (p == t) return side.ports[q];
        return -1;
    };
    const bool ranked_service = std::find(side.ports.begin(), side.ports.end(), srv) != side.ports.end();
    if (const int p = partner(srv); p >= 0) {
        cli = static_cast<uint16_t>(p);
    } else if (const int q = partner(cli); q >= 0) {
        if (side.format >= 20 && ranked_service) cli = ephemeral;
        else srv = static_cast<uint16_t>(q);
    }
}

namespace {
// A UDP flow's client and server ports from its tokens (an unranked port as its bucket's
// middle, none as ephemeral), paired as the generator pairs them.
std::array<uint16_t, 2> approx_ports(const ChunkSide& side, const FlowTokens& f) {
    auto approx = [&](int t) -> uint16_t {
        if (t < kPortRanks && t < static_cast<int>(side.ports.size())) return side.ports[t];
        if (t >= kPortRanks && t < kPortNone) return static_cast<uint16_t>(((t - kPortRanks) << 12) + 2048);
        return kFirstDynamicPort;
    };
    std::array<uint16_t, 2> p = {approx(f.a[kAttrCliPort]), approx(f.a[kAttrSrvPort])};
    pair_udp_ports(side, p[0], p[1], kFirstDynamicPort);
    return p;
}

// Format 7: where a UDP flow's first packet goes: 0 a client asking a service (higher port to
// lower), 1 equal ports, 2 the service port speaking first.
int port_relation(const ChunkSide& side, std::array<uint16_t, 2> p) {
    // Format 28: an asked service's end receives (serve_udp_ports), whichever end the model drew.
    if (side.format >= 28 && service_flag(side.udp_services, side.ports, p[0], UdpService::kAsked) !=
                                 service_flag(side.udp_services, side.ports, p[1], UdpService::kAsked))
        return 0;
    return p[0] > p[1] ? 0 : p[0] == p[1] ? 1 : 2;
}
}  // namespace

// Which UDP flows of two or more packets are answered (1) or go one way (0), per size
// group as many as the chunk had, those the packet model answered most first (format 7:
// requests to a service first, a service speaking first last); -1 for other flows (the
// model's directions stand).
std::vector<int8_t> pick_udp_answers(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                     const std::vector<PacketTokens>& packets) {
    std::vector<int8_t> out(flows.size(), -1);
    if (side.format < 6 || side.group_sizes.empty()) return out;
    std::map<uint16_t, uint32_t> quota(side.answered_udp.begin(), side.answered_udp.end());
    // group -> (relation, slow, -replies, flow)
    std::map<uint16_t, std::vector<std::tuple<int, bool, int64_t, size_t>>> cand;
    for (size_t i = 0; i < flows.size(); ++i) {
        const FlowTokens& f = flows[i];
        const ProtoEntry& pe = proto_of(side, f);
        if (pe.proto != 17 || !pe.ports || f.packets < 2) continue;
        // Format 28: a flow to a group address, or on a service the chunk never answered, goes
        // one way and takes no answer from the count; one on a service that answers comes first.
        const std::array<uint16_t, 2> ports = approx_ports(side, f);
        auto service = [&](uint8_t flag) {
            return service_flag(side.udp_services, side.ports, ports[0], flag) || service_flag(side.udp_services, side.ports, ports[1], flag);
        };
        const bool v28 = side.format >= 28;
        if (v28 && (group_host(side, f.a[kAttrSrvHost]) || group_host(side, f.a[kAttrCliHost]) || service(UdpService::kUnanswered))) {
            out[i] = 0;
            continue;
        }
        int64_t replies = 0;
        for (uint32_t j = 1; j < f.packets; ++j) replies += packets[f.first + j].dir & 1;
        // Format 13: a flow whose duration class puts its packets over an exchange's silence
        // apart on average is more a series of requests than requests and replies: such
        // flows are answered last.
        const bool slow = side.format >= 13 &&
                          dt_class_bounds(f.a[kAttrDur]).first > kUdpExchangeSilenceNs * static_cast<int64_t>(f.packets - 1);
        const int relation = v28 && service(UdpService::kAnswered) ? -1 : side.format >= 7 ? port_relation(side, ports) : 0;
        cand[size_group(f)].emplace_back(relation, slow, -replies, i);
    }
    for (auto& [group, c] : cand) {
        std::stable_sort(c.begin(), c.end());
        const uint32_t answered = quota.count(group) ? quota[group] : 0;
        for (size_t k = 0; k < c.size(); ++k) out[std::get<3>(c[k])] = k < answered ? 1 : 0;
    }
    return out;
}

namespace {

uint8_t first_flag(const ChunkSide& side, const FlowTokens& f) {
    return side.flags.empty() ? 0 : side.flags[std::min<size_t>(f.a[kAttrFirstFlag], side.flags.size() - 1)];
}

// Segments the packet model sent from the responder (after the first).
uint32_t replies_of(const FlowTokens& f, const std::vector<PacketTokens>& packets) {
    uint32_t replies = 0;
    for (uint32_t j = 1; j < f.packets; ++j) replies += packets[f.first + j].dir & 1;
    return replies;
}

// Whether the packet model put a FIN / a RST anywhere in the flow.
std::pair<bool, bool> model_closes(const ChunkSide& side, const FlowTokens& f, const std::vector<PacketTokens>& packets) {
    bool fin = false, rst = false;
    for (uint32_t j = 0; j < f.packets; ++j) {
        const uint8_t fl = side.flags.empty() ? 0 : side.flags[std::min<size_t>(packets[f.first + j].flag, side.flags.size() - 1)];
        fin |= (fl & kFin) != 0, rst |= (fl & kRst) != 0;
    }
    return {fin, rst};
}

// Formats 6 and 7: which SYN-opening flows get no answer, per size group as many as the
// chunk had, those the packet model gave the fewest segments from the responder.
std::vector<char> pick_unanswered(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                  const std::vector<PacketTokens>& packets) {
    std::vector<char> out(flows.size(), 0);
    for (auto [group, count] : side.unanswered_syns) {
        std::vector<std::pair<uint32_t, size_t>> cand;  // (responder segments, flow)
        for (size_t i = 0; i < flows.size(); ++i) {
            const FlowTokens& f = flows[i];
            if (size_group(f) != group || f.packets < 2) continue;
            if ((first_flag(side, f) & (kSyn | kAck)) != kSyn) continue;
            cand.emplace_back(replies_of(f, packets), i);
        }
        std::stable_sort(cand.begin(), cand.end());
        for (size_t k = 0; k < cand.size() && k < count; ++k) out[cand[k].second] = 1;
    }
    return out;
}

// Format 9: TCP flows that a later flow of the same hosts and server port (as the flow
// model drew them) may go on from, because that later flow does not open with SYN.
std::vector<char> continued_later(const ChunkSide& side, const std::vector<FlowTokens>& flows) {
    std::vector<char> out(flows.size(), 0);
    std::set<std::array<uint8_t, 3>> ahead;
    for (size_t i = flows.size(); i-- > 0;) {
        const FlowTokens& f = flows[i];
        const ProtoEntry& pe = proto_of(side, f);
        if (pe.proto != 6 || !pe.ports) continue;
        const std::array<uint8_t, 3> conn{f.a[kAttrCliHost], f.a[kAttrSrvHost], f.a[kAttrSrvPort]};
        out[i] = ahead.count(conn) != 0;
        if ((first_flag(side, f) & (kSyn | kAck)) != kSyn) ahead.insert(conn);
    }
    return out;
}

// Format 8: per (size group, size class), the chunk's own counts. The silent SYNs go to
// the flows the packet model answered least, the refused ones to those it answered with a
// RST first, the FIN exchanges and resets to those it closed so; every other SYN flow is
// accepted and every other flow is cut by the chunk. Format 9: a connection is closed on
// the last flow of its hosts and server port first (a FIN in a flow that goes on later
// ends what the real device kept open), and `fin_rst` of the FIN closes end in a reset.
void pick_fates(const ChunkSide& side, const std::vector<FlowTokens>& flows, const std::vector<PacketTokens>& packets,
                std::vector<TcpOpening>& opening, std::vector<TcpEnding>& ending) {
    const std::vector<char> goes_on = side.format >= 9 ? continued_later(side, flows) : std::vector<char>(flows.size(), 0);
    for (size_t i = 0; i < flows.size(); ++i) {
        const ProtoEntry& pe = proto_of(side, flows[i]);
        if (pe.proto != 6 || !pe.ports) continue;
        ending[i] = TcpEnding::kNone;
        if ((first_flag(side, flows[i]) & (kSyn | kAck)) == kSyn) opening[i] = TcpOpening::kAccepted;
    }
    std::map<std::pair<uint16_t, uint8_t>, std::vector<size_t>> members;
    for (size_t i = 0; i < flows.size(); ++i) members[{size_group(flows[i]), flows[i].a[kAttrPkts]}].push_back(i);
    for (const auto& fate : side.tcp_fates) {
        auto it = members.find({fate.group, fate.size_class});
        if (it == members.end()) continue;
        std::vector<size_t> left;
        auto take = [&](uint32_t count, auto key, auto apply) {
            std::vector<std::pair<int64_t, size_t>> cand;
            for (size_t i : left) cand.emplace_back(key(i), i);
            std::stable_sort(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
            left.clear();
            for (size_t k = 0; k < cand.size(); ++k) (k < count ? apply(cand[k].second) : left.push_back(cand[k].second));
        };
        std::vector<size_t> syn;
        for (size_t i : it->second) (opening[i] == TcpOpening::kAccepted && flows[i].packets >= 2 ? syn : left).push_back(i);
        std::vector<size_t> others = std::move(left);
        left = std::move(syn);
        take(fate.unanswered, [&](size_t i) { return int64_t{replies_of(flows[i], packets)}; },
             [&](size_t i) { opening[i] = TcpOpening::kUnanswered; });
        take(fate.refused,
             [&](size_t i) {
                 const uint8_t second = side.flags.empty() ? 0 : side.flags[std::min<size_t>(packets[flows[i].first + 1].flag, side.flags.size() - 1)];
                 return int64_t{(second & kRst) ? 0 : 1};
             },
             [&](size_t i) { opening[i] = TcpOpening::kRefused; });
        left.insert(left.end(), others.begin(), others.end());
        std::vector<size_t> fins;
        take(fate.fin, [&](size_t i) { return int64_t{goes_on[i]} * 2 + (model_closes(side, flows[i], packets).first ? 0 : 1); },
             [&](size_t i) { ending[i] = TcpEnding::kFin, fins.push_back(i); });
        take(fate.rst, [&](size_t i) { return int64_t{goes_on[i]} * 2 + (model_closes(side, flows[i], packets).second ? 0 : 1); },
             [&](size_t i) { ending[i] = TcpEnding::kRst; });
        std::swap(left, fins);
        take(side.format >= 9 ? fate.fin_rst : 0, [&](size_t i) { return int64_t{model_closes(side, flows[i], packets).second ? 0 : 1}; },
             [&](size_t i) { ending[i] = TcpEnding::kFinRst; });
    }
}

// Formats 6 and 7: per size group, as many FIN and RST endings as the chunk had, on the
// flows whose packet model closed them so first; the rest are cut by the chunk.
std::vector<TcpEnding> pick_group_endings(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                          const std::vector<PacketTokens>& packets, const std::vector<char>& unanswered) {
    std::vector<TcpEnding> out(flows.size(), TcpEnding::kModel);
    if (side.endings.empty() && side.group_sizes.empty()) return out;
    for (size_t i = 0; i < flows.size(); ++i) out[i] = TcpEnding::kNone;
    for (const auto& e : side.endings) {
        std::vector<std::tuple<int, int, size_t>> cand;  // (-model FIN, -model RST, flow)
        for (size_t i = 0; i < flows.size(); ++i) {
            const FlowTokens& f = flows[i];
            if (size_group(f) != e.group || unanswered[i]) continue;
            const auto [fin, rst] = model_closes(side, f, packets);
            cand.emplace_back(-int{fin}, -int{rst}, i);
        }
        std::stable_sort(cand.begin(), cand.end());
        size_t k = 0;
        for (; k < cand.size() && k < e.fin; ++k) out[std::get<2>(cand[k])] = TcpEnding::kFin;
        std::stable_sort(cand.begin() + static_cast<long>(k), cand.end(),
                         [](const auto& a, const auto& b) { return std::get<1>(a) < std::get<1>(b); });
        for (size_t m = 0; k < cand.size() && m < e.rst; ++k, ++m) out[std::get<2>(cand[k])] = TcpEnding::kRst;
    }
    return out;
}

}  // namespace

// Format 18: a device keeps one connection to a service and opens the next when it ends.
// The flow model draws a connection's server host anew per flow (format 9 continues the
// client's connection to the port whatever host it drew), so format 9's closes, on the last
// flow of a host pair, cut chains mid-way and later flows found nothing open. The endings of
// flows that their chain (client and server port, as drawn) goes on from move to the flows
// their chain reopens after with SYN, within the size group and class format 8 counts them by.
// Format 19: then any size, where the client is a ranked host. ultraloq's chunks kept 2 to
// 8 flows each that reopen without an ending while 1 to 4 endings stayed mid-chain; the
// connection left open took the chain's next flows after minutes (tcptrace: a connection of
// its own).
void end_before_reopen(const ChunkSide& side, const std::vector<FlowTokens>& flows, const std::vector<TcpOpening>& opening,
                       std::vector<TcpEnding>& ending) {
    using Chain = std::array<uint8_t, 2>;  // client host token, server port token
    const bool v19 = side.format >= 19;
    auto opens = [&](size_t i) { return (first_flag(side, flows[i]) & (kSyn | kAck)) == kSyn; };
    // Format 24: a chain's server port is the one the generator gives it. A ranked port the
    // chunk never used with TCP serves as its first TCP port (format 17's port_for_protocol):
    // ultraloq's hub opened and ended connections on ports the model drew for other
    // protocols, which format 17 turns into 8883, so their endings stayed where a chain of
    // their own would end them, mid-way through the connection to 8883.
    auto served = [&](uint8_t token) {
        const int k = side.format >= 24 ? port_for_protocol(side.port_protos, token, kPortProtoTcp, true) : token;
        return static_cast<uint8_t>(k >= 0 ? k : token);
    };
    // Format 19: a flow that goes on mid-connection names its chain the wrong way round when
    // only the reverse is a chain some SYN opened (ultraloq's endings start with the broker's
    // FIN: their first segment comes from the server).
    std::set<Chain> opened;
    for (size_t i = 0; v19 && i < flows.size(); ++i)
        if (tcp_first_flag(side, flows[i]) >= 0 && opens(i)) opened.insert({flows[i].a[kAttrCliHost], served(flows[i].a[kAttrSrvPort])});
    auto chain_of = [&](const FlowTokens& f) {
        const Chain drawn{f.a[kAttrCliHost], served(f.a[kAttrSrvPort])}, turned{f.a[kAttrSrvHost], served(f.a[kAttrCliPort])};
        return v19 && !opened.count(drawn) && opened.count(turned) ? turned : drawn;
    };
    std::map<Chain, size_t> last;  // chain -> its latest flow so far
    std::vector<char> reopened(flows.size(), 0), goes_on(flows.size(), 0), device(flows.size(), 0);
    for (size_t i = 0; i < flows.size(); ++i) {
        if (tcp_first_flag(side, flows[i]) < 0) continue;
        const Chain chain = chain_of(flows[i]);
        // An unranked client token stands for many hosts, not one device's chain.
        device[i] = chain[0] < side.hosts.size();
        if (auto it = last.find(chain); it != last.end()) (opens(i) ? reopened : goes_on)[it->second] = 1;
        last[chain] = i;
    }
    auto movable = [&](size_t i) { return opening[i] != TcpOpening::kUnanswered && opening[i] != TcpOpening::kRefused; };
    auto mid_chain_end = [&](size_t i) {
        return goes_on[i] && !reopened[i] && movable(i) && ending[i] != TcpEnding::kNone && ending[i] != TcpEnding::kModel;
    };
    // (size group, size class) -> flows reopened after, with no ending yet
    std::map<std::pair<uint16_t, uint8_t>, std::vector<size_t>> enders;
    auto kind = [&](size_t i) { return std::pair{size_group(flows[i]), flows[i].a[kAttrPkts]}; };
    for (size_t i = 0; i < flows.size(); ++i)
        if (reopened[i] && movable(i) && ending[i] == TcpEnding::kNone) enders[kind(i)].push_back(i);
    for (size_t i = 0; i < flows.size(); ++i) {
        if (!mid_chain_end(i)) continue;
        auto& to = enders[kind(i)];
        if (to.empty()) continue;
        std::swap(ending[i], ending[to.front()]);
        to.erase(to.begin());
    }
    if (!v19) return;
    std::vector<size_t> left;  // in flow order
    for (auto& [k, to] : enders) std::copy_if(to.begin(), to.end(), std::back_inserter(left), [&](size_t j) { return device[j]; });
    std::sort(left.begin(), left.end());
    // Each to the first flow left with room for its segments after the handshake
    // (tcp_plan.cpp's teardown): one that opens and closes at once has none.
    auto room = [&](size_t j) {
        const uint8_t flag = first_flag(side, flows[j]);
        const uint32_t opening = (flag & (kSyn | kAck)) == kSyn ? 3 : (flag & (kSyn | kAck)) == (kSyn | kAck) ? 2 : 0;
        return flows[j].packets - std::min(flows[j].packets, opening);
    };
    auto needs = [](TcpEnding e) { return e == TcpEnding::kFin ? 3u : e == TcpEnding::kFinRst ? 2u : 1u; };
    for (size_t i = 0; i < flows.size() && !left.empty(); ++i) {
        if (!device[i] || !mid_chain_end(i)) continue;
        const auto to = std::find_if(left.begin(), left.end(), [&](size_t j) { return room(j) >= needs(ending[i]); });
        if (to == left.end()) continue;
        std::swap(ending[i], ending[*to]);
        left.erase(to);
    }
}

TcpFlowFates pick_tcp_fates(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                            const std::vector<PacketTokens>& packets) {
    TcpFlowFates out;
    out.opening.assign(flows.size(), TcpOpening::kModel);
    if (side.format >= 8) {
        out.ending.assign(flows.size(), TcpEnding::kModel);
        pick_fates(side, flows, packets, out.opening, out.ending);
        if (side.format >= 18) end_before_reopen(side, flows, out.opening, out.ending);
        return out;
    }
    const std::vector<char> unanswered = pick_unanswered(side, flows, packets);
    for (size_t i = 0; i < flows.size(); ++i)
        if (unanswered[i]) out.opening[i] = TcpOpening::kUnanswered;
    out.ending = pick_group_endings(side, flows, packets, unanswered);
    return out;
}

void requests_after_silence(std::vector<uint8_t>& dirs, std::vector<uint32_t>& lens, std::vector<int64_t>& at,
                            int64_t silence, uint32_t& late_replies) {
    for (size_t j = 1; j < dirs.size(); ++j) {
        if (dirs[j] == 0 || at[j] - at[j - 1] <= silence) continue;
        if (late_replies > 0) {
            --late_replies;
            continue;
        }
        if (auto k = std::find(dirs.begin() + j + 1, dirs.end(), uint8_t{0}) - dirs.begin(); k < std::ssize(dirs)) {
            std::swap(dirs[j], dirs[k]), std::swap(lens[j], lens[k]);
        } else {
            int64_t gap = at[j] - at[j - 1];
            while (gap > silence) gap /= 2;
            at[j] = at[j - 1] + gap;
        }
    }
}

const UdpTuple* udp_repeat_of(std::span<const UdpTuple> tuples, std::array<uint16_t, 2> ports, bool answers, int64_t start,
                              int64_t split, const std::array<uint32_t, 4>* kinds_left, bool keep_service) {
    const auto relation = [](const std::array<uint16_t, 2>& p) { return (p[0] > p[1]) - (p[0] < p[1]); };
    const auto allowed = [&](const UdpTuple& u) { return !kinds_left || (*kinds_left)[u.answered * 2 + answers] > 0; };
    const bool peers = kinds_left && ports[0] >= 1024 && ports[1] >= 1024;
    const UdpTuple* best = nullptr;
    if (!peers) {
        for (const UdpTuple& u : tuples)
            if (u.end + split < start && relation(u.ports) == relation(ports) && allowed(u) && (!keep_service || u.ports[1] == ports[1]) &&
                (!best || u.end > best->end))
                best = &u;
        return best;
    }
    const auto rank = [&](const UdpTuple& u) {
        return std::tuple(u.answered == answers, u.end + split < start, relation(u.ports) == relation(ports), u.end);
    };
    for (const UdpTuple& u : tuples)
        if (allowed(u) && (!best || rank(u) > rank(*best))) best = &u;
    return best;
}

std::vector<std::array<int32_t, 2>> assign_pool_ports(const ChunkSide& side, const std::vector<FlowTokens>& flows) {
    std::vector<std::array<int32_t, 2>> pick(flows.size(), {-1, -1});
    if (side.pool.empty()) return pick;
    // Middle of each port's mass class: what is left to hand out, per pool port.
    std::vector<double> left(side.pool.size());
    using Entry = std::pair<double, int32_t>;  // (left, -index): ties go to the lower port
    std::array<std::array<std::priority_queue<Entry>, kPortBuckets>, 2> heap;  // [server][bucket]
    for (size_t i = 0; i < side.pool.size(); ++i) {
        const int c = side.pool[i].mass_class;
        left[i] = c <= 1 ? c : (std::ldexp(1.0, c - 1) + std::ldexp(1.0, c) - 1) / 2;
        heap[side.pool[i].server][side.pool[i].port >> 12].push({left[i], -static_cast<int32_t>(i)});
    }
    std::vector<std::pair<size_t, int>> ends;  // (flow, side)
    for (size_t fi = 0; fi < flows.size(); ++fi) {
        if (!proto_of(side, flows[fi]).ports) continue;
        for (int d = 0; d < 2; ++d) {
            const int tok = flows[fi].a[d == 0 ? kAttrCliPort : kAttrSrvPort];
            if (tok >= kPortRanks && tok < kPortNone) ends.emplace_back(fi, d);
        }
    }
    std::stable_sort(ends.begin(), ends.end(),
                     [&](const auto& x, const auto& y) { return flows[x.first].packets > flows[y.first].packets; });
    for (auto [fi, d] : ends) {
        const double n = flows[fi].packets;
        auto fits = [&](const std::priority_queue<Entry>& h) { return !h.empty() && h.top().first >= n / 2; };
        // The bucket the model drew first; when that has nothing left, the same side's
        // fullest port anywhere (the bucket token is the model's guess, the pool is exact).
        auto* h = &heap[d][flows[fi].a[d == 0 ? kAttrCliPort : kAttrSrvPort] - kPortRanks];
        if (!fits(*h))
            for (auto& o : heap[d])
                if (fits(o) && (!fits(*h) || o.top() > h->top())) h = &o;
        if (!fits(*h)) continue;
        const int32_t i = -h->top().second;
        h->pop();
        pick[fi][d] = i;
        left[i] -= n;
        if (left[i] >= 0.5) h->push({left[i], -i});
    }
    return pick;
}

int tcp_first_flag(const ChunkSide& side, const FlowTokens& f) {
    const ProtoEntry& pe = proto_of(side, f);
    return pe.proto == 6 && pe.ports ? first_flag(side, f) : -1;
}

OpeningTimestamps::OpeningTimestamps(const ChunkSide& side, const std::vector<FlowTokens>& flows) {
    for (size_t c = 0; c < quota_.size() && c < side.opening_ts.size(); ++c) quota_[c].left = side.opening_ts[c];
    for (const auto& f : flows)
        if (const int first = tcp_first_flag(side, f); first >= 0 && (first & (kSyn | kAck)) == kSyn)
            ++quota_[pkts_class(f.packets)].flows;
}

std::vector<FlowTokens> with_start_counts(const ChunkSide& side, const std::vector<FlowTokens>& flows) {
    std::vector<uint8_t> bucket;
    std::vector<char> tcp;
    std::vector<uint32_t> size;
    for (const auto& f : flows) bucket.push_back(f.bucket), tcp.push_back(tcp_first_flag(side, f) >= 0), size.push_back(f.packets);
    bucket = tcp_matched_buckets(bucket, tcp, size, side.tcp_starts);
    if (side.format >= 21) bucket = packet_matched_buckets(bucket, tcp, size, side.start_packets);
    std::vector<FlowTokens> out = flows;
    for (size_t i = 0; i < out.size(); ++i) out[i].bucket = bucket[i];
    std::stable_sort(out.begin(), out.end(), [](const FlowTokens& a, const FlowTokens& b) { return a.bucket < b.bucket; });
    return out;
}

}  // namespace dgc::trainer
