#include "trainer/icmp_quotes.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "codec/address_class.h"
#include "codec/icmp_quote.h"

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

// The latest of `seen` (within the look-back) that `fits`, taken out of it.
template <class Fits>
std::optional<size_t> take_latest(std::vector<size_t>& seen, const Fits& fits) {
    const size_t stop = seen.size() > kQuoteLookBack ? seen.size() - kQuoteLookBack : 0;
    for (size_t k = seen.size(); k-- > stop;)
        if (fits(seen[k])) {
            const size_t i = seen[k];
            seen.erase(seen.begin() + static_cast<std::ptrdiff_t>(k));
            return i;
        }
    return std::nullopt;
}

// An error goes back to the packet's source, never to a group or unspecified address (RFC 1122 3.2.2).
bool unicast(uint8_t ip_version, const Addr& a) {
    return !addr_class_is_exact(classify_address(ip_version, a.data())) && host_kind_of(ip_version, a.data()) == HostKind::kHost;
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

void quote_offending_packets(std::vector<PacketRecord>& records, bool stack_limit, const IcmpErrorLongest& longest) {
    const auto is_error = [](const PacketRecord& r) { return r.is_ip() && (r.present & kHasIcmp) && icmp_is_error(r); };
    if (std::none_of(records.begin(), records.end(), is_error)) return;  // most chunks: no index to build
    Recent datagrams_to, sent_by;
    for (size_t i = 0; i < records.size(); ++i) {
        PacketRecord& r = records[i];
        if (!r.is_ip() || r.frag_offset != 0) continue;
        if (!is_error(r)) {
            remember(sent_by, r.src, i);
            if (r.proto == 17 && r.has_ports()) remember(datagrams_to, r.dst, i);
            continue;
        }
        const auto fits = [&](size_t j) { return records[j].ip_version == r.ip_version && unicast(r.ip_version, records[j].src); };
        std::optional<size_t> q;
        if (icmp_port_unreachable(r)) {
            auto& to = datagrams_to[r.src];
            // A client's port (1024 and up) closes after its exchange; a service port the host
            // uses (a DHCP client's 68) stays open, so a datagram to it is answered last.
            const auto client_port = [&](size_t j) { return records[j].dport >= 1024; };
            for (const bool any_port : {false, true}) {
                if (!q) q = take_latest(to, [&](size_t j) { return fits(j) && (any_port || client_port(j)) && records[j].src == r.dst; });
                if (!q) q = take_latest(to, [&](size_t j) { return fits(j) && (any_port || client_port(j)) && records[j].src != r.src; });
            }
            if (q) {
                const PacketRecord& d = records[*q];
                r.dst = d.src, r.eth_dst = d.eth_src, r.eth_src = d.eth_dst;
            }
        } else {
            // A router's error is about a packet it forwarded: one its receiver sent to another host.
            q = take_latest(sent_by[r.dst], [&](size_t j) { return fits(j) && records[j].dst != r.src; });
        }
        if (stack_limit) cut_error(r, error_bound(r.ip_version, longest));
        if (!q) continue;
        r.quote = quote_of(records[*q]);
        r.present |= kHasQuote;
        // An error carries at most the whole datagram it quotes.
        cut_error(r, (r.ip_version == 6 ? 40u : 20u) + 8u + r.quote.ip_len);
    }
}

}  // namespace dgc::trainer
