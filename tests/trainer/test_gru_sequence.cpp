// Training's own GRU over packed segments (trainer/gru_sequence.cpp) computes what nn::GRU
// computes over them padded, and the same gradients: a chunk model trained with it is the
// network sampling runs.
#include <gtest/gtest.h>

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
