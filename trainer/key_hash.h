// A hash for the small fixed-size keys (tuples and pairs of integers and byte arrays) that
// regeneration and encoding look connections and hosts up by. Those lookups never iterate
// in key order, so a hash table does what an ordered map did, without its many compares of
// 16-byte addresses (a 48K-packet SYN flood has as many connections as packets).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trainer/rng.h"

namespace dgc::trainer {

struct KeyHash {
    template <typename T>
    size_t operator()(const T& key) const {
        uint64_t h = 0;
        feed(h, key);
        return static_cast<size_t>(h);
    }

private:
    template <typename T>
        requires std::is_integral_v<T>
    static void feed(uint64_t& h, T x) {
        h = mix64(h ^ static_cast<uint64_t>(x));
    }
    template <size_t N>
    static void feed(uint64_t& h, const std::array<uint8_t, N>& a) {
        for (size_t i = 0; i < N; i += 8) {
            uint64_t w = 0;
            std::memcpy(&w, a.data() + i, std::min<size_t>(8, N - i));
            feed(h, w);
        }
    }
    template <typename A, typename B>
    static void feed(uint64_t& h, const std::pair<A, B>& p) {
        feed(h, p.first), feed(h, p.second);
    }
    template <typename... Ts>
    static void feed(uint64_t& h, const std::tuple<Ts...>& t) {
        std::apply([&h](const auto&... x) { (feed(h, x), ...); }, t);
    }
};

}  // namespace dgc::trainer
