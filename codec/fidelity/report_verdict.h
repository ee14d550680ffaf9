// Pass/fail of an evaluation against the project's targets, for `dgcctl eval`'s table,
// its --json and the HTML report (one function, so the three never disagree). A value
// passes when it is at most its floor plus a tolerance: issue 4's targets for the 17
// metrics (each and their mean: floor + 0.05) and the joint metrics (floor + 0.10), issue
// 11's for the semantics checks (each: semantic_pass, floor + 0.05; their mean: floor + 0.03).
// The metric definitions themselves stay those of ../shared/spec/fidelity.md.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/semantics.h"

namespace dgc::fidelity {

inline constexpr double kMetricMargin = 0.05;        // each of the 17 metrics and their mean
inline constexpr double kJointMargin = 0.10;         // each joint metric and their mean
inline constexpr double kSemanticMeanMargin = 0.03;  // the semantics mean (each check: kSemanticMargin)

enum class Verdict : uint8_t { kUndefined, kPass, kFail };

// kUndefined when the value is; an undefined floor with a defined value (only SYNTH has
// samples) fails, as semantic_pass does.
Verdict verdict_of(const std::optional<double>& value, const std::optional<double>& floor, double margin);
std::string_view verdict_name(Verdict v);  // "pass", "fail", "undefined"

struct EvalVerdict {
    std::array<Verdict, kMetricCount> metrics{};
    Verdict average = Verdict::kUndefined;
    std::array<Verdict, kJointCount> joint{};
    Verdict joint_average = Verdict::kUndefined;
    std::array<Verdict, kSemanticCount> semantics{};  // all kUndefined without semantics
    Verdict semantics_mean = Verdict::kUndefined;
    // The targets: 17-metric mean, joint mean, semantics mean and every semantics check.
    // A single one of the 17 or of the joint metrics over its tolerance is shown, not fatal:
    // the targets are set on the means.
    bool pass = false;
};

// sem/sem_floor may be null (no semantics section): their verdicts stay kUndefined.
EvalVerdict judge(const MetricSet& score, const MetricSet& floor, const SemanticSet* sem, const SemanticSet* sem_floor);

// How many entries fail.
template <size_t N>
int failures(const std::array<Verdict, N>& v) {
    int n = 0;
    for (Verdict x : v) n += x == Verdict::kFail ? 1 : 0;
    return n;
}

// --json's "verdict" object: {"overall": "pass"|"fail", "metrics": {name: v}, "average",
// "joint": {name: v}, "joint_average", "semantics": {name: v}, "semantics_mean",
// "tolerance": {"metric", "joint", "semantics", "semantics_mean"}}; v is "pass", "fail" or
// null (undefined).
nlohmann::ordered_json verdict_json(const EvalVerdict& v);

}  // namespace dgc::fidelity
