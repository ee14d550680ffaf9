// Dense ids for IP addresses (version + 16 bytes, IPv4 masked to its 4 bytes), so that the
// per-address counts of sa/da and the per-window distinct-source count of dsrc are plain
// vector lookups instead of map operations.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace dgc::fidelity {

class AddressIndex {
public:
    explicit AddressIndex(size_t expected = 1024) {
        size_t cap = 64;
        while (cap < expected * 2) cap <<= 1;
        slots_.assign(cap, kEmpty);
    }

    uint32_t id_of(const std::array<uint8_t, 16>& addr, uint8_t ip_version) {
        Addr a;
        std::memcpy(&a.lo, addr.data(), 8);
        std::memcpy(&a.hi, addr.data() + 8, 8);
        if (ip_version == 4) {
            a.lo &= mask4();
            a.hi = 0;
        }
        a.version = ip_version;
        const size_t mask = slots_.size() - 1;
        size_t i = hash(a) & mask;
        while (slots_[i] != kEmpty) {
            const Addr& b = addrs_[slots_[i]];
            if (b.lo == a.lo && b.hi == a.hi && b.version == a.version) return slots_[i];
            i = (i + 1) & mask;
        }
        const uint32_t id = static_cast<uint32_t>(addrs_.size());
        slots_[i] = id;
        addrs_.push_back(a);
        if (addrs_.size() * 2 > slots_.size()) grow();
        return id;
    }

    size_t size() const { return addrs_.size(); }

private:
    struct Addr {
        uint64_t lo = 0, hi = 0;
        uint8_t version = 0;
    };
    static constexpr uint32_t kEmpty = 0xffffffffu;

    static uint64_t mask4() {
        // The first four bytes in memory order, whatever the host byte order.
        uint64_t m = 0;
        std::memset(&m, 0xff, 4);
        return m;
    }
    static uint64_t hash(const Addr& a) {
        uint64_t x = a.lo * 0x9e3779b97f4a7c15ULL ^ (a.hi + a.version) * 0xc2b2ae3d27d4eb4fULL;
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 32;
        return x;
    }
    void grow() {
        slots_.assign(slots_.size() * 2, kEmpty);
        const size_t mask = slots_.size() - 1;
        for (uint32_t id = 0; id < addrs_.size(); ++id) {
            size_t i = hash(addrs_[id]) & mask;
            while (slots_[i] != kEmpty) i = (i + 1) & mask;
            slots_[i] = id;
        }
    }

    std::vector<uint32_t> slots_;
    std::vector<Addr> addrs_;
};

}  // namespace dgc::fidelity
