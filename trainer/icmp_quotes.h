// Format 33: an ICMP error answers a packet the chunk regenerated. Up to format 32 an error
// quoted nothing (its frame ended after the ICMP header) and the flow model drew its two
// hosts by rank: ultraloq's hub sent port unreachables to its MQTT server and the server to
// the hub, where the real hub sent them to its router about DNS answers that came after it
// had given up (32 errors about 8 answers; argus, which keys an error on the flow it
// quotes, saw 8 records, regenerated 2). Pure; applied after the chunk's records are in
// time order.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/record.h"

namespace dgc::trainer {

// Of its sender's recent packets (the latest kQuoteLookBack), the one an error quotes.
inline constexpr size_t kQuoteLookBack = 64;

// In time order, each ICMP error quotes a packet of its own (codec/icmp_quote.h): a port
// unreachable the latest UDP datagram sent to its sender that no error quoted yet (to a
// client's port, 1024 and up, before a service's; among those, from its receiver first), and
// goes back to that datagram's sender (addresses and link addresses); any other error (a router's
// host unreachable, a time exceeded) the latest packet its receiver sent to another host
// that none quoted. The quoted packet's source is a unicast address. An error with nothing
// to quote stays as it was; one longer than its header and the whole quoted packet is cut
// to that.
// Format 49 (`stack_limit`): no error is longer than an IPv4 stack or router sends (576
// bytes, RFC 1812 4.3.2.3; RFC 792 hosts quote less) or an IPv6 one (1,280, RFC 4443 2.4(c)),
// whether it quotes or not. The longest error in the dev traces is 576 bytes (a Linux host's,
// as much of the datagram as fits); the flow model draws an error's size from the chunk's
// lengths, and format 48 regenerated 12 errors of 1,364 to 1,475 bytes.
inline constexpr uint32_t kIcmpErrorMaxV4 = 576, kIcmpErrorMaxV6 = 1280;
// Format 52 (`longest`, with `stack_limit`): nor longer than the chunk's own longest error of
// its IP family, where it had one. A host after RFC 792 quotes the IP header and 8 bytes:
// ultraloq's hub sends every port unreachable at 56 bytes, and format 51 regenerated 15 of
// its 32 at 71 to 248, the sizes the flow model drew from the chunk's other lengths.
using IcmpErrorLongest = std::array<uint32_t, 2>;  // [0] IPv4, [1] IPv6; 0: none
// Format 58 (`error_flows`, 0: none given): the errors are about that many flows. A host
// whose port is closed answers every datagram that still comes to it, and a router every
// packet it cannot forward: ultraloq's hub sent its 32 port unreachables about 8 flows of
// late DNS answers (3 or 4 each), where format 57 quoted one datagram each, 16 flows, and
// argus, which keys an error on the flow it quotes, counted 16 records against 8. In time
// order, while the errors so far are about fewer flows than their share of `error_flows`,
// an error quotes a datagram of a flow no error quoted yet where it can; once they are
// about as many, one of a flow an error quoted, or else it repeats its sender's last error
// of its type and code (to the same host, about the same packet).
// Format 62 (`not_to_groups`): nor about a datagram sent to a multicast group or to
// 255.255.255.255 (RFC 1122 3.2.2). A router's time exceeded quoted the latest packet its
// receiver sent: sifely's 9 regenerated ones quoted the hub's IGMP, which format 62 sends
// to 224.0.0.1 as the real hub did.
// Format 63 (`invent_missing`): an error with nothing left to quote is about a datagram its
// receiver sent that the capture need not hold (a spoofed request, one sent before the
// chunk, one another error quoted already): a port unreachable about one to its sender, as
// the latest UDP datagram between the two has it (turned round where the sender sent it),
// else like the latest its receiver was answered with, turned round to the sender; any
// other error about the latest packet its receiver sent to another host, else the latest
// it received from one, turned round. A datagram turned round is as long as the error
// carries (a whole datagram, at least its IP header and 8 bytes) and, quoted by a time
// exceeded, has TTL 1. An amplification's victim gets errors about requests spoofed in its
// name: amp.UDP.snmp's 294 all quote one (reflector port 161), and format 62 regenerated
// 295 quoting none (tshark: "IPv4 truncated"), as it did 17 of isp-fragtest's 29.
struct QuoteRules {
    bool stack_limit = false;     // format 49
    IcmpErrorLongest longest{};   // format 52
    uint32_t error_flows = 0;     // format 58
    bool not_to_groups = false;   // format 62
    bool invent_missing = false;  // format 63
};
void quote_offending_packets(std::vector<PacketRecord>& records, const QuoteRules& rules = {});

// The IP length of the chunk's longest ICMP error, per family (format 52's side).
IcmpErrorLongest longest_icmp_errors(std::span<const PacketRecord> chunk);

// The flows the chunk's ICMP errors are about (format 58's side): errors that differ in
// sender, receiver, type, code or the quoted packet's protocol, addresses and ports.
uint32_t count_error_flows(std::span<const PacketRecord> chunk);

}  // namespace dgc::trainer
