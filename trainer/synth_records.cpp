#include "trainer/synth_records.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "codec/address_class.h"
#include "codec/fidelity/binning.h"
#include "codec/frame_synth.h"
#include "trainer/answered_peers.h"
#include "trainer/broadcast_hosts.h"
#include "trainer/chunk_semantics.h"
#include "trainer/edge_connections.h"
#include "trainer/flow_choices.h"
#include "trainer/flow_endpoints.h"
#include "trainer/flow_timing.h"
#include "trainer/gap_places.h"
#include "trainer/gateway_twins.h"
#include "trainer/icmp_echo.h"
#include "trainer/icmp_quotes.h"
#include "trainer/host_slots.h"
#include "trainer/legacy/synth_records_v5.h"
#include "trainer/nonip_frames.h"
#include "trainer/open_connections.h"
#include "trainer/superseded_connections.h"
#include "trainer/synth_endpoint.h"
#include "trainer/synth_fields.h"
#include "trainer/syn_attempts.h"
#include "trainer/tcp_fin_resends.h"
#include "trainer/tcp_keepalives.h"
#include "trainer/tcp_plan.h"
#include "trainer/tcp_reorder.h"
#include "trainer/tcp_loss_draws.h"
#include "trainer/tcp_roles.h"
#include "trainer/udp_service_ends.h"
#include "trainer/rng.h"

namespace dgc::trainer {

namespace {
// The spec ends a flow at a gap of more than 60 s; generated in-flow gaps stay at or below it.
constexpr int64_t kMaxFlowGap = 60'000'000'000;

constexpr LossRates kNoLoss{};  // a format-14 flow that is not one of the lossy ones

// `lossy_tcp`, where given, gets the flow keys of the TCP flows that draw the chunk's loss.
std::vector<PacketRecord> synthesize(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                     const std::vector<PacketTokens>& packets, uint64_t seed, std::vector<uint64_t>* lossy_tcp = nullptr) {
    std::vector<PacketRecord> out;
    out.reserve(side.ip_packets + side.nonip_packets);
    const int64_t t_end = side.t0 + side.span, ip_end = side.ip_t0 + side.ip_span;
    const uint32_t lhl = link_header_len(side.linktype);
    const bool ethernet = side.linktype == 1;

    const RankedAddresses ranked_addr = ranked_addresses(side, seed);
    const std::vector<std::array<uint8_t, 16>>& slot_addr = ranked_addr.addr;
    const std::vector<std::array<uint8_t, 6>>& slot_mac = ranked_addr.mac;

    // An endpoint's TCP timestamp clock (1 kHz from its base at the chunk's start) at `t`.
    auto tsval_at = [&](const Endpoint& e, int64_t t) { return e.ts_base + static_cast<uint32_t>((t - side.t0) / 1'000'000); };

    const bool v9 = side.format >= 9, v12 = side.format >= 12, v13 = side.format >= 13, v14 = side.format >= 14;
    const bool v18 = side.format >= 18, v28 = side.format >= 28, v29 = side.format >= 29, v38 = side.format >= 38;
    uint32_t eph_repeats_left = side.udp_ephemeral_repeats, lone_repeats_left = side.udp_lone_repeats;
    uint32_t late_replies_left = side.udp_late_replies;
    std::array<uint32_t, 4> repeat_kinds_left = side.udp_repeat_kinds;
    const std::vector<int64_t> starts = flow_start_times(side, flows, seed);
    const std::vector<int> icmp_kind = assign_icmp_kinds(side, flows, seed);
    const LossRates all_loss = loss_rates(side.tcp_loss), lossy_loss = loss_rates(side.lossy);
    const std::vector<uint8_t> lossy = pick_lossy_flows(side, flows);
    MidstreamTimestamps ts_quota(side, flows);
    OpeningTimestamps opening_ts(side, flows);
    const TcpFlowFates fates = pick_tcp_fates(side, flows, packets);
    const std::vector<int8_t> udp_answer = pick_udp_answers(side, flows, packets);
    // Format 7: pure ACKs and FINs with data at the chunk's own shares.
    const bool shaped = side.format >= 7;
    ShareQuota pure_acks(side.pure_acks, side.tcp_loss.segments, shaped), data_fins(side.data_fins, side.fins, shaped);
    const uint64_t sack_total = v9 ? uint64_t{side.sack_segments[0]} + side.sack_segments[1] + side.sack_segments[2] : 0;
    ShareQuota sacks(sack_total, side.tcp_loss.segments, true);
    // Per flow key: when its last flow ended, and where that flow's connection stood (a long
    // connection the spec's 60 s rule cuts into several flows goes on from there).
    struct KeyState {
        int64_t end = 0;
        std::array<uint8_t, 16> addr0{};
        uint16_t port0 = 0;
        std::array<uint32_t, 2> next_seq{}, ts_base{};
        std::array<uint16_t, 2> window{};  // format 40: a connection keeps its windows
        bool closed = false;  // its connection sent a FIN or RST (format 9: nothing goes on from it)
        bool answered = false;  // UDP: its last flow got a reply
    };
    std::unordered_map<uint64_t, KeyState> key_end;
    std::map<uint16_t, uint32_t> continues_left(side.continued.begin(), side.continued.end());
    GroupQuota udp_repeats(side.udp_repeats, side.format >= 8);
    OpenConnections conns;
    ChainReopens reopens(side);  // format 27
    const int resetter = reopens.resetter();
    const std::vector<uint32_t> cont_w(side.cont_gaps.begin(), side.cont_gaps.end());
    // Format 66: a silence past the split where the chunk's of its class sat.
    const std::span<const GapPlace> cont_places = side.format >= 66 ? std::span<const GapPlace>(side.cont_places) : std::span<const GapPlace>{};
    // Format 32: no connection goes on after a longer silence than the chunk's did.
    const int64_t longest_silence = reopens.longest_silence();
    constexpr size_t kUdpTuplesKept = 16;  // per host pair, the latest
    std::unordered_map<uint64_t, std::vector<UdpTuple>> udp_tuples;  // format 9: client + server host -> tuples
    AnsweredPeers answered_peers;
    std::vector<size_t> flow_begin;  // where each flow's records start in `out`, then where they end
    ChunkResends chunk_resends(side);  // format 44
    const IgmpSender igmp_sender(side.igmp_dests, slot_addr);  // format 62
    FlowEndpoints endpoints(side, flows, seed, ranked_addr, udp_answer, icmp_kind, igmp_sender);
    for (size_t fi = 0; fi < flows.size(); ++fi) {
        flow_begin.push_back(out.size());
        const FlowTokens& f = flows[fi];
        Rng rng(mix64(seed ^ (fi * 0x9e3779b97f4a7c15ULL)));
        const ProtoEntry& pe = proto_of(side, f);
        const bool tcp = pe.proto == 6 && pe.ports, udp = pe.proto == 17 && pe.ports;
        const bool icmp = pe.proto == 1 || pe.proto == 58;
        const bool igmp = side.format >= 62 && pe.proto == 2 && pe.ip_version == 4;
        Endpoint ep[2];
        const bool error_flow = endpoints.choose(fi, rng, ep);

        // Timing as in format 5: gaps from the packet model, fitted to the flow model's
        // duration class, never over the 60 s that would split the flow.
        int64_t start = starts[fi];
        const uint32_t n = f.packets;
        std::vector<int64_t> cum(n, 0);
        // Format 65: a gap of a second or more where the chunk's gaps of its class sat.
        for (uint32_t j = 1; j < n; ++j)
            cum[j] = std::min(side.format >= 65 ? sample_placed_dt(packets[f.first + j].gap, rng.next(), side.gap_places)
                                                : sample_dt(packets[f.first + j].gap, rng.next()),
                              kMaxFlowGap);
        const int dur_class = side.format >= 46 ? trusted_duration_class(f.a[kAttrDur], cum) : f.a[kAttrDur];
        fit_gaps_to_class(cum, dur_class, kMaxFlowGap, false);
        int64_t total = 0;
        auto accumulate = [&] {  // gaps -> offsets from the first packet
            for (uint32_t j = 1; j < n; ++j) cum[j] += cum[j - 1];
            total = n ? cum[n - 1] : 0;
        };
        accumulate();
        double scale = 1.0;
        if (start + total > ip_end) {
            start = std::max(side.ip_t0, ip_end - total);
            if (start + total > ip_end) scale = static_cast<double>(ip_end - start) / static_cast<double>(total);
        }
        auto at = [&](uint32_t j) {
            return start + (scale == 1.0 ? cum[j] : static_cast<int64_t>(std::llround(static_cast<double>(cum[j]) * scale)));
        };

        std::vector<uint8_t> dirs(n), model_flags(n);
        const bool to_group = group_in_chunk(side, pe.ip_version, ep[1].addr);
        bool replied = false;
        for (uint32_t j = 0; j < n; ++j) {
            const PacketTokens& pt = packets[f.first + j];
            dirs[j] = j == 0 || to_group || error_flow || udp_answer[fi] == 0 ? 0 : pt.dir & 1;
            replied |= dirs[j] != 0;
            model_flags[j] = side.flags.empty() ? 0x10 : side.flags[std::min<size_t>(pt.flag, side.flags.size() - 1)];
        }
        // A UDP flow the chunk's counts answer, where the model sent everything one way:
        // requests and responses alternate.
        if (udp_answer[fi] == 1 && !replied && !to_group)
            for (uint32_t j = 1; j < n; ++j) dirs[j] = j & 1;
        std::vector<TcpSegmentPlan> plan =
            tcp ? plan_tcp_flow(dirs, model_flags, fates.opening[fi], fates.ending[fi], resetter) : std::vector<TcpSegmentPlan>{};
        bool opens = tcp && n && (plan[0].flags & kSyn) && !(plan[0].flags & kAck);
        // Format 32: a connection opens from its client's end (tcp_roles.h).
        if (side.format >= 32 && opens && opens_from_service(side, {ep[0].port, ep[1].port})) std::swap(ep[0], ep[1]);
        // Format 27: a SYN whose chain an earlier piece already reopened goes on with that
        // connection, silent for over 60 s (the chunk keeps the model's count of handshakes).
        // Format 34: one silent for longer than the chunk's connections were, after a silence
        // drawn as a continued piece's (superseded_connections.h).
        bool attached = false;
        if (opens)
            if (const auto st = reopens.reopened(conns, ep[0], ep[1].port, start, kMaxFlowGap)) {
                model_flags[0] = kAck;
                plan = plan_tcp_flow(dirs, model_flags, TcpOpening::kModel, fates.ending[fi], resetter);
                opens = false, attached = true;
                ep[0].port = st->client_port, ep[1] = st->server;
                if (start - st->end - kMaxFlowGap - 1 > longest_silence) start = st->end + kMaxFlowGap + 1 + drawn_cont_excess(cont_w, seed, fi, cont_places);
            }
        if (tcp && shaped) shape_teardown(plan, data_fins, side.pure_acks == 0 && side.tcp_loss.segments > 0);

        // A flow the chunk's counts make go on with an earlier connection between the same
        // hosts and server port, silent for over 60 s, takes that connection's client port
        // (and, below, its sequence numbers). Format 9: with whichever open connection of
        // its client to that server port the chunk's silences fit (the flow model does not
        // know which server a device's next keep-alive goes to), the one active last,
        // starting as long after it as they say; a closed connection never goes on.
        uint64_t conn = conn_key(ep[0], ep[1]);
        const uint16_t group = size_group(f);
        if (tcp && !opens && !attached && continues_left.count(group) && continues_left[group] > 0) {
            if (!v9) {
                if (auto it = conns.latest.find(conn); it != conns.latest.end() && start > it->second.end + kMaxFlowGap)
                    ep[0].port = it->second.client_port, --continues_left[group];
            } else if (scale == 1.0) {
                // Format 18: the model may draw a piece of a connection with its hosts, its
                // ports or both the wrong way round: it goes on with the connection it names.
                if (v18) {
                    conns.name_open_connection(ep[0], ep[1], side.format);
                    conn = conn_key(ep[0], ep[1]);
                }
                auto& open = conns.open_of(ep[0], ep[1].port);
                std::vector<int64_t> ends;
                for (uint64_t c : open) ends.push_back(conns.latest[c].end);
                const int64_t first = bucket_first(f.bucket, side.ip_t0, side.ip_span), last = bucket_last(f.bucket, side.ip_t0, side.ip_span);
                std::optional<int64_t> excess;
                std::vector<int64_t> low;  // the offsets a late piece gets (format 24), once
                // Format 18: a connection still busy past the flow's reach gives way to an older one.
                for (int64_t latest = v18 ? std::numeric_limits<int64_t>::max() - kMaxFlowGap : std::max(start, last);;) {
                    const int k = pick_continued(ends, latest, kMaxFlowGap);
                    if (k < 0) break;
                    const ConnState& c = conns.latest[open[k]];
                    if (!excess) excess = drawn_cont_excess(cont_w, seed, fi, cont_places);
                    // Format 18: a keep-alive chain keeps its pace across start buckets.
                    // Format 19: up to ten minutes past its bucket, where format 18 gave up at
                    // five; format 24 thirty, as its late pieces catch up (below).
                    const int64_t reach = (side.format >= 24 ? 30 : side.format >= 19 ? 10 : 5) * kMaxFlowGap;
                    const std::optional<int64_t> moved = v18 ? chained_start(c.end, kMaxFlowGap, *excess, start, first, last, reach,
                                                                             side.format >= 27 ? c.lead : 0, longest_silence)
                                                             : continued_start(c.end, kMaxFlowGap, *excess, start, first, last);
                    // Format 24: a piece that starts behind its drawn time is as short as
                    // its gaps' classes allow within its duration class, so the chain
                    // catches up with its buckets (ultraloq's ran over ten minutes late,
                    // and the pieces it had no time for went on with an older connection
                    // or opened one of their own). Format 25 judges whether it fits before
                    // the chunk's end by that length, not the drawn one.
                    const bool late = side.format >= 24 && moved && *moved > start && n > 0;
                    if (late && low.empty()) low = low_end_offsets(cum, dur_class, kMaxFlowGap);
                    // Format 69: a chain far behind near the chunk's end spreads its lag over
                    // the time left (caught_up_offsets).
                    std::vector<int64_t> caught;
                    if (late && side.format >= 69) caught = caught_up_offsets(low, *moved - start, ip_end - *moved);
                    const std::vector<int64_t>& fitted = caught.empty() ? low : caught;
                    const int64_t length = side.format >= 25 && late ? fitted.back() : total;
                    if (moved && *moved > c.end + kMaxFlowGap && *moved + length <= ip_end) {
                        if (late) cum = fitted, total = cum.back();
                        start = *moved;
                        ep[1] = c.server, ep[0].port = c.client_port, --continues_left[group];
                        conn = open[k];
                        break;
                    }
                    if (!v18) break;
                    latest = c.end + kMaxFlowGap;
                }
            }
        }
        // One connection per 5-tuple at a time: a flow whose key is still in use (or used
        // within the 60 s that would join the two) starts later when it still fits, and
        // otherwise takes a fresh client port; a connection that opens with SYN never
        // reuses a 4-tuple of this chunk (stacks pick a new ephemeral port).
        // Format 8: a UDP flow from an ephemeral port repeats an earlier 5-tuple only while the
        // chunk's count of such repeats lasts.
        // Format 9: while the count lasts, a UDP flow repeats a 5-tuple its two hosts used
        // (peers that talk between fixed ports; drawing the ports anew made gnutella 824
        // 5-tuples out of the real 613); format 13 as often as the chunk's repeats of each
        // kind of answer (udp_repeat_of).
        const bool answers = udp && std::count(dirs.begin(), dirs.end(), uint8_t{1}) > 0;
        // Format 28: a client's ephemeral port repeats only as often as the chunk's did.
        const bool eph_spent = v28 && ep[0].port >= kServicePortLimit && eph_repeats_left == 0;
        if (v9 && udp && udp_repeats.left(group) && !eph_spent) {
            const UdpTuple* best = nullptr;
            if (auto it = udp_tuples.find(host_pair_key(ep[0], ep[1])); it != udp_tuples.end()) {
                best = udp_repeat_of(it->second, {ep[0].port, ep[1].port}, answers, start, kMaxFlowGap,
                                     v13 ? &repeat_kinds_left : nullptr, side.format >= 20);
                if (best) ep[0].port = best->ports[0], ep[1].port = best->ports[1];
            }
            // Format 22: an answered flow between peers that repeats nothing of its host pair
            // asks the peer its client heard from last again, while the chunk's repeats last.
            if (side.format >= 22 && !best && answers && repeat_kinds_left[3] > 0 && ep[0].port >= 1024 && ep[1].port >= 1024)
                if (const AnsweredPeers::Peer* p = answered_peers.latest_silent(ep[0], start, kMaxFlowGap))
                    ep[1] = p->server, ep[0].port = p->ports[0], ep[1].port = p->ports[1];
        }
        const bool fresh_udp = udp && ep[0].port >= 1024 && (!udp_repeats.left(group) || eph_spent);
        for (int attempt = 0; attempt < 8; ++attempt) {
            auto it = key_end.find(flow_key(pe.proto, ep[0], ep[1]));
            if (it == key_end.end()) break;
            // Format 9: nothing goes on from a connection that sent a FIN or RST.
            // Format 12: a lone UDP datagram goes on with a 5-tuple that was answered last only
            // as often as the chunk's did (a resolver mostly asks anew from a new port).
            const bool lone = v12 && udp && n == 1 && it->second.answered;
            // Format 13: and a UDP flow as often as the chunk's repeats of its kind.
            const int kind = v13 && udp ? it->second.answered * 2 + answers : -1;
            const bool open = !(v9 && tcp && it->second.closed) && (!lone || lone_repeats_left > 0) &&
                              (kind < 0 || repeat_kinds_left[kind] > 0);
            const auto take = [&] {
                if (udp) udp_repeats.take(size_group(f));
                if (v28 && udp && ep[0].port >= kServicePortLimit && eph_repeats_left > 0) --eph_repeats_left;
                lone_repeats_left -= lone;
                if (kind >= 0) --repeat_kinds_left[kind];
            };
            if (!opens && !fresh_udp && open && start > it->second.end + kMaxFlowGap) {
                take();
                break;
            }
            const int64_t later = it->second.end + kMaxFlowGap + 1 + rng.between(0, kMaxFlowGap / 4);
            if (!opens && !fresh_udp && open && scale == 1.0 && attempt == 0 && later + total <= ip_end) {
                start = later;
                take();
                break;
            }
            // Only an ephemeral client port is the stack's to change (a DHCP client keeps 68).
            // Format 18: a TCP client the model gave a port below 1024, and its server one
            // above, trades with it (a piece drawn the wrong way round, on a closed 4-tuple).
            if (v18 && tcp && ep[0].port < 1024 && ep[1].port >= 1024) {
                std::swap(ep[0].port, ep[1].port);
                continue;
            }
            if (!pe.ports || ep[0].port < 1024) break;
            ep[0].port = ephemeral_port(rng);
        }
        const uint64_t key = flow_key(pe.proto, ep[0], ep[1]);
        // Format 27: a piece of a chain whose connections all closed, on a 4-tuple of its own,
        // opens the chain's next connection with a handshake (a later SYN of the chain goes on
        // with it, above): a device's connection does not begin mid-way after its last one ended.
        if (tcp && !opens && n >= 4 && !key_end.count(key) &&
            std::none_of(plan.begin(), plan.begin() + 3, [](const TcpSegmentPlan& p) { return p.control; }) &&
            reopens.opens_early(conns, ep[0], ep[1].port)) {
            plan[0] = {0, kSyn, true, false}, plan[1] = {1, kSyn | kAck, true, false}, plan[2] = {0, kAck, true, false};
            opens = true;
        }
        if (auto it = key_end.find(key); it != key_end.end() && tcp && !opens) {
            for (int d = 0; d < 2; ++d) {
                const int k = ep[d].addr == it->second.addr0 && ep[d].port == it->second.port0 ? 0 : 1;
                ep[d].next_seq = it->second.next_seq[k], ep[d].ts_base = it->second.ts_base[k];
                if (side.format >= 40) ep[d].window = it->second.window[k];
            }
        }

        // TCP options as the two stacks negotiate them.
        uint8_t cli_syn = ep[0].stack.opens ? ep[0].stack.syn_opts : uint8_t{kOptMss};
        // The responder accepts what the SYN offers of what its stack does (a stack seen
        // sending timestamps on data supports them).
        const uint8_t srv_supports = static_cast<uint8_t>((ep[1].stack.opens ? ep[1].stack.syn_opts : uint8_t{kOptMss}) |
                                                          (ep[1].stack.data_opts & kOptTimestamp));
        uint8_t srv_syn = static_cast<uint8_t>(srv_supports & (cli_syn | kOptMss));
        // Format 14: whether a handshake agrees on timestamps is the chunk's count per size
        // class, the two stacks' say only deciding which flows: a client whose stack is not
        // known offers them, a responder declines them.
        if (v14 && opens && std::any_of(plan.begin(), plan.end(), [](const TcpSegmentPlan& p) { return p.dir && (p.flags & kSyn); })) {
            const int score = ((cli_syn & kOptTimestamp) ? 1 : 0) + ((srv_supports & kOptTimestamp) ? 1 : 0);
            if (opening_ts.take(n, score)) cli_syn |= kOptTimestamp, srv_syn |= kOptTimestamp;
            else srv_syn &= static_cast<uint8_t>(~kOptTimestamp);
        }
        const bool ts_both = opens ? (cli_syn & srv_syn & kOptTimestamp) != 0 : false;
        // Timestamps are a property of the connection: negotiated in its handshake, or, when
        // the chunk joins it mid-way, on as many such flows as the chunk had, those whose
        // stacks were seen sending them first.
        const int ts_score = ((ep[0].stack.data_opts & kOptTimestamp) ? 1 : 0) + ((ep[1].stack.data_opts & kOptTimestamp) ? 1 : 0);
        const bool ts_conn = opens ? ts_both : ts_quota.take(ts_score);
        const bool sack_ok = !opens || (cli_syn & srv_syn & kOptSackPerm);
        // ICMP: the flow's kind from the chunk's type mix; a request type answers in the
        // reverse direction with its reply.
        const IcmpKind ik = icmp_kind[fi] >= 0 ? side.icmp[icmp_kind[fi]]
                                                : IcmpKind{pe.proto, static_cast<uint8_t>(pe.proto == 58 ? 128 : 8), 0, 1};
        const int icmp_reply = icmp ? icmp_reply_of(ik.proto, ik.type) : -1;
        const uint16_t icmp_id = static_cast<uint16_t>(rng.next());
        uint16_t icmp_seq = static_cast<uint16_t>(rng.below(64));

        const uint32_t ip_hdr = pe.ip_version == 4 ? 20 : 40;
        const uint32_t l4_min = tcp ? 20 : (udp || icmp) ? 8 : 0;
        uint16_t ip_id = static_cast<uint16_t>(rng.next());
        std::vector<uint32_t> lens(n), payloads(n, 0);
        for (uint32_t j = 0; j < n; ++j) lens[j] = exact_len(side, packets[f.first + j].len, rng.next(), rng.next());
        std::vector<int64_t> times(n);
        for (uint32_t j = 0; j < n; ++j) times[j] = at(j);
        // Format 53: a resent SYN waits its stack's timer (syn_attempts.h).
        if (side.format >= 53 && tcp && side.syn_timer.first_ms)
            time_syn_resends(side.syn_timer, syn_resend_ranks(plan, side.longest_syn_attempt), times, ip_end);
        if (v13 && udp) requests_after_silence(dirs, lens, times, kUdpExchangeSilenceNs, late_replies_left);
        if (v28 && udp && pe.ip_version == 4) service_lengths(side, ep, dirs, lens, mix64(seed ^ mix64(fi ^ 0x1E28ULL)));
        // Format 50: a reply answers a request of its own, at its size (icmp_echo.h).
        const bool echo_flow = icmp_reply >= 0 && (ik.type == 8 || ik.type == 128);
        const std::vector<int32_t> answered = echo_flow && side.format >= 50 ? pair_echo_replies(dirs, lens) : std::vector<int32_t>{};
        std::vector<uint16_t> seq_of(answered.size());
        const int64_t last_t = n ? times[n - 1] : start;
        if (tcp) {
            const bool ts_of[2] = {ts_conn, ts_conn};
            auto payload_of = [&](uint32_t j, uint8_t dir) -> uint32_t {
                const uint32_t hdr = ip_hdr + 20 + (ts_of[dir] ? 12 : 0), len = std::max(lens[j], ip_hdr + l4_min);
                // A segment the model flagged without PSH and sized within a length class of
                // its header is a pure ACK: it carries nothing.
                if (plan[j].control || len <= hdr || (!(model_flags[j] & kPsh) && len < hdr + 16)) return 0;
                return std::min<uint32_t>(len - hdr, 65535 - hdr);
            };
            if (shaped) {
                // A segment that must carry data where the model sized none: at least the
                // smallest length class above its header.
                const uint32_t hdr = ip_hdr + 20 + (ts_conn ? 12 : 0);
                const uint32_t above = exact_len(side, len_class(hdr) + 1, rng.next(), rng.next());
                fix_duplicate_acks(plan, payload_of, payloads, &pure_acks, above > hdr ? above - hdr : 1);
            } else {
                fix_duplicate_acks(plan, payload_of, payloads);
            }
        }
        // The flow's loss rates, as each of its ends draws them (format 41).
        const LossRates& flow_loss = lossy.empty() ? all_loss : lossy[fi] ? lossy_loss : kNoLoss;
        if (lossy_tcp && tcp && (lossy.empty() || lossy[fi])) lossy_tcp->push_back(flow_key(6, ep[0], ep[1]));
        FlowLossDraws loss_draws(side, flow_loss, tcp ? std::span<const TcpSegmentPlan>(plan) : std::span<const TcpSegmentPlan>(), payloads, times);
        SynAttempts syn_attempts(side.format >= 51 ? side.longest_syn_attempt : 0);
        // Which end only receives (a group's frames carry its MAC), once per flow rather than per packet.
        const std::array<bool, 2> group_end{group_in_chunk(side, pe.ip_version, ep[0].addr), group_in_chunk(side, pe.ip_version, ep[1].addr)};
        for (uint32_t j = 0; j < n; ++j) {
            const uint8_t dir = tcp ? plan[j].dir : dirs[j];
            PacketRecord r;
            bool echo = false;  // format 44: its resend follows it
            r.t_ns = times[j];
            Endpoint& s = ep[dir];
            Endpoint& d = ep[dir ^ 1];
            r.linktype = static_cast<uint16_t>(side.linktype);
            r.ip_version = pe.ip_version;
            r.ethertype = pe.ip_version == 4 ? 0x0800 : 0x86dd;
            r.present = kHasIp;
            r.src = s.addr, r.dst = d.addr;
            if (ethernet) {
                r.eth_src = s.mac;
                if (!group_end[dir ^ 1] || !group_mac(pe.ip_version, d.addr.data(), r.eth_dst)) r.eth_dst = d.mac;
            }
            r.proto = pe.proto;
            r.ip_len = std::clamp<uint32_t>(lens[j], ip_hdr + l4_min, 65535);
            r.ttl = v38 && local_control_block(pe.ip_version, d.addr) ? 1 : s.ttl, r.tos = s.tos;
            const bool fragment = !pe.ports && (pe.proto == 6 || pe.proto == 17);
            r.ip_id = (pe.ip_version == 4 || fragment) ? ip_id++ : 0;
            if (pe.ports) {
                r.present |= kHasPorts;
                r.sport = s.port, r.dport = d.port;
            } else if (fragment) {
                r.frag_offset = static_cast<uint16_t>(185);  // a non-first fragment carries no ports
            }
            if (tcp) {
                const TcpSegmentPlan& sp = plan[j];
                r.present |= kHasTcp;
                r.df = true;
                r.tcp_flags = sp.flags;
                const bool syn = (sp.flags & kSyn) != 0;
                if (syn) {
                    r.tcp_opts = (sp.flags & kAck) ? srv_syn : cli_syn;
                    r.tcp_mss = s.stack.mss ? s.stack.mss : static_cast<uint16_t>(pe.ip_version == 4 ? 1460 : 1440);
                    r.tcp_wscale = s.stack.wscale;
                } else {
                    r.tcp_opts = ts_conn ? kOptTimestamp : 0;
                }
                r.tcp_opt_len = static_cast<uint8_t>(tcp_options_len(r.tcp_opts, 0));
                // A stack's own SYN keeps its real option length (trailing EOL padding).
                if (syn && r.tcp_opts == s.stack.syn_opts && s.stack.syn_len > r.tcp_opt_len && s.stack.syn_len <= 40)
                    r.tcp_opt_len = s.stack.syn_len & ~3u;
                if (r.tcp_opts & kOptTimestamp) {
                    r.tcp_tsval = tsval_at(s, r.t_ns);
                    r.tcp_tsecr = (syn && !(sp.flags & kAck)) ? 0 : s.ts_seen;
                    d.ts_seen = r.tcp_tsval;
                }
                uint32_t hdr = ip_hdr + 20 + r.tcp_opt_len;
                // Capture loss and retransmissions at the chunk's own rates (tcp_loss_draws.h).
                const FlowLossDraws::Draw drawn = loss_draws.draw(j, dir, payloads[j], s, d, rng, chunk_resends);
                const uint32_t payload = drawn.payload;
                const bool resend = drawn.resend;
                echo = drawn.echo;
                if (!payload) r.tcp_flags &= static_cast<uint8_t>(~kPsh);
                // Format 9: duplicate ACKs with SACK blocks at the chunk's share of segments,
                // on pure ACKs of connections that allow SACK, covering the peer's segments
                // above a one-segment hole.
                if (sack_total && !syn) {
                    const bool pure = !payload && !sp.control && (r.tcp_flags & (kFin | kRst)) == 0;
                    if (sacks.grant(pure && sack_ok && d.last_payload)) {
                        r.tcp_opts |= kOptSack;
                        r.tcp_sack_blocks = static_cast<uint8_t>(1 + rng.pick(side.sack_segments));
                        r.tcp_sack_hole = static_cast<uint16_t>(std::min<uint32_t>(d.last_payload, 65535));
                        r.tcp_sack_len = static_cast<uint16_t>(std::min<uint32_t>(d.last_payload * (1 + rng.below(4)), 65535));
                        r.tcp_opt_len = static_cast<uint8_t>(tcp_options_len(r.tcp_opts, r.tcp_sack_blocks));
                        hdr = ip_hdr + 20 + r.tcp_opt_len;
                    }
                }
                r.ip_len = std::min<uint32_t>(hdr + payload, 65535);
                r.window = syn ? static_cast<uint16_t>(s.window | 0x8000) : s.window;
                if (payload && !resend) s.last_seq = s.next_seq, s.last_payload = payload;
                if (sp.retransmit) {
                    // Format 51: past the chunk's longest attempt, the client opens again (syn_attempts.h).
                    if (syn_attempts.resent()) s.syn_seq = static_cast<uint32_t>(mix64(s.syn_seq ^ 0x51A7ULL)), s.next_seq = s.syn_seq + 1;
                    r.seq = s.syn_seq;
                } else if (resend) {
                    r.seq = s.last_seq;
                } else {
                    if (syn) s.syn_seq = s.next_seq;
                    if (syn && !(sp.flags & kAck)) syn_attempts.opened();
                    r.seq = s.next_seq;
                    s.next_seq += payload + (syn ? 1 : 0) + ((sp.flags & kFin) ? 1 : 0);
                }
                if (r.tcp_flags & kAck) r.ack = d.next_seq;
                loss_draws.sent(dir, payload && !resend);
            } else if (udp) {
                r.present |= kHasUdp;
                r.udp_len = static_cast<uint16_t>(r.ip_len - ip_hdr);
                // Format 29: port 53's datagrams carry a DNS header (synth_fields.h).
                if (v29) set_dns_header(r, dir == 1, static_cast<uint16_t>(mix64(seed ^ mix64(fi ^ 0xD25ULL))));
            } else if (icmp) {
                r.present |= kHasIcmp;
                const bool reply = icmp_reply >= 0 && dir == 1;
                r.icmp_type = reply ? static_cast<uint8_t>(icmp_reply) : ik.type;
                r.ip_len = std::max(r.ip_len, ip_hdr + icmp_min_len(pe.proto, r.icmp_type));
                r.icmp_code = icmp_reply >= 0 ? 0 : ik.code;
                if (echo_flow) {
                    if (!reply) ++icmp_seq;
                    uint16_t seq = icmp_seq;
                    if (!answered.empty()) {
                        if (reply) seq = seq_of[static_cast<size_t>(answered[j])];
                        else seq_of[j] = seq;
                    }
                    r.icmp_rest = static_cast<uint32_t>(icmp_id) << 16 | seq;
                }
            } else if (igmp && !r.frag_offset) {
                igmp_sender.message(r, mix64(seed ^ mix64(fi ^ 0x16A5ULL)), j);
            }
            r.wirelen = lhl + r.ip_len;
            r.caplen = r.wirelen;
            if (!loss_draws.given_up(j)) out.push_back(r);
            if (echo) {
                // Its resend, three quarters of the way to the flow's next segment, or at
                // that segment's time where it is not written (format 45).
                const bool in_place = side.format >= 45 && loss_draws.given_up(j + 1);
                r.t_ns = in_place ? times[j + 1] : times[j] + (times[j + 1] - times[j]) / 4 * 3;
                if (r.ip_version == 4) r.ip_id = ip_id++;
                if (r.tcp_opts & kOptTimestamp) r.tcp_tsval = tsval_at(s, r.t_ns);
                out.push_back(r);
            }
        }
        const bool closed = tcp && std::any_of(plan.begin(), plan.end(), [](const TcpSegmentPlan& sp) { return sp.flags & (kFin | kRst); });
        key_end[key] = {last_t, ep[0].addr, ep[0].port, {ep[0].next_seq, ep[1].next_seq},
                        {ep[0].ts_base, ep[1].ts_base}, {ep[0].window, ep[1].window}, closed, answers};
        // Format 27: while the chunk's count lasts, a SYN closes its client's silent connections to that port.
        for (const ConnState& st : opens ? reopens.supersede(conns, ep[0], ep[1].port, pe.ip_version, start) : std::vector<ConnState>{}) {
            Endpoint client = ep[0];
            client.port = st.client_port;
            if (auto it = key_end.find(flow_key(6, client, st.server)); it != key_end.end()) it->second.closed = true;
        }
        if (tcp) {
            ConnState st{last_t, ep[0].port, closed, ep[1], v18};
            st.established = std::any_of(plan.begin(), plan.end(), [](const TcpSegmentPlan& sp) { return !(sp.flags & kSyn); });
            st.lead = std::max<int64_t>(0, starts[fi] - start);
            conns.record(conn, st, ep[0], side.format);
        }
        if (tcp && closed) reopens.closed(ep[0], ep[1].port, last_t);
        if (v9 && udp) {
            auto& tuples = udp_tuples[host_pair_key(ep[0], ep[1])];
            const std::array<uint16_t, 2> ports{ep[0].port, ep[1].port};
            std::erase_if(tuples, [&](const UdpTuple& u) { return u.ports == ports; });
            if (tuples.size() == kUdpTuplesKept) tuples.erase(tuples.begin());
            tuples.push_back({last_t, ports, answers});
            if (side.format >= 22) answered_peers.record(ep[0], ep[1], answers, last_t);
        }
    }

    flow_begin.push_back(out.size());
    append_nonip_frames(side, slot_addr, slot_mac, seed, out);
    // The chunk's exact time spans are side information (as in format 5); format 25 moves
    // the whole flow of the earliest and latest IP record.
    // Format 68: a TCP connection's pieces move with the one pinned, each silence within the
    // chunk's longest (as a connection reaching an edge moves since format 32, below).
    const int64_t cap = longest_silence > std::numeric_limits<int64_t>::max() - kMaxFlowGap ? longest_silence : kMaxFlowGap + longest_silence;
    const PieceSpread spread{kMaxFlowGap, cap};
    if (side.format >= 25) {
        pin_ip_edges(out, flow_begin, side.ip_t0, ip_end, side.format >= 68 ? &spread : nullptr);
    } else {
        pin_extreme(out, true, false, side.ip_t0, side.ip_packets);
        pin_extreme(out, true, true, ip_end, side.ip_packets);
    }
    pin_extreme(out, false, false, side.t0, side.t0 < side.ip_t0 || !side.ip_packets);
    pin_extreme(out, false, true, t_end, t_end > ip_end || !side.ip_packets);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.t_ns < b.t_ns; });
    close_superseded(reopens.superseded(), out);
    // Format 32: a connection that crosses an edge reaches it (edge_connections.h).
    const EdgeReach reach{side.ip_t0, ip_end, kMaxFlowGap, cap};
    if (side.format >= 26) keep_edge_connections(side, slot_addr, slot_mac, out, side.format >= 32 ? &reach : nullptr);
    if (side.format >= 40) send_keepalives(side.keepalives, out);  // before an ICMP error quotes a segment
    if (side.format >= 47) resend_fins(side.fin_resends, out, ip_end);
    if (side.format >= 33)  // icmp_quotes.h
        quote_offending_packets(out, {.stack_limit = side.format >= 49,
                                      .longest = side.format >= 52 ? side.longest_icmp_error : IcmpErrorLongest{},
                                      .error_flows = side.format >= 58 ? side.error_flows : 0,
                                      .not_to_groups = side.format >= 62,
                                      .invent_missing = side.format >= 63});
    if (side.format >= 55) use_gateway_twins(side, slot_addr, out);
    return out;
}

}  // namespace

std::vector<PacketRecord> synthesize_records(const ChunkSide& side, const std::vector<FlowTokens>& flows,
                                             const std::vector<PacketTokens>& packets, uint64_t seed) {
    if (side.format < 6) return legacy::synthesize_records_v5(side, flows, packets, seed);
    if (side.format >= 57) {  // tcp_reorder.h
        std::vector<uint64_t> lossy;
        std::vector<PacketRecord> out = synthesize(without_reorders(side), with_start_counts(side, flows), packets, seed, &lossy);
        reorder_segments(side.reordered, seed, lossy, out);
        return out;
    }
    if (side.format >= 18) return synthesize(side, with_start_counts(side, flows), packets, seed);
    return synthesize(side, flows, packets, seed);
}

}  // namespace dgc::trainer
