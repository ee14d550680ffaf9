// Training's own GRU over packed segments (trainer/gru_sequence.cpp) computes what nn::GRU
// computes over them padded, and the same gradients: a chunk model trained with it is the
// network sampling runs.
#include <gtest/gtest.h>

#include <cmath>

#include "trainer/gru_sequence.h"

using namespace dgc::trainer;

TEST(GruSequence, PackedStatesAndGradientsAreNnGrus) {
    for (uint64_t seed : {1, 2, 3}) {
        const GruCheck c = check_gru_packed(seed);
        EXPECT_LT(c.states, 1e-5) << "seed " << seed;
        EXPECT_LT(c.gradients, 1e-4) << "seed " << seed;
        EXPECT_GT(c.states + c.gradients, 0.0) << "seed " << seed << ": the same operations in the same order?";
    }
}

TEST(GruSequence, GateExpIsExpfWithinAFewUlps) {
    double worst = 0;
    for (float a = -87.0f; a <= 88.0f; a += 0.0137f) {
        const double want = std::exp(static_cast<double>(a));
        worst = std::max(worst, std::abs(gate_exp(a) - want) / want);
    }
    EXPECT_LT(worst, 4e-7);  // two ulps of a float
    EXPECT_EQ(gate_exp(0.0f), 1.0f);
    // Clamped, never infinite or zero: the gates' sigmoid and tanh stay finite.
    EXPECT_TRUE(std::isfinite(gate_exp(1000.0f)));
    EXPECT_GT(gate_exp(-1000.0f), 0.0f);
    EXPECT_LT(gate_exp(-1000.0f), 1e-37f);
}
