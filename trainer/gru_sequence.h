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

// e^a for the GRU's gates in training, within a few ulps of libm's expf for a in
// [-87, 88] and clamped to that range (so e^a is a normal float).
float gate_exp(float a);

}  // namespace dgc::trainer
