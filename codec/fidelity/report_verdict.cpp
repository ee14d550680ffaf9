#include "codec/fidelity/report_verdict.h"

#include <string>

namespace dgc::fidelity {
namespace {

Verdict from_pass(const std::optional<bool>& pass) {
    if (!pass) return Verdict::kUndefined;
    return *pass ? Verdict::kPass : Verdict::kFail;
}

nlohmann::ordered_json verdict_value(Verdict v) {
    return v == Verdict::kUndefined ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(verdict_name(v));
}

template <size_t N>
nlohmann::ordered_json named(const std::array<Verdict, N>& v, const std::array<std::string_view, N>& names) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (size_t i = 0; i < N; ++i) j[std::string(names[i])] = verdict_value(v[i]);
    return j;
}

}  // namespace

Verdict verdict_of(const std::optional<double>& value, const std::optional<double>& floor, double margin) {
    if (!value) return Verdict::kUndefined;
    if (!floor) return Verdict::kFail;
    return *value <= *floor + margin ? Verdict::kPass : Verdict::kFail;
}

std::string_view verdict_name(Verdict v) {
    switch (v) {
        case Verdict::kPass: return "pass";
        case Verdict::kFail: return "fail";
        default: return "undefined";
    }
}

EvalVerdict judge(const MetricSet& score, const MetricSet& floor, const SemanticSet* sem, const SemanticSet* sem_floor) {
    EvalVerdict v;
    for (int i = 0; i < kMetricCount; ++i) v.metrics[i] = verdict_of(score.metrics[i], floor.metrics[i], kMetricMargin);
    v.average = verdict_of(score.average, floor.average, kMetricMargin);
    for (int i = 0; i < kJointCount; ++i) v.joint[i] = verdict_of(score.joint[i], floor.joint[i], kJointMargin);
    v.joint_average = verdict_of(score.joint_average, floor.joint_average, kJointMargin);
    if (sem && sem_floor) {
        for (int i = 0; i < kSemanticCount; ++i) v.semantics[i] = from_pass(semantic_pass(sem->checks[i], sem_floor->checks[i]));
        v.semantics_mean = verdict_of(sem->mean, sem_floor->mean, kSemanticMeanMargin);
    }
    v.pass = v.average != Verdict::kFail && v.joint_average != Verdict::kFail && v.semantics_mean != Verdict::kFail &&
             failures(v.semantics) == 0;
    return v;
}

nlohmann::ordered_json verdict_json(const EvalVerdict& v) {
    nlohmann::ordered_json j;
    j["overall"] = v.pass ? "pass" : "fail";
    j["metrics"] = named(v.metrics, kMetricNames);
    j["average"] = verdict_value(v.average);
    j["joint"] = named(v.joint, kJointNames);
    j["joint_average"] = verdict_value(v.joint_average);
    j["semantics"] = named(v.semantics, kSemanticNames);
    j["semantics_mean"] = verdict_value(v.semantics_mean);
    j["tolerance"] = {{"metric", kMetricMargin}, {"joint", kJointMargin}, {"semantics", kSemanticMargin},
                      {"semantics_mean", kSemanticMeanMargin}};
    return j;
}

}  // namespace dgc::fidelity
