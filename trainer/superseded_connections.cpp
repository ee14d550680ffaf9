#include "trainer/superseded_connections.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "codec/fidelity/semantics.h"
#include "codec/frame_synth.h"
#include "trainer/edge_connections.h"
#include "trainer/key_hash.h"
#include "trainer/tcp_plan.h"

namespace dgc::trainer {

namespace {

// A run's final FIN or RST segment, if it sent one.
std::optional<size_t> final_close(const TcpRun& run, std::span<const PacketRecord> records) {
    for (size_t k = run.at.size(); k-- > 0;)
        if (records[run.at[k]].tcp_flags & (kFin | kRst)) return run.at[k];
    return std::nullopt;
}

}  // namespace

SupersedeCounts count_superseding_opens(std::span<const PacketRecord> chunk, std::span<const TcpRun> runs) {
    // Per run: its final FIN or RST, when it sent more than SYNs (an unanswered SYN is no connection to end).
    std::vector<std::optional<size_t>> close(runs.size());
    for (size_t i = 0; i < runs.size(); ++i)
        if (std::any_of(runs[i].at.begin(), runs[i].at.end(), [&](size_t k) { return !(chunk[k].tcp_flags & kSyn); }))
            close[i] = final_close(runs[i], chunk);
    // A client host and the server port it talks to -> its runs, in order of their first segment.
    std::map<std::tuple<uint8_t, std::array<uint8_t, 16>, uint16_t>, std::vector<size_t>> of_client;
    for (size_t i = 0; i < runs.size(); ++i) of_client[{runs[i].ip_version, runs[i].client, runs[i].server_port}].push_back(i);
    SupersedeCounts out;
    for (const auto& [client, members] : of_client)
        for (size_t s = 0; s < members.size(); ++s) {
            const PacketRecord& syn = chunk[runs[members[s]].at.front()];
            if ((syn.tcp_flags & (kSyn | kAck)) != kSyn) continue;
            for (size_t o = s > kSupersedeLookBack ? s - kSupersedeLookBack : 0; o < s; ++o) {
                const std::optional<size_t>& end = close[members[o]];
                if (!end) continue;
                const int64_t after = chunk[*end].t_ns - syn.t_ns;
                if (after < 0 || after > kSupersedeWindowNs) continue;
                ++out.closes;
                out.by_client += from_client(runs[members[o]], chunk[*end]);
                out.resets += (chunk[*end].tcp_flags & kRst) != 0;
                break;
            }
        }
    return out;
}

void close_superseded(std::span<const SupersededConnection> closed, std::vector<PacketRecord>& records) {
    if (closed.empty()) return;
    const std::vector<TcpRun> runs = tcp_runs(records);
    using Key = std::tuple<uint8_t, std::array<uint8_t, 16>, std::array<uint8_t, 16>, uint16_t, uint16_t, int64_t>;
    std::unordered_map<Key, size_t, KeyHash> open_run;  // a run that never closes, by its 4-tuple and last segment's time
    for (size_t i = 0; i < runs.size(); ++i)
        if (const TcpRun& r = runs[i]; !r.closes)
            open_run.emplace(Key{r.ip_version, r.client, r.server, r.client_port, r.server_port, records[r.at.back()].t_ns}, i);
    for (const SupersededConnection& c : closed) {
        const auto found = open_run.find(Key{c.ip_version, c.client, c.server, c.client_port, c.server_port, c.last_t});
        if (found == open_run.end()) continue;
        const TcpRun& run = runs[found->second];
        if (run.at.size() < 2) continue;  // nothing to take its numbers from
        TcpRun before = run;
        before.at.pop_back();
        const std::array<uint32_t, 2> next = seqs_at_end(before, records);  // {client, server}
        // The closing end's own latest segment is the template; an end that sent nothing
        // leaves the close to the other.
        bool client = c.by_client;
        std::optional<size_t> from;
        for (const bool end : {client, !client}) {
            for (size_t k = run.at.size(); k-- > 0 && !from;)
                if (from_client(run, records[run.at[k]]) == end) from = run.at[k];
            if (from) {
                client = end;
                break;
            }
        }
        PacketRecord rst = records[*from];
        const uint32_t headers = rst.ip_len - fidelity::tcp_payload_bytes(rst) - rst.tcp_opt_len;  // IP and TCP's 20 bytes
        rst.t_ns = records[run.at.back()].t_ns;
        rst.tcp_flags = kRst | kAck;
        rst.tcp_opts &= static_cast<uint8_t>(~kOptSack);
        rst.tcp_sack_blocks = 0, rst.tcp_sack_hole = 0, rst.tcp_sack_len = 0;
        rst.tcp_opt_len = static_cast<uint8_t>(tcp_options_len(rst.tcp_opts, 0));
        const uint32_t link = rst.wirelen > rst.ip_len ? rst.wirelen - rst.ip_len : 0;
        const bool whole = rst.caplen >= rst.wirelen;
        rst.ip_len = headers + rst.tcp_opt_len;
        rst.wirelen = link + rst.ip_len;
        rst.caplen = whole ? rst.wirelen : std::min(rst.caplen, rst.wirelen);
        if (rst.ip_version == 4) rst.ip_id = (rst.ip_id + 1) & 0xFFFF;
        rst.seq = next[client ? 0 : 1];
        rst.ack = next[client ? 1 : 0];
        records[run.at.back()] = rst;
    }
}

ChainReopens::ChainReopens(const ChunkSide& side)
    : on_(side.format >= 27),
      late_(side.format >= 34),
      longest_(side.format >= 32 ? longest_cont_excess(side.cont_gaps) : std::numeric_limits<int64_t>::max()),
      supersede_left_(side.superseding_opens),
      by_client_left_(side.superseded_by_client),
      early_left_(side.superseding_opens),
      resets_left_(side.format >= 60 ? side.superseded_resets : std::numeric_limits<uint32_t>::max()) {
    if (on_ && side.superseding_opens) resetter_ = 2 * side.superseded_by_client < side.superseding_opens;
}

std::optional<ConnState> ChainReopens::reopened(OpenConnections& conns, const Endpoint& client, uint16_t server_port, int64_t start,
                                                int64_t split) {
    if (!on_) return std::nullopt;
    auto it = early_opens_.find(client_key(client, server_port));
    if (it == early_opens_.end() || it->second == 0) return std::nullopt;
    for (uint64_t c : conns.open_of(client, server_port))
        if (const ConnState& st = conns.latest[c]; st.end + split < start && (late_ || start - st.end - split - 1 <= longest_)) {
            --it->second;
            return st;
        }
    return std::nullopt;
}

bool ChainReopens::opens_early(OpenConnections& conns, const Endpoint& client, uint16_t server_port) {
    if (!on_ || early_left_ == 0 || !closed_at_.count(client_key(client, server_port)) || !conns.open_of(client, server_port).empty())
        return false;
    --early_left_;
    ++early_opens_[client_key(client, server_port)];
    return true;
}

std::vector<ConnState> ChainReopens::supersede(OpenConnections& conns, const Endpoint& client, uint16_t server_port,
                                               uint8_t ip_version, int64_t start) {
    if (!on_ || supersede_left_ == 0) return {};
    // A close by the chunk's own endings shortly before stands for one.
    if (auto it = closed_at_.find(client_key(client, server_port)); it != closed_at_.end() && start - it->second <= kRecentCloseNs) {
        --supersede_left_;
        return {};
    }
    std::vector<ConnState> gone = conns.supersede(client, server_port, start);
    for (const ConnState& st : gone) {
        if (resets_left_ == 0) continue;
        --resets_left_;
        superseded_.push_back({ip_version, client.addr, st.server.addr, st.client_port, st.server.port, st.end, by_client_left_ > 0});
        by_client_left_ -= by_client_left_ > 0;
    }
    supersede_left_ -= !gone.empty();
    return gone;
}

void ChainReopens::closed(const Endpoint& client, uint16_t server_port, int64_t t) { closed_at_[client_key(client, server_port)] = t; }

}  // namespace dgc::trainer
