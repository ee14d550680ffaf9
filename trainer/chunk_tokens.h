// A chunk of packets as the models see it: exact side information (counts, time span,
// ranked vocabularies of protocols, ports, hosts, flag bytes) plus one attribute row per
// flow and one token row per packet. Torch-free; the vocabulary sizes are fixed so every
// chunk model has the same shape and a parent's weights can be fine-tuned for any chunk.
#pragma once

#include <array>
#include <cstdint>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "codec/record.h"
#include "codec/status.h"
#include "trainer/arp_roles.h"
#include "trainer/gap_places.h"
#include "trainer/gateway_twins.h"
#include "trainer/icmp_quotes.h"
#include "trainer/igmp_messages.h"
#include "trainer/syn_attempts.h"
#include "trainer/tcp_fin_resends.h"
#include "trainer/tcp_keepalives.h"
#include "trainer/udp_services.h"

namespace dgc::trainer {

// Flow starts / non-IP frames are counted per bucket. 100 buckets over the chunk's IP packets,
// cut as the spec's flow_start bins are, so a one-chunk trace keeps every flow in its bin.
inline constexpr int kTimeBuckets = 100;
inline constexpr int kPhaseClasses = 16;  // coarse position in the chunk, a flow attribute
inline constexpr int kProtoVocab = 8;
inline constexpr int kPortRanks = 32;
inline constexpr int kPortBuckets = 16;  // port >> 12 for ports outside the ranked list
inline constexpr int kPortNone = kPortRanks + kPortBuckets;
inline constexpr int kPortTokens = kPortNone + 1;
inline constexpr int kHostSlots = 64;
inline constexpr int kHostOther = kHostSlots;
inline constexpr int kHostTokens = kHostSlots + 1;
inline constexpr int kPktClasses = 48;
inline constexpr int kDtClasses = 102;  // dtbin keys: 0 = zero, 1..101
inline constexpr int kLenClasses = 128;  // ip_len / 16, the last class open-ended
inline constexpr int kFlagClasses = 16;
inline constexpr int kFlagNone = kFlagClasses - 1;  // first-flag attribute of a non-TCP flow
inline constexpr int kOtherTtlEntries = 64;
inline constexpr int kNonIpTypes = 8;

// Flow attribute columns, in the order the flow model predicts them (phase is given).
// The first packet's TCP flags are a flow attribute: how a connection opens (SYN, mid-stream
// ACK, RST scan...) is a property of the flow, and the packet model continues from it.
enum FlowAttr { kAttrPhase, kAttrProto, kAttrFirstFlag, kAttrSrvPort, kAttrCliPort, kAttrSrvHost, kAttrCliHost,
                kAttrPkts, kAttrDur, kFlowAttrCount };
inline constexpr std::array<int, kFlowAttrCount> kFlowAttrSizes = {
    kPhaseClasses, kProtoVocab, kFlagClasses, kPortTokens, kPortTokens, kHostTokens, kHostTokens, kPktClasses, kDtClasses};

struct ProtoEntry {
    uint8_t ip_version = 4;
    uint8_t proto = 6;
    bool ports = true;
};
struct HostInfo {
    uint8_t ip_version = 4;
    uint8_t ttl = 64;
    uint8_t tos = 0;
};
struct TtlTos {
    uint8_t ttl = 64;
    uint8_t tos = 0;
    uint32_t count = 0;
};
struct NonIpType {
    uint16_t ethertype = 0;
    uint32_t wirelen = 0;
    uint32_t caplen = 0;
    uint32_t count = 0;
    uint16_t arp_op = 0;  // format 6: ARP opcode (request 1, reply 2)
};

// Side information formats: 5 is the layout through 2e332fa; 6 appends the traffic
// semantics below; 7 appends segment shape counts (pure ACKs, FINs with data) and UDP port
// partners; 8 appends how TCP flows fare per size class (unanswered, refused, FIN, RST),
// a second exact length per length class, repeated UDP 5-tuples and ARP request kinds;
// 9 appends how long a connection the 60 s rule cut stayed silent, FIN-then-RST closes
// and SACK-carrying segments; 10 has format 9's bytes and one more generator rule (no TCP
// client on a UDP partner port); 11 appends the TCP flows between two well-known ports and
// adds generator rules (TCP only between two distinct unicast hosts). parse_side reads all
// seven; 12 appends lone UDP datagrams that repeat an answered 5-tuple, 13 the replies
// that open a UDP exchange and the UDP repeats by answer, 14 the handshakes that agreed on
// timestamps and the flows that carry the capture's loss; 15 has format 14's bytes and
// two more generator rules (no group or unspecified address talks to its own kind); 16 has
// format 15's bytes and the unspecified address's and self-talk rules of endpoint_roles.h;
// 17 appends the protocols each ranked port was used with; 18 the TCP flows per start
// bucket, with the generator rules that keep a device's connection going (flow_timing.h's
// chained_start, flow_choices.cpp's end_before_reopen); 19 has format 18's bytes and more
// generator rules (open_connections.h, chained_start's reach, end_before_reopen's second
// pass); 20 has format 19's bytes and two UDP rules that keep a flow's service port
// (flow_choices.h's udp_repeat_of and pair_udp_ports); 21 appends the IP packets of the
// flows starting in each bucket, and the flows trade buckets to match them; 22 has format
// 21's bytes and one UDP rule (answered_peers.h); 23 has format 21's bytes and ARP rules
// (nonip_frames.cpp: replies answer requests, no host asks for itself but to announce);
// 24 has format 21's bytes and two TCP rules (a piece that starts behind its chain is as
// short as its gaps' classes allow: flow_timing.h's fit_gaps_to_class; end_before_reopen
// names a chain by the server port the generator gives it); 25 has format 21's bytes and
// keeps a chunk's first and last IP flows whole (flow_timing.h's flow_start_times and
// pin_ip_edges) and judges whether a late piece fits before the chunk's end by the length
// format 24 gives it (low_end_offsets); 26 has format 21's bytes and no TCP client on its
// server's own port (endpoint_roles.h's tcp_client_port); 27 appends the SYN openings that
// closed their client's earlier connection (superseded_connections.h); 28 appends well-known
// UDP ports' hosts and lengths and the UDP repeats from ephemeral ports (udp_services.h);
// 29 has format 28's bytes and writes a DNS header on port 53's datagrams (synth_records.cpp);
// 30 appends each ranked host's ends of TCP flows (tcp_roles.h), 31 each ranked port's; 32
// has format 31's bytes and bounds a connection's silences by the chunk's (flow_timing.h,
// superseded_connections.h, edge_connections.h) and opens it from its client's end (tcp_roles.h);
// 33 has format 31's bytes and an ICMP error quotes the packet it answers (icmp_quotes.h);
// 34 has format 31's bytes and a reopened chain's SYN goes on with its connection after any
// silence, moved up to one the chunk had (superseded_connections.h); 35 appends each ranked
// port's UDP flows at the server's end, and the flow model's server ports are brought to them
// (service_counts.h); 36 appends, per UDP service that no one host holds, the pair of hosts
// that does (udp_services.h); 37 appends who sends the chunk's ARP frames to whom
// (arp_roles.h), and an unranked IPv4 group address stands in outside 224.0.0.0/24
// (host_slots.h); 38 appends the host that sends each ICMP error kind, and an error goes
// from it to a unicast host (icmp_senders.h); 39 appends the host that receives each ICMP
// error kind, where such an error goes (icmp_senders.h); 40 appends how the chunk's
// quiet TCP connections speak again (a keep-alive probe, a bare ACK or data), the generator's
// do so at its shares, and a connection keeps its windows across its pieces (tcp_keepalives.h);
// 41 appends the chunk's TCP loss per end, and the generator loses, repeats and acknowledges
// unseen segments at each end's own rates (flow_choices.h); 42 has format 41's bytes and a
// packet model that draws a segment's gap, size and flags knowing its direction (torch_nets.h);
// 43 appends each end's ACKs of unseen data, and the generator's runs of them last as long
// (flow_choices.h's unseen_run_goes_on); 44 appends each end's retransmissions of data its
// peer had acknowledged, and the generator's others come before the peer's ACK (tcp_resend.h,
// tcp_loss_draws.h); 45 has format 44's bytes, and a resend before the ACK may stand in for
// the peer's very next bare ACK where no silence of over 60 s opens (tcp_resend.h); 46 has
// format 45's bytes, and a flow of many packets whose gaps add up to far more than its drawn
// duration class keeps their sum (flow_timing.h's trusted_duration_class); 47 appends each
// end's FINs, those sent again before the peer acknowledged them, their resends and the wait
// for the first, and the generator's unanswered FINs are resent so (tcp_fin_resends.h); 48
// has format 47's bytes, its TCP roles judged by who opened the connection rather than by
// the lower port, and the generator serves from a port that only served (tcp_roles.h); 49
// has format 48's bytes, and no ICMP error is longer than a stack sends one: 576 bytes
// (IPv6: 1,280; icmp_quotes.h); 50 has format 49's bytes, and an echo reply answers a
// request of its own at its size (icmp_echo.h); 51 appends the chunk's longest SYN attempt,
// and the generator's client opens again with a new ISN past it (syn_attempts.h); 52 appends
// the chunk's longest ICMP error per IP family, and the generator's are no longer
// (icmp_quotes.h); 53 appends the clients' SYN resend timer (two varints), and the
// generator's resends wait it (syn_attempts.h); 54 has format 53's bytes, and a service's
// same-port datagrams sent to its group are broadcasts on the sender's /24 (udp_services.h);
// 55 appends the gateways' twin MACs and which ranked hosts take them (gateway_twins.h); 56
// has format 55's layout and one more address class, NAT64's 64:ff9b::/96 (a host of it keeps
// the prefix and its IPv4 host's /24; codec/address_class.h); 57 appends each end's segments
// that arrived out of order, and the generator reorders as many (tcp_reorder.h); 58 appends
// the flows the chunk's ICMP errors are about, and the generator's errors are about as many
// (icmp_quotes.h); 59 has format 58's bytes, and an ICMP kind the stratified draw gave no
// flow takes one from the kind with the most (flow_choices.h); 60 appends, of the superseding
// openings, those whose old connection ended with a RST, and the generator resets no more
// superseded connections (superseded_connections.h); 61 has format 60's bytes, and a chunk's
// one on-link host ARPs with its gateway rather than itself (nonip_frames.h); 62 appends the
// ranked receivers of the chunk's IGMP, and the generator's IGMP goes to them as whole
// messages (igmp_messages.h); 63 appends the scopes whose .255 addresses sent, where a .255
// is a host rather than its subnet's broadcast (broadcast_hosts.h), and the generator has an
// ICMP error with nothing left to quote quote what its receiver sent (icmp_quotes.h) and
// sends each non-IP frame type as often as the chunk did (nonip_frames.cpp); 64 appends the
// flows each ICMP kind opened, and the generator gives each kind as many (icmp_kind_flows.h);
// 65 appends where the gaps of a second or more sit in their classes, and the generator
// draws them there (gap_places.h); 66 appends where a connection's silences past the 60 s
// split sit in theirs, and the generator draws them there too; 67 has format 66's bytes, and
// an ICMP error whose receiver the flow model drew as its sender goes the other way round
// where the chunk names no sender (icmp_senders.h); 68 has format 66's bytes, and the
// connection of a piece pinned to the chunk's first or last IP packet moves with it
// (flow_timing.h's pin_ip_edges); 69 has format 66's bytes, and a keep-alive chain far behind
// its buckets near the chunk's end shortens its pieces (flow_timing.h's caught_up_offsets).
// serialize_side writes side.format.
inline constexpr uint8_t kSideFormat = 69;
// Format 13: a UDP flow silent this long starts a new exchange (Linux conntrack's and
// argus's UDP timeout); what is sent next is a request unless the chunk says otherwise.
inline constexpr int64_t kUdpExchangeSilenceNs = 30'000'000'000;
// Format 9: classes of a continued connection's silence beyond the 60 s that split it.
inline constexpr int kContGapClasses = 24;
inline constexpr int kStackSlots = 16;
inline constexpr int kIcmpKinds = 16;
inline constexpr int kGatewaySlots = 8;
// Format 17: a ranked port's protocols, as bits.
inline constexpr uint8_t kPortProtoTcp = 1, kPortProtoUdp = 2, kPortProtoOther = 4;
inline uint8_t port_proto_bit(uint8_t proto) { return proto == 6 ? kPortProtoTcp : proto == 17 ? kPortProtoUdp : kPortProtoOther; }

// What a ranked host is, without its address (format 6): class and scope, a keyed id of its
// /24 (/64) so subnet structure survives, the MAC it is seen behind (its own, or the
// gateway's when off-link), and its TCP stack. Group addresses (multicast, broadcast,
// loopback) are kept exact: they name a role, not a host.
struct HostSemantics {
    uint8_t addr_class = 0;  // dgc::AddrClass
    uint8_t host_kind = 0;   // dgc::HostKind
    uint16_t subnet = 0;     // subnet_id_of
    uint16_t mac = 0;        // mac_id_of its MAC (0 without Ethernet)
    uint8_t stack = 0;       // index into ChunkSide::stacks
    std::array<uint8_t, 16> exact{};  // exact classes only
};
// Format 26: a TCP connection a chunk's edge cuts, as the real chunk had it. The chunks on
// both sides of an edge store the same connection with the same values, so each
// regenerates its side of it on one 4-tuple and the sequence numbers meet.
struct EdgeConnection {
    uint8_t client_slot = 0, server_slot = 0;  // ranked hosts (the server: the end with the lower port)
    uint16_t client_port = 0, server_port = 0;
    uint32_t client_seq = 0, server_seq = 0;  // each end's next sequence number at the edge
    bool operator==(const EdgeConnection&) const = default;
};
// A TCP stack as its segments show it: the options of its SYN / SYN-ACK and of the rest.
struct TcpStack {
    bool opens = false;                   // seen sending SYN or SYN-ACK (else syn_* is empty)
    uint8_t syn_opts = 0, syn_len = 0;    // TcpOptionBits, option bytes
    uint8_t data_opts = 0, data_len = 0;
    uint16_t mss = 0;
    uint8_t wscale = 0;
    uint32_t count = 0;  // hosts using it
};
// Unranked hosts of one address class: how many, in how many subnets, how many on-link.
struct OtherClass {
    uint8_t addr_class = 0;
    uint8_t host_kind = 0;  // dgc::HostKind
    uint32_t hosts = 0;
    uint32_t subnets = 0;
    uint32_t onlink = 0;
};
// Flow size classes (kPktClasses counts) of the flows of one (protocol token, first-flag
// token) group: a trace's SYN retries, handshakes and ICMP pings each keep their sizes.
struct GroupSizes {
    uint16_t group = 0;  // protocol token << 8 | first-flag token
    std::vector<uint32_t> classes;
};

// What the capture point lost or saw twice, as tshark's sequence analysis counts TCP
// segments (a lossy span port shows "previous segment not captured" on a fifth of them).
struct TcpLoss {
    uint32_t segments = 0, gaps = 0, retrans = 0;
    uint32_t unseen = 0;  // runs of ACKs of a segment the capture missed
    TcpLoss& operator+=(const TcpLoss& o) {
        segments += o.segments, gaps += o.gaps, retrans += o.retrans, unseen += o.unseen;
        return *this;
    }
};

// A MAC in front of many addresses (a router's, as the capture point sees off-link hosts).
struct GatewayMac {
    uint16_t mac = 0;    // mac_id_of
    uint32_t hosts = 0;  // addresses behind it
};
struct IcmpKind {
    uint8_t proto = 1;  // 1 or 58
    uint8_t type = 0;
    uint8_t code = 0;
    uint32_t count = 0;  // packets
};
// Format 64: the ICMP flows whose first message is of a kind, and their packets.
struct IcmpOpened {
    uint32_t flows = 0;
    uint64_t packets = 0;
    bool operator==(const IcmpOpened&) const = default;
};

// An exact port value beyond the ranked ones, with the class (bit length) of the packets its
// flows carry and the side it mostly serves: the synthesizer hands it to that side of
// generated flows of about that much traffic.
struct PoolPort {
    uint16_t port = 0;
    uint8_t mass_class = 1;
    bool server = false;
};
struct TailPort {
    uint16_t port = 0;
    uint64_t packets = 0;  // of the flows that use it
    bool server = false;   // more of them as the flows' server (responder) port
};

struct ChunkSide {
    uint64_t ip_packets = 0;
    uint64_t nonip_packets = 0;
    int64_t t0 = 0;    // earliest timestamp of the chunk (ns)
    int64_t span = 0;  // latest - earliest
    int64_t ip_t0 = 0;    // earliest IP packet: the time buckets' grid starts here
    int64_t ip_span = 0;  // latest IP packet - earliest
    uint32_t linktype = 1;
    std::vector<uint32_t> flow_starts;  // kTimeBuckets counts; their sum is the flow count
    // dtbin histogram of the gaps between consecutive flow starts (kDtClasses): the arrival
    // process inside a bucket (regular floods, bursts) rather than uniform placement.
    std::vector<uint32_t> start_gaps;
    // Flows per size class (kPktClasses counts): a model that is off on rare sizes (a flood's
    // few two-packet retries) would otherwise stretch the flows it did draw to fill the count.
    std::vector<uint32_t> size_classes;
    std::vector<uint32_t> nonip_per_bucket;  // on the grid of all records (t0, span)
    std::vector<NonIpType> nonip_types;
    std::vector<ProtoEntry> protos;
    std::vector<uint16_t> ports;  // ranked by flow endpoints
    std::vector<HostInfo> hosts;  // ranked by packets sent or received
    // Per ranked host, a 16-bit keyed hash of its real address (never the address): the
    // same real host gets the same synthetic address in every chunk of a trace.
    std::vector<uint16_t> host_ids;
    uint32_t other_hosts = 0;       // distinct hosts beyond the ranked slots (they share one token)
    std::vector<TtlTos> other_ttl;  // TTL/TOS of packets sent by unranked hosts
    std::vector<uint8_t> flags;   // ranked TCP flag bytes
    // Exact unranked port values, by port; as many as the chunk's byte budget leaves room for
    // once the model is stored.
    std::vector<PoolPort> pool;

    // Format 6: traffic semantics.
    uint8_t format = kSideFormat;
    std::vector<uint32_t> proto_flows;       // flows per protos entry (exact protocol mix)
    std::vector<HostSemantics> host_sem;     // per ranked host
    std::vector<TcpStack> stacks;            // ranked by hosts
    std::vector<OtherClass> other_classes;   // unranked hosts by class
    std::vector<GatewayMac> gateway_macs;    // MACs that front many addresses, by addresses
    std::vector<IcmpKind> icmp;              // ICMP type/code mix, by packets
    // Per length class (kLenClasses): the most common exact ip_len's offset in its class
    // (low 4 bits) and its share of the class in 15ths (high 4 bits; 0: no packets).
    std::vector<uint8_t> len_modes;
    std::vector<uint32_t> first_flag_flows;  // TCP flows per first-flag rank (how they open)
    std::vector<GroupSizes> group_sizes;     // size classes per (protocol, first flag)
    // Per size group: SYN-opening flows of two or more packets that got no answer (SYN
    // retries to a silent or dead host); the generator picks which flows they are.
    std::vector<std::pair<uint16_t, uint32_t>> unanswered_syns;
    // Per size group: TCP flows that end with a FIN exchange, and with a reset.
    struct Endings {
        uint16_t group = 0;
        uint32_t fin = 0, rst = 0;
    };
    std::vector<Endings> endings;
    TcpLoss tcp_loss;
    // Per size group: UDP flows of two or more packets answered by the other side (a DNS
    // query and its response); the rest only ever went one way.
    std::vector<std::pair<uint16_t, uint32_t>> answered_udp;
    // TCP flows the chunk joined mid-connection, and how many of them carry timestamps.
    uint32_t midstream_tcp = 0, midstream_ts = 0;
    // Per size group: TCP flows that go on with an earlier flow's connection (the same
    // 4-tuple after more than 60 s of silence: an IoT device's keep-alives).
    std::vector<std::pair<uint16_t, uint32_t>> continued;
    // Format 7: TCP segments that are pure ACKs (ACK, no SYN/FIN/RST, no payload; of
    // tcp_loss.segments), FIN segments, and FIN segments that carry data. A capture that
    // holds only data segments (pure ACKs filtered out) has 0 pure ACKs.
    uint32_t pure_acks = 0, fins = 0, data_fins = 0;
    // Format 7: ranked UDP ports that talk to one ranked port only (DHCP's 68 to 67, NTP's
    // 123 to 123), as (rank, partner rank): a flow on one gets the other as its peer port.
    std::vector<std::pair<uint8_t, uint8_t>> port_partners;
    // Format 8: per size group and flow size class, how its TCP flows fared: SYN-opening
    // flows of two or more packets that got no answer, that were refused (every answer a
    // RST, no SYN-ACK), and flows that end with a FIN exchange or (not refused) a reset.
    // Per group alone (format 6) the generator gave a 13-packet flow the silence of a
    // 3-packet SYN retry, and a 6-packet handshake the FIN exchange of a 10-packet request.
    struct TcpFates {
        uint16_t group = 0;
        uint8_t size_class = 0;
        uint32_t unanswered = 0, refused = 0, fin = 0, rst = 0;
        uint32_t fin_rst = 0;  // format 9: of `fin`, those also reset (argus calls them RST)
    };
    std::vector<TcpFates> tcp_fates;
    // Format 8: per length class, the second most common exact ip_len (low 4 bits) and its
    // share of the class's packets that are not the first one (high 4 bits, in 15ths; 0:
    // none kept). A class holding two fixed sizes (gnutella's 66- and 70-byte UDP) keeps both.
    std::vector<uint8_t> len_modes2;
    // Format 8: per size group, UDP flows whose 5-tuple an earlier flow of the chunk used (a
    // resolver asking from one port again later); every other UDP flow from an ephemeral
    // port takes a 5-tuple of its own, as DNS clients' random source ports do.
    std::vector<std::pair<uint16_t, uint32_t>> udp_repeats;
    // Format 8: ARP requests that announce their sender's own address (gratuitous: sender is
    // the target) and that probe for one (sender 0.0.0.0). An IoT device's ARP is mostly
    // its own announcements, not queries between random hosts.
    uint32_t arp_gratuitous = 0, arp_probes = 0;
    // Format 9: the `continued` flows by how long their connection was silent beyond the
    // 60 s that cut it (cont_gap_class). An MQTT keep-alive every 60 s is silent for 60.1 s:
    // placed anywhere later, tcptrace (which ends a connection after 4 idle minutes) and
    // any analyst see thirty connections where the device kept one.
    std::vector<uint32_t> cont_gaps;
    // Format 9: TCP segments (not SYN) carrying 1, 2 and 3 or more SACK blocks: the
    // duplicate ACKs a receiver sends after a loss (isp-fragtest: 466 of 7,652 segments).
    std::array<uint32_t, 3> sack_segments{};
    // Format 11: TCP flows whose two ports are both below 1024 (BGP's 179 to 179). Stacks
    // open connections from ephemeral ports; the flow model, drawing ports by rank, put
    // isp-fragtest's commonest port at both ends (405 packets from 80 to 80, real 0).
    uint32_t tcp_low_port_flows = 0;
    // Format 12: single-datagram UDP flows whose 5-tuple's previous flow was answered (a
    // question asked again from a port that got its last answer). Tinba's resolver mostly
    // asks from a new port: format 11 put lone queries on answered 5-tuples freely, and
    // argus saw 671 one-way DNS flows against 800.
    uint32_t udp_lone_repeats = 0;
    // Format 13: UDP packets sent by a flow's responder first after a silence of over
    // kUdpExchangeSilenceNs inside the flow. Gnutella's and Tinba's are 0 of 233 and 114:
    // after a pause the initiator asks again. Format 12 let the packet model's direction
    // stand there, and argus, timing the flow out, saw the responder open a second flow
    // (gnutella: 41 5-tuples with records both ways, real 0).
    uint32_t udp_late_replies = 0;
    // Format 13: UDP flows that repeat a 5-tuple, by whether its previous flow was answered
    // and whether this one is ([previous * 2 + this]). A peer answers or it does not: of
    // gnutella's repeats, few mix; format 12 mixed them freely.
    std::array<uint32_t, 4> udp_repeat_kinds{};
    // Format 14: per flow size class (kPktClasses counts), TCP flows opened in the chunk by a
    // SYN whose SYN-ACK carried timestamps: the connections whose two stacks agreed on them.
    // Up to format 13 the generator asked the two hosts' stacks, and a capture point with
    // 2,000 hosts has stacks for 64: an hour of seven dev traces had 118 of 291 handshakes
    // with timestamps, 41 % of its TCP segments carrying them, and came back with 34 (7 %).
    std::vector<uint32_t> opening_ts;
    // Format 14: per flow size class (kPktClasses counts), TCP flows with a segment other
    // than a SYN that the sequence analysis flags (a gap, a retransmission, an ACK of unseen
    // data: the capture's loss, not a SYN retry), and `lossy`: tcp_loss counted over those
    // flows' segments, SYNs not flagged. A lossy link loses on the connections that cross
    // it: format 13 drew loss at one rate over every segment, and an hour of seven dev
    // traces came back with 596 anomalous connection directions holding 71 % of the
    // segments where the real one has 431 holding 37 % (tcp_anomaly_dirs 0.070, floor 0.008).
    std::vector<uint32_t> lossy_flows;
    TcpLoss lossy;
    // Format 17: per ranked port, the protocols of the flows that used it (kPortProto*). The
    // ranks are one vocabulary for every protocol, and the flow model gave TCP flows ports the
    // chunk used only with UDP: ultraloq regenerated by format 16 had 1,184 TCP packets on
    // its DNS clients' ports and DHCP's 67, gnutella TCP to SSDP's 1900 and WS-Discovery's 3702.
    std::vector<uint8_t> port_protos;
    // Format 18: per start bucket, how many of flow_starts are TCP flows with ports. The flow
    // model decides each flow's protocol, and its TCP per hour varied twice as much as the
    // real (ultraloq: a device's keep-alive connection, 200 TCP packets an hour, give or take
    // 34, came back give or take 67), leaving the connection silent for minutes where the
    // model drew other traffic.
    std::vector<uint32_t> tcp_starts;
    // Format 21: per start bucket, the IP packets of the flows that start in it. The flow
    // model draws each flow's size for its phase (a sixteenth of the chunk), not its bucket,
    // and a day's few large flows landed in the wrong hours: ultraloq's packets per hour came
    // back correlating 0.43 with the real ones, where the real buckets' counts give 0.98.
    std::vector<uint32_t> start_packets;
    // Format 26: the TCP connections the chunk's edges cut (edge_connections.h), its first
    // ones open at its start and its last ones still open at its end.
    std::vector<EdgeConnection> edge_in, edge_out;
    // Format 27: SYN openings after which the client's earlier connection to that server port
    // ended (superseded_connections.h), and of those, the ones whose client sent that end.
    uint32_t superseding_opens = 0, superseded_by_client = 0;
    // Format 28: well-known UDP ports' hosts and lengths (udp_services.h), and of the UDP
    // flows that repeat a 5-tuple, those from a client port of 1024 or more. ultraloq's
    // repeats are its DHCP client's, from 68; its DNS queries each ask from a new port.
    std::vector<UdpService> udp_services;
    uint32_t udp_ephemeral_repeats = 0;
    // Format 30: per ranked host, the ends of TCP flows it was seen at (tcp_roles.h's
    // kTcpServerEnd, kTcpClientEnd). ultraloq's public MQTT servers talked to each other.
    std::vector<uint8_t> tcp_roles;
    // Format 31: the same per ranked port. blink-cam-01 served TCP from its client ports.
    std::vector<uint8_t> tcp_port_roles;
    // Format 35: per ranked port, the UDP flows (any protocol with ports but TCP) that had it
    // at their server's end (the port their first packet went to: kAttrSrvPort). The flow
    // model mixed up services that share their hosts: ultraloq's week came back with 46 DNS
    // flows for the real 59 and about a third more DHCP flows, both between the hub and its
    // router. The column is drawn, then brought to these counts with the fewest, likeliest
    // changes (service_counts.h). Not TCP: a TCP flow's first packet goes to a client's port
    // wherever a connection's piece starts with the server's segment, and counts of those
    // drew SYNs to the clients' ports (sifely's hub).
    std::vector<uint32_t> udp_port_flows;
    // Format 37: the commonest senders and targets of the chunk's ARP frames (arp_roles.h).
    std::vector<ArpRole> arp_roles;
    // Format 38: per `icmp` entry, the ranked host that sends that error kind, or
    // kNoIcmpSender (icmp_senders.h).
    std::vector<uint8_t> icmp_senders;
    // Format 39: per `icmp` entry, the ranked host that receives that error kind, or
    // kNoIcmpSender.
    std::vector<uint8_t> icmp_receivers;
    // Format 40: how the chunk's quiet TCP connections speak again (tcp_keepalives.h).
    TcpKeepAlives keepalives;
    // Format 41: tcp_loss split by the end each segment came from, [0] clients, [1] servers
    // (tcp_ends.h). Capture loss has a direction: netflix's capture missed server segments
    // (27 server directions with gaps, 25 clients acknowledging what it missed, none the
    // other way round), and blink-cam-02's servers retransmit; the generator lost and
    // repeated segments of both ends alike.
    std::array<TcpLoss, 2> loss_ends;
    // Format 43: per end, every ACK of unseen data (loss_ends counts their runs). netflix's
    // capture lost bursts of a server's segments while its client's ACKs kept coming: 168
    // such ACKs in 52 runs, up to ten long; the generator's runs ended when the peer spoke.
    std::array<uint32_t, 2> unseen_acks{};
    // Format 44: per end, the retransmissions (loss_ends' retrans) of data the peer had
    // already acknowledged. ultraloq's MQTT server resends a message before the hub's
    // delayed ACK (990 retransmissions, 48 of acknowledged data); the generator resent
    // whatever came last, after the ACK, and tshark called 841 of 884 spurious.
    std::array<uint32_t, 2> spurious_retrans{};
    // Format 47: per end, the FINs sent again before the peer acknowledged them, and how
    // (tcp_fin_resends.h).
    FinResends fin_resends;
    // Format 51: the most SYNs a client sent with one ISN on one 4-tuple (syn_attempts.h).
    uint32_t longest_syn_attempt = 0;
    // Format 52: the IP length of the longest ICMP error, IPv4 then IPv6 (icmp_quotes.h).
    IcmpErrorLongest longest_icmp_error{};
    // Format 53: the clients' SYN resend timer (syn_attempts.h).
    SynTimer syn_timer;
    // Format 55: the gateways that receive on one MAC and send from another (gateway_twins.h).
    GatewayTwins gateway_twins;
    // Format 57: per end (as loss_ends), the segments tshark calls out of order, of its
    // retransmissions (tcp_reorder.h).
    std::array<uint32_t, 2> reordered{};
    // Format 58: the flows the ICMP errors are about (icmp_quotes.h's count_error_flows).
    uint32_t error_flows = 0;
    // Format 60: of superseding_opens, those whose old connection's final segment was a RST
    // (superseded_connections.h).
    uint32_t superseded_resets = 0;
    // Format 62: the ranked hosts the chunk's IGMP went to (igmp_messages.h).
    std::vector<IgmpDest> igmp_dests;
    // Format 63: the scopes whose .255 addresses sent packets (broadcast_hosts.h's bits).
    uint8_t bcast_host_scopes = 0;
    // Format 64: per `icmp` entry, the ICMP flows that opened with it (icmp_kind_flows.h).
    std::vector<IcmpOpened> icmp_opened;
    // Format 65: per dtbin class from 1 s to the 60 s split, where its gaps sit (gap_places.h).
    GapPlaces gap_places{};
    // Format 66: per `cont_gaps` class (but the first), where its silences sit.
    std::array<GapPlace, kContGapClasses> cont_places{};

    uint64_t flows() const;
};

struct FlowTokens {
    std::array<uint8_t, kFlowAttrCount> a{};
    uint8_t bucket = 0;     // time bucket of the start
    uint32_t packets = 0;   // exact count (the class is a[kAttrPkts])
    uint32_t first = 0;     // index of its first PacketTokens row
};

// A flow's size group (GroupSizes::group).
inline uint16_t size_group(const FlowTokens& f) { return static_cast<uint16_t>(f.a[kAttrProto] << 8 | f.a[kAttrFirstFlag]); }

struct PacketTokens {
    uint8_t dir = 0;   // 0: from the flow's initiator
    uint8_t gap = 0;   // dtbin key of the gap to the flow's previous packet (0 for the first)
    uint8_t len = 0;   // ip_len / 16
    uint8_t flag = 0;  // rank in ChunkSide::flags (TCP only)
};

struct EncodedChunk {
    ChunkSide side;
    // Every unranked port value of the chunk, heaviest first (by the packets of the flows
    // that use it): what a port pool is cut from.
    std::vector<TailPort> tail_ports;
    std::vector<FlowTokens> flows;      // by start time
    std::vector<PacketTokens> packets;  // flow by flow, each in time order
};

// Class arithmetic, unit-tested.
int pkts_class(uint64_t n);
std::pair<uint64_t, uint64_t> pkts_class_range(int c);  // inclusive
int len_class(uint32_t ip_len);
// Format 9: class of a silence `excess_ns` beyond 60 s: 0 under 16 ms, then doubling
// (class c ≥ 1 holds [16 ms·2^(c−1), 16 ms·2^c)); the last class holds everything longer.
int cont_gap_class(int64_t excess_ns);
std::pair<int64_t, int64_t> cont_gap_class_range(int c);  // inclusive, in ns
// Format 32: the longest such silence the classes `cont_gaps` (a chunk's counts) allow: the
// top of the highest class counted; no bound (INT64_MAX) when none is, or the last class is.
int64_t longest_cont_excess(std::span<const uint32_t> cont_gaps);
// floor(kTimeBuckets·(t − t0)/span) clamped to the buckets, as the spec bins flow starts.
int time_bucket(int64_t t, int64_t t0, int64_t span);
// First and last nanosecond of bucket b (the last bucket ends at t0 + span; a bucket narrower
// than 1 ns is empty: last < first).
int64_t bucket_first(int b, int64_t t0, int64_t span);
int64_t bucket_last(int b, int64_t t0, int64_t span);
int phase_of_bucket(int bucket);
int port_token(uint16_t port, const std::vector<uint16_t>& ranked);

// `like`: a parent's side. The chunk's ranked hosts (by host id), ports, protocols and
// flag bytes are then laid out in the parent's order wherever the two share a value, the
// rest in rank order in the free places: the parent's weights name vocabulary places, and
// an hour whose host counts came out in another order would give the parent's flows of one
// host (its stack, its class) to another. Readers make nothing of the order but the
// tokens' meaning, so a side laid out this way reads with any reader of its format.
EncodedChunk encode_chunk(std::span<const PacketRecord> chunk, uint32_t linktype, const ChunkSide* like = nullptr);

// The layout above as arithmetic: out[i] is the index into `ranked` that goes to place i.
// A value of `ranked` also in `reference` at an index below ranked.size() takes that place
// (the first of equal values, once); the others fill the free places in rank order.
template <typename K>
std::vector<size_t> aligned_order(const std::vector<K>& ranked, const std::vector<K>& reference) {
    constexpr size_t kFree = SIZE_MAX;
    const size_t n = ranked.size();
    std::vector<size_t> out(n, kFree);
    std::vector<bool> placed(n, false);
    for (size_t i = 0; i < n && i < reference.size(); ++i)
        for (size_t j = 0; j < n; ++j)
            if (!placed[j] && ranked[j] == reference[i]) {
                out[i] = j, placed[j] = true;
                break;
            }
    size_t next = 0;
    for (size_t& o : out) {
        if (o != kFree) continue;
        while (placed[next]) ++next;
        o = next, placed[next] = true;
    }
    return out;
}

// 16-bit keyed hash of a host's address bytes (version byte + address): host identity
// across chunks without storing the address (65,536 addresses share each value).
uint16_t host_id_of(uint8_t ip_version, const uint8_t* addr);

// A flow's protocol entry (a token past the ranked list reads as the last one; a side
// without protocols as TCP over IPv4 with ports).
const ProtoEntry& proto_of(const ChunkSide& side, const FlowTokens& f);

// The `count` heaviest tail ports as a pool, sorted by port (the stored order).
std::vector<PoolPort> pool_of(const std::vector<TailPort>& tail_ports, size_t count);

// The side's bytes (trainer/side_io.cpp).
std::string serialize_side(const ChunkSide& side);
// `format` is the side's (the model blob's) version: 5 to kSideFormat.
Result<ChunkSide> parse_side(std::string_view bytes, const std::string& what, uint8_t format = kSideFormat);

// Gives the sampled flows the chunk's exact size classes, in the order of their sampled
// sizes (the smallest sampled flow takes the smallest class, and so on); sizes move to the
// nearest end of their new class. A no-op when the counts do not add up to the flows.
void match_size_classes(std::vector<FlowTokens>& flows, const std::vector<uint32_t>& size_classes);
// The same within each size group (format 6); a group whose counts do not add up keeps its sizes.
void match_group_sizes(std::vector<FlowTokens>& flows, const std::vector<GroupSizes>& groups);

// Rescales sampled flow sizes so that they add up to `total` exactly, keeping their
// proportions (every flow keeps at least one packet; flows are dropped from the end
// only when there are more flows than packets).
void fit_flow_sizes(std::vector<FlowTokens>& flows, uint64_t total);

}  // namespace dgc::trainer
