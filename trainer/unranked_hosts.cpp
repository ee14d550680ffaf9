#include "trainer/unranked_hosts.h"

#include <algorithm>

#include "codec/address_class.h"
#include "trainer/host_slots.h"

namespace dgc::trainer {

UnrankedHosts::UnrankedHosts(const ChunkSide& side, const std::vector<FlowTokens>& flows, uint64_t seed)
    : side_(side), seed_(seed), rng_(mix64(seed ^ 0x9001ULL)) {
    for (const auto& t : side.other_ttl) ttl_w_.push_back(t.count);
    for (const auto& t : side.stacks) stack_w_.push_back(t.count);
    for (const auto& g : side.gateway_macs) gateway_w_.push_back(g.hosts);
    for (const auto& f : flows)
        for (int col : {kAttrCliHost, kAttrSrvHost}) left_ += f.a[col] >= static_cast<int>(side.hosts.size());
    fresh_left_ = side.other_hosts ? std::min<uint64_t>(side.other_hosts, left_) : left_;
}

uint64_t UnrankedHosts::next_index() {
    const bool fresh = used_ == 0 || (fresh_left_ && rng_.below(left_) < fresh_left_);
    const uint64_t idx = fresh ? used_++ : rng_.below(used_);
    if (fresh && fresh_left_) --fresh_left_;
    if (left_) --left_;
    return idx;
}

void UnrankedHosts::fill(uint64_t idx, uint8_t version, Endpoint& e) const {
    Rng r(mix64(seed_ ^ (idx << 1) ^ 0x0743E4ULL));
    std::vector<uint32_t> w;
    for (const auto& o : side_.other_classes) w.push_back(class_version(static_cast<AddrClass>(o.addr_class)) == version ? o.hosts : 0);
    const bool any = std::any_of(w.begin(), w.end(), [](uint32_t x) { return x; });
    const OtherClass o = any ? side_.other_classes[r.pick(w)]
                             : OtherClass{static_cast<uint8_t>(version == 4 ? AddrClass::kPublic4 : AddrClass::kGlobal6), 1, 1, 0};
    const auto cls = static_cast<AddrClass>(o.addr_class);
    const uint64_t subnet = r.below(std::max<uint32_t>(1, o.subnets));
    e.addr = addr_class_is_exact(cls) ? exact_stand_in(cls, idx, side_.format)
                                       : synth_address_of(cls, static_cast<uint16_t>(mix64(o.addr_class ^ (subnet << 8) ^ 0x50B)),
                                                          mix64(seed_ ^ idx ^ 0x0743E4ULL), static_cast<HostKind>(o.host_kind));
    const bool onlink = side_.gateway_macs.empty() || r.below(std::max<uint32_t>(1, o.hosts)) < o.onlink;
    e.mac = onlink ? synth_mac(static_cast<uint16_t>(mix64(seed_ ^ idx ^ 0x3AC)))
                   : synth_mac(side_.gateway_macs[r.pick(gateway_w_)].mac);
    if (!side_.other_ttl.empty()) {
        const auto& t = side_.other_ttl[r.pick(ttl_w_)];
        e.ttl = t.ttl, e.tos = t.tos;
    }
    if (!side_.stacks.empty()) e.stack = side_.stacks[r.pick(stack_w_)];
}

}  // namespace dgc::trainer
