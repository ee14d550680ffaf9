#include "trainer/icmp_quotes.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "codec/address_class.h"
#include "codec/icmp_quote.h"
#include "trainer/key_hash.h"

namespace dgc::trainer {
namespace {

using Addr = std::array<uint8_t, 16>;

struct AddrHash {
    size_t operator()(const Addr& a) const {
        uint64_t h = 1469598103934665603ull;
        for (uint8_t b : a) h = (h ^ b) * 1099511628211ull;
        return h;
    }
};

// A host's recent packets, oldest first; the oldest are forgotten past twice the look-back.
using Recent = std::unordered_map<Addr, std::vector<size_t>, AddrHash>;

void remember(Recent& recent, const Addr& host, size_t i) {
    auto& v = recent[host];
    if (v.size() == 2 * kQuoteLookBack) v.erase(v.begin(), v.begin() + kQuoteLookBack);
    v.push_back(i);
}

// Where in `seen` the latest packet (within the look-back) that `fits` is.
template <class Fits>
std::optional<size_t> latest_at(const std::vector<size_t>& seen, const Fits& fits) {
    const size_t stop = seen.size() > kQuoteLookBack ? seen.size() - kQuoteLookBack : 0;
    for (size_t k = seen.size(); k-- > stop;)
        if (fits(seen[k])) return k;
    return std::nullopt;
}

// The latest of `seen` that `fits`, left in it.
template <class Fits>
std::optional<size_t> latest(const std::vector<size_t>& seen, const Fits& fits) {
    const auto k = latest_at(seen, fits);
    return k ? std::optional<size_t>(seen[*k]) : std::nullopt;
}

// The latest of `seen` that `fits`, taken out of it.
template <class Fits>
std::optional<size_t> take_latest(std::vector<size_t>& seen, const Fits& fits) {
    const auto k = latest_at(seen, fits);
    if (!k) return std::nullopt;
    const size_t i = seen[*k];
    seen.erase(seen.begin() + static_cast<std::ptrdiff_t>(*k));
    return i;
}

// An error goes back to the packet's source, never to a group or unspecified address (RFC 1122 3.2.2).
bool unicast(uint8_t ip_version, const Addr& a) {
    return !addr_class_is_exact(classify_address(ip_version, a.data())) && host_kind_of(ip_version, a.data()) == HostKind::kHost;
}

// Format 62: a multicast group or the limited broadcast, which no error answers. A /24's
// .255 may be a host (amp.UDP.snmp's victims), or a broadcast that VirtualBox's NAT does
// answer (Tinba's 30 net unreachables about datagrams to 10.0.2.255).
bool multicast_or_broadcast(uint8_t ip_version, const Addr& a) {
    const AddrClass c = classify_address(ip_version, a.data());
    return c == AddrClass::kMulticast4 || c == AddrClass::kMulticast6 || c == AddrClass::kBroadcast4;
}

// Cuts an error to `most` bytes of IP datagram.
void cut_error(PacketRecord& r, uint32_t most) {
    if (r.ip_len <= most) return;
    const uint32_t cut = r.ip_len - most;
    r.ip_len = most, r.wirelen -= std::min(r.wirelen, cut), r.caplen -= std::min(r.caplen, cut);
}

// The most bytes an error's datagram may have: a stack's bound, or the chunk's own longest
// error where it had one (never below an IP header, the ICMP header, the quoted IP header
// and 8 bytes of it).
uint32_t error_bound(uint8_t ip_version, const IcmpErrorLongest& longest) {
    const bool v6 = ip_version == 6;
    const uint32_t stack = v6 ? kIcmpErrorMaxV6 : kIcmpErrorMaxV4, own = longest[v6];
    return own ? std::clamp(own, v6 ? 96u : 56u, stack) : stack;
}

bool is_error(const PacketRecord& r) { return r.is_ip() && (r.present & kHasIcmp) && icmp_is_error(r); }

// Format 63: the datagram packet `d`'s receiver would have sent `to` (`d`'s sender, or a host
// like it), as an error of `error_ip_len` quotes it: addresses, ports (and a TCP segment's
// sequence number) turned round, as long as the error carries (no longer than `d`, at least
// its IP header and 8 bytes), TTL 1 where the error says it expired.
IcmpQuote turned_round(const PacketRecord& d, const Addr& to, uint32_t error_ip_len, bool expired) {
    PacketRecord back = d;
    back.src = d.dst, back.dst = to;
    std::swap(back.sport, back.dport);
    const uint32_t hdr = d.ip_version == 6 ? 40 : 20, carried = error_ip_len > hdr + 8 ? error_ip_len - hdr - 8 : 0;
    back.ip_len = std::max(hdr + 8, std::min(d.ip_len, carried));
    back.udp_len = static_cast<uint16_t>(back.ip_len - hdr);
    back.seq = d.ack;
    if (expired) back.ttl = 1;
    return quote_of(back);
}

// Format 63: what error `r` is about where the chunk has nothing left for it to quote
// (icmp_quotes.h). `fits`: whether a packet may be quoted as it is.
template <class Fits>
std::optional<IcmpQuote> invented_quote(const std::vector<PacketRecord>& records, const PacketRecord& r, Recent& sent_by, Recent& received_by,
                                        const Fits& fits) {
    const Addr &sender = r.src, &receiver = r.dst;
    const auto turnable = [&](size_t j) {
        const PacketRecord& d = records[j];
        return d.ip_version == r.ip_version && (d.proto == 6 || d.proto == 17) && d.has_ports() && unicast(d.ip_version, d.src) &&
               unicast(d.ip_version, d.dst);
    };
    std::optional<size_t> own, turned;
    Addr to = sender;
    if (icmp_port_unreachable(r)) {
        const auto udp = [&](size_t j) { return records[j].proto == 17 && records[j].has_ports(); };
        own = latest(sent_by[receiver], [&](size_t j) { return fits(j) && udp(j) && records[j].dst == sender; });
        turned = latest(sent_by[sender], [&](size_t j) { return turnable(j) && udp(j) && records[j].dst == receiver; });
        if (own && turned) (*own > *turned ? turned : own).reset();  // the latest of the two
        // Else one like the latest its receiver was answered with, sent to the closed port.
        if (!own && !turned) turned = latest(received_by[receiver], [&](size_t j) { return turnable(j) && udp(j); });
    } else {
        own = latest(sent_by[receiver], [&](size_t j) { return fits(j) && records[j].dst != sender; });
        if (!own) turned = latest(received_by[receiver], [&](size_t j) { return turnable(j) && records[j].src != sender; });
        if (turned) to = records[*turned].src;
    }
    if (own) return quote_of(records[*own]);
    if (!turned) return std::nullopt;
    const bool expired = (r.proto == 1 && r.icmp_type == 11) || (r.proto == 58 && r.icmp_type == 3);
    return turned_round(records[*turned], to, r.ip_len, expired);
}

// What an error is about, as a flow tool keys it: its hosts, type and code, and the quoted
// packet's protocol, addresses and (TCP, UDP) ports.
using ErrorFlow = std::tuple<Addr, Addr, uint8_t, uint8_t, uint8_t, Addr, Addr, uint32_t>;
using ErrorFlows = std::unordered_set<ErrorFlow, KeyHash>;

// Error `e` sent to `dst` quoting `q` (or nothing).
ErrorFlow error_flow(const PacketRecord& e, const Addr& dst, const IcmpQuote* q) {
    if (!q) return {e.src, dst, e.icmp_type, e.icmp_code, 0, {}, {}, 0};
    const uint32_t ports = q->proto == 6 || q->proto == 17 ? uint32_t(q->l4[0]) << 24 | q->l4[1] << 16 | q->l4[2] << 8 | q->l4[3] : 0;
    return {e.src, dst, e.icmp_type, e.icmp_code, q->proto, q->src, q->dst, ports};
}
ErrorFlow error_flow(const PacketRecord& e) { return error_flow(e, e.dst, (e.present & kHasQuote) ? &e.quote : nullptr); }

// Format 58: which flow the next error should be about, given how many of the chunk's
// `errors` came before it and how many flows they were about.
enum class FlowWanted : uint8_t { kAny, kNew, kQuoted };
FlowWanted flow_wanted(uint32_t error_flows, size_t errors, size_t before, size_t flows_before) {
    if (!error_flows || !errors) return FlowWanted::kAny;
    const uint64_t share = (uint64_t(before + 1) * error_flows + errors - 1) / errors;  // ceil, at least 1
    return flows_before < share ? FlowWanted::kNew : FlowWanted::kQuoted;
}

}  // namespace

IcmpErrorLongest longest_icmp_errors(std::span<const PacketRecord> chunk) {
    IcmpErrorLongest longest{};
    for (const PacketRecord& r : chunk)
        if (r.is_ip() && (r.present & kHasIcmp) && icmp_is_error(r)) {
            uint32_t& l = longest[r.ip_version == 6];
            l = std::max(l, std::min<uint32_t>(r.ip_len, 65535));
        }
    return longest;
}

uint32_t count_error_flows(std::span<const PacketRecord> chunk) {
    ErrorFlows flows;
    for (const PacketRecord& r : chunk)
        if (r.frag_offset == 0 && is_error(r)) flows.insert(error_flow(r));
    return static_cast<uint32_t>(flows.size());
}

void quote_offending_packets(std::vector<PacketRecord>& records, const QuoteRules& rules) {
    const size_t errors = std::count_if(records.begin(), records.end(), [](const PacketRecord& r) { return r.frag_offset == 0 && is_error(r); });
    if (!errors) return;  // most chunks: no index to build
    Recent datagrams_to, sent_by, received_by;
    ErrorFlows flows;
    // Format 58: each sender's last quoting error, by its type and code.
    std::unordered_map<std::tuple<Addr, uint8_t, uint8_t>, size_t, KeyHash> last_error;
    size_t before = 0;
    for (size_t i = 0; i < records.size(); ++i) {
        PacketRecord& r = records[i];
        if (!r.is_ip() || r.frag_offset != 0) continue;
        if (!is_error(r)) {
            remember(sent_by, r.src, i);
            if (rules.invent_missing) remember(received_by, r.dst, i);
            if (r.proto == 17 && r.has_ports()) remember(datagrams_to, r.dst, i);
            continue;
        }
        const bool port_unreachable = icmp_port_unreachable(r);
        // The flow this error would be about if it quoted packet j (a port unreachable goes to its sender).
        const auto flow_if = [&](size_t j) {
            const IcmpQuote q = quote_of(records[j]);
            return error_flow(r, port_unreachable ? records[j].src : r.dst, &q);
        };
        const FlowWanted want = flow_wanted(rules.error_flows, errors, before++, flows.size());
        // kNew: a packet that makes it about a flow no error is about yet; kQuoted: one an error is about.
        const auto wanted = [&](size_t j) { return want == FlowWanted::kAny || flows.contains(flow_if(j)) == (want == FlowWanted::kQuoted); };
        const auto fits = [&](size_t j) {
            const PacketRecord& d = records[j];
            return d.ip_version == r.ip_version && unicast(r.ip_version, d.src) && !(rules.not_to_groups && multicast_or_broadcast(d.ip_version, d.dst));
        };
        const auto find = [&](bool wanted_only) -> std::optional<size_t> {
            const auto ok = [&](size_t j) { return fits(j) && (!wanted_only || wanted(j)); };
            std::optional<size_t> q;
            if (port_unreachable) {
                auto& to = datagrams_to[r.src];
                // A client's port (1024 and up) closes after its exchange; a service port the host
                // uses (a DHCP client's 68) stays open, so a datagram to it is answered last.
                const auto client_port = [&](size_t j) { return records[j].dport >= 1024; };
                for (const bool any_port : {false, true}) {
                    if (!q) q = take_latest(to, [&](size_t j) { return ok(j) && (any_port || client_port(j)) && records[j].src == r.dst; });
                    if (!q) q = take_latest(to, [&](size_t j) { return ok(j) && (any_port || client_port(j)) && records[j].src != r.src; });
                }
            } else {
                // A router's error is about a packet it forwarded: one its receiver sent to another host.
                q = take_latest(sent_by[r.dst], [&](size_t j) { return ok(j) && records[j].dst != r.src; });
            }
            return q;
        };
        std::optional<size_t> q = want == FlowWanted::kAny ? std::nullopt : find(true);
        bool repeats = false;
        if (!q && want == FlowWanted::kQuoted)
            if (const auto last = last_error.find({r.src, r.icmp_type, r.icmp_code}); last != last_error.end()) {
                const PacketRecord& l = records[last->second];  // the same error again
                r.dst = l.dst, r.eth_dst = l.eth_dst, r.eth_src = l.eth_src, r.quote = l.quote;
                repeats = true;
            }
        if (!q && !repeats) q = find(false);
        std::optional<IcmpQuote> invented;
        if (q) {
            const PacketRecord& d = records[*q];
            if (port_unreachable) r.dst = d.src, r.eth_dst = d.eth_src, r.eth_src = d.eth_dst;
            r.quote = quote_of(d);
        } else if (!repeats && rules.invent_missing && (invented = invented_quote(records, r, sent_by, received_by, fits))) {
            r.quote = *invented;
        }
        if (rules.stack_limit) cut_error(r, error_bound(r.ip_version, rules.longest));
        if (q || repeats || invented) {
            r.present |= kHasQuote;
            // An error carries at most the whole datagram it quotes.
            cut_error(r, (r.ip_version == 6 ? 40u : 20u) + 8u + r.quote.ip_len);
            last_error[{r.src, r.icmp_type, r.icmp_code}] = i;
        }
        flows.insert(error_flow(r));
    }
}

}  // namespace dgc::trainer
