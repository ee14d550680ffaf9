// Pass/fail against floor + tolerance (report_verdict.h): the boundaries, agreement with
// semantic_pass, which failures decide the overall verdict, and the --json "verdict" shape.
#include <gtest/gtest.h>

#include <set>

#include "codec/fidelity/report_verdict.h"

namespace dgc::fidelity {
namespace {

TEST(Verdict, ValueAgainstFloorPlusTolerance) {
    EXPECT_EQ(verdict_of(0.549, 0.5, kMetricMargin), Verdict::kPass);
    EXPECT_EQ(verdict_of(0.551, 0.5, kMetricMargin), Verdict::kFail);
    EXPECT_EQ(verdict_of(0.0, 0.0, kMetricMargin), Verdict::kPass);
    EXPECT_EQ(verdict_of(0.599, 0.5, kJointMargin), Verdict::kPass);
    EXPECT_EQ(verdict_of(0.601, 0.5, kJointMargin), Verdict::kFail);
    EXPECT_EQ(verdict_of(std::nullopt, 0.5, kMetricMargin), Verdict::kUndefined);
    EXPECT_EQ(verdict_of(0.1, std::nullopt, kMetricMargin), Verdict::kFail);  // only SYNTH has samples
    EXPECT_EQ(verdict_name(Verdict::kPass), "pass");
    EXPECT_EQ(verdict_name(Verdict::kFail), "fail");
}

TEST(Verdict, AgreesWithSemanticPass) {
    const std::optional<double> values[] = {std::nullopt, 0.0, 0.03, 0.049, 0.051, 0.1, 0.5, 1.0};
    for (const auto& v : values)
        for (const auto& f : values) {
            const auto pass = semantic_pass(v, f);
            const Verdict want = !pass ? Verdict::kUndefined : *pass ? Verdict::kPass : Verdict::kFail;
            EXPECT_EQ(verdict_of(v, f, kSemanticMargin), want) << v.value_or(-1) << " " << f.value_or(-1);
        }
}

struct Sets {
    MetricSet score, floor;
    SemanticSet sem, sem_floor;
};

// Every value at its floor: everything passes.
Sets at_floor() {
    Sets s;
    for (int i = 0; i < kMetricCount; ++i) s.floor.metrics[i] = s.score.metrics[i] = 0.1;
    for (int i = 0; i < kJointCount; ++i) s.floor.joint[i] = s.score.joint[i] = 0.2;
    s.floor.average = s.score.average = 0.1;
    s.floor.joint_average = s.score.joint_average = 0.2;
    for (int i = 0; i < kSemanticCount; ++i) s.sem_floor.checks[i] = s.sem.checks[i] = 0.05;
    s.sem_floor.mean = s.sem.mean = 0.05;
    return s;
}

TEST(Verdict, OverallFollowsTheTargets) {
    Sets s = at_floor();
    EvalVerdict v = judge(s.score, s.floor, &s.sem, &s.sem_floor);
    EXPECT_TRUE(v.pass);
    EXPECT_EQ(failures(v.metrics) + failures(v.joint) + failures(v.semantics), 0);

    // A single metric or joint metric over its tolerance shows, but the targets are the means.
    s.score.metrics[kDsrc] = 0.2;
    s.score.joint[kJSvcLen] = 0.35;
    v = judge(s.score, s.floor, &s.sem, &s.sem_floor);
    EXPECT_EQ(v.metrics[kDsrc], Verdict::kFail);
    EXPECT_EQ(v.joint[kJSvcLen], Verdict::kFail);
    EXPECT_EQ(failures(v.metrics), 1);
    EXPECT_TRUE(v.pass);

    for (auto [what, mutate] : std::initializer_list<std::pair<const char*, void (*)(Sets&)>>{
             {"17-mean", [](Sets& x) { x.score.average = 0.151; }},
             {"joint mean", [](Sets& x) { x.score.joint_average = 0.301; }},
             {"semantics mean", [](Sets& x) { x.sem.mean = 0.081; }},
             {"one semantics check", [](Sets& x) { x.sem.checks[kExactLen] = 0.101; }},
             {"a check only SYNTH has", [](Sets& x) { x.sem_floor.checks[kIcmpMix] = std::nullopt; }}}) {
        Sets t = at_floor();
        mutate(t);
        EXPECT_FALSE(judge(t.score, t.floor, &t.sem, &t.sem_floor).pass) << what;
    }
    // Just inside each tolerance.
    s = at_floor();
    s.score.average = 0.149;
    s.score.joint_average = 0.299;
    s.sem.mean = 0.079;
    s.sem.checks[kExactLen] = 0.099;
    EXPECT_TRUE(judge(s.score, s.floor, &s.sem, &s.sem_floor).pass);

    // Without semantics their verdicts are undefined and do not decide.
    v = judge(s.score, s.floor, nullptr, nullptr);
    EXPECT_TRUE(v.pass);
    EXPECT_EQ(v.semantics_mean, Verdict::kUndefined);
    for (Verdict x : v.semantics) EXPECT_EQ(x, Verdict::kUndefined);
}

TEST(Verdict, JsonCarriesEveryVerdict) {
    Sets s = at_floor();
    s.score.metrics[kSa] = 0.9;
    s.score.metrics[kTos] = std::nullopt;
    s.sem.checks[kUdpPairing] = 0.9;
    const nlohmann::ordered_json j = verdict_json(judge(s.score, s.floor, &s.sem, &s.sem_floor));
    std::set<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
    EXPECT_EQ(keys, (std::set<std::string>{"overall", "metrics", "average", "joint", "joint_average", "semantics",
                                           "semantics_mean", "tolerance"}));
    EXPECT_EQ(j["overall"], "fail");
    EXPECT_EQ(j["metrics"].size(), size_t(kMetricCount));
    EXPECT_EQ(j["metrics"]["sa"], "fail");
    EXPECT_EQ(j["metrics"]["da"], "pass");
    EXPECT_TRUE(j["metrics"]["tos"].is_null());
    EXPECT_EQ(j["joint"].size(), size_t(kJointCount));
    EXPECT_EQ(j["semantics"].size(), size_t(kSemanticCount));
    EXPECT_EQ(j["semantics"]["udp_pairing"], "fail");
    EXPECT_EQ(j["average"], "pass");
    EXPECT_DOUBLE_EQ(j["tolerance"]["joint"].get<double>(), 0.10);
    EXPECT_DOUBLE_EQ(j["tolerance"]["semantics_mean"].get<double>(), 0.03);
}

}  // namespace
}  // namespace dgc::fidelity
