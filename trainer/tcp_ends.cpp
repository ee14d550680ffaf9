#include "trainer/tcp_ends.h"

#include <unordered_map>

#include "codec/flows.h"
#include "trainer/tcp_plan.h"
#include "trainer/tcp_sides.h"

namespace dgc::trainer {

std::vector<int8_t> tcp_segment_ends(std::span<const PacketRecord> records) {
    std::unordered_map<FlowKey, bool, FlowKeyHash> client_is_a;  // per 4-tuple: the key's first endpoint is the client
    std::vector<int8_t> ends(records.size(), -1);
    for (uint32_t i : time_order(records)) {
        const PacketRecord& r = records[i];
        if (r.proto != 6 || !(r.present & kHasTcp) || !r.has_ports()) continue;
        const FlowKey key = flow_key_of(r);
        const bool from_a = from_key_a(r, key);
        const bool opens = (r.tcp_flags & (kSyn | kAck)) == kSyn || r.sport > r.dport;
        const bool a_client = client_is_a.try_emplace(key, from_a == opens).first->second;
        ends[i] = static_cast<int8_t>(from_a == a_client ? 0 : 1);
    }
    return ends;
}

}  // namespace dgc::trainer
