// gru_sequence.cpp's GRU checked against LibTorch's own (torch-free, for the unit tests).
#pragma once

#include <cstdint>

namespace dgc::trainer {

// Largest absolute difference between nn::GRU over padded segments and gru_packed
// (torch_nets.h) over the same segments packed, with random inputs, weights and starting
// states drawn from `seed`: in the states at the segments' steps, and in the gradients of a
// random weighted sum of those states with respect to the inputs, the starting states and
// each of the four weight tensors.
struct GruCheck {
    double states = 0, gradients = 0;
};
GruCheck check_gru_packed(uint64_t seed);

}  // namespace dgc::trainer
