#include "trainer/answered_peers.h"

#include <algorithm>

namespace dgc::trainer {

namespace {
constexpr size_t kPeersKept = 16;  // per client, the latest
}  // namespace

void AnsweredPeers::record(const Endpoint& client, const Endpoint& server, bool answered, int64_t end) {
    auto& peers = of_client_[addr_word(client.addr)];
    const std::array<uint16_t, 2> ports{client.port, server.port};
    std::erase_if(peers, [&](const Peer& p) { return p.ports == ports && p.server.addr == server.addr; });
    if (!answered || ports[0] < 1024 || ports[1] < 1024) return;
    if (peers.size() == kPeersKept) peers.erase(peers.begin());
    peers.push_back({server, ports, end});
}

const AnsweredPeers::Peer* AnsweredPeers::latest_silent(const Endpoint& client, int64_t start, int64_t split) const {
    const auto it = of_client_.find(addr_word(client.addr));
    if (it == of_client_.end()) return nullptr;
    const Peer* best = nullptr;
    for (const Peer& p : it->second)
        if (p.end + split < start && (!best || p.end > best->end)) best = &p;
    return best;
}

}  // namespace dgc::trainer
