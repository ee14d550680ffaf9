// Format 42: the packet model draws a segment's size, gap and flags knowing its direction.
// netflix's clients ask and its servers stream: the real chunk's initiators send full-size
// segments a few times in a hundred, the responders on most of theirs.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/trainer/dev_capture.h"
#include "trainer/chunk_tokens.h"
#include "trainer/model.h"

using namespace dgc;
using namespace dgc::trainer;

namespace {

constexpr int kFullSize = 40;  // length class of 640 bytes and more

// Per direction (0: the flow's initiator), the share of its packets of at least kFullSize.
std::array<double, 2> full_size_shares(const std::vector<PacketTokens>& packets) {
    std::array<double, 2> full{}, all{};
    for (const PacketTokens& p : packets) {
        all[p.dir & 1] += 1;
        full[p.dir & 1] += p.len >= kFullSize;
    }
    return {all[0] ? full[0] / all[0] : 0.0, all[1] ? full[1] / all[1] : 0.0};
}

bool has_direction_weights(const ParamSet& p) {
    return std::any_of(p.begin(), p.end(), [](const ParamTensor& t) { return t.name.ends_with("dir_bias") || t.name.ends_with("dir_gate"); });
}

ParamSet without_direction_weights(ParamSet p) {
    std::erase_if(p, [](const ParamTensor& t) { return t.name.ends_with("dir_bias") || t.name.ends_with("dir_gate"); });
    return p;
}

struct Trained {
    EncodedChunk enc;
    ParamSet keyframe;
};

const Trained& netflix() {
    static const Trained t = [] {
        Trained out;
        out.enc = encode_chunk(load_dev_capture("nDPI__netflix.pcap").records, 1);
        FitOptions fo;
        fo.steps = 16;  // what dgcctl compress gives a chunk this small
        out.keyframe = fit_keyframe({&out.enc}, fo).params;
        return out;
    }();
    return t;
}

}  // namespace

TEST(DirectionAware, EachEndSendsItsOwnSizes) {
    const Trained& t = netflix();
    const auto real = full_size_shares(t.enc.packets);
    ASSERT_LT(real[0], 0.15) << "netflix's clients mostly acknowledge";
    ASSERT_GT(real[1], 0.45) << "netflix's servers mostly stream";
    ASSERT_TRUE(has_direction_weights(t.keyframe));

    const auto drawn = full_size_shares(sample_tokens(t.keyframe, nullptr, 0, t.enc.side, 7).packets);
    EXPECT_LT(drawn[0], real[0] + 0.08) << "clients send the servers' segments";
    EXPECT_GT(drawn[1], real[1] - 0.15);

    // The same weights without the direction's: sizes drawn beside the direction, not after
    // it, as before format 42. Both ends send full-size segments alike.
    const auto blind = full_size_shares(sample_tokens(without_direction_weights(t.keyframe), nullptr, 0, t.enc.side, 7).packets);
    EXPECT_GT(blind[0], drawn[0] + 0.1);
    EXPECT_LT(std::abs(blind[0] - blind[1]), 0.15);
}

TEST(DirectionAware, ADeltaAddsNoBytesAndKeepsItsKeyframesDirections) {
    const Trained& t = netflix();
    FitOptions fo;
    fo.steps = 4;
    fo.lora_rank = 0;
    const FitResult delta = fit_delta(t.keyframe, t.enc, fo);
    ASSERT_FALSE(delta.params.empty());
    EXPECT_FALSE(has_direction_weights(delta.params)) << "the direction weights are the keyframe's";
    // A delta of a keyframe written before format 42 holds the same tensors.
    const FitResult old = fit_delta(without_direction_weights(t.keyframe), t.enc, fo);
    ASSERT_EQ(old.params.size(), delta.params.size());
    for (size_t i = 0; i < old.params.size(); ++i) EXPECT_EQ(old.params[i].name, delta.params[i].name);

    const auto real = full_size_shares(t.enc.packets);
    const auto drawn = full_size_shares(sample_tokens(t.keyframe, &delta.params, 0, t.enc.side, 7).packets);
    EXPECT_LT(drawn[0], real[0] + 0.08);
    EXPECT_GT(drawn[1], real[1] - 0.15);
}
