#include "codec/fidelity/report_json.h"

#include <string>

namespace dgc::fidelity {
namespace {

nlohmann::ordered_json value_or_null(const std::optional<double>& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json counts_json(const PacketCounts& c) { return {{"ip", c.ip}, {"nonip", c.nonip}}; }

}  // namespace

nlohmann::ordered_json metrics_json(const MetricSet& m) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (int i = 0; i < kMetricCount; ++i) j[std::string(kMetricNames[i])] = value_or_null(m.metrics[i]);
    return j;
}

nlohmann::ordered_json joint_json(const MetricSet& m) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (int i = 0; i < kJointCount; ++i) j[std::string(kJointNames[i])] = value_or_null(m.joint[i]);
    return j;
}

nlohmann::ordered_json eval_json(const FidelityReport& score, const FidelityReport& floor_of_real) {
    nlohmann::ordered_json j;
    j["metrics"] = metrics_json(score.score);
    j["average"] = value_or_null(score.score.average);
    j["floor"] = metrics_json(floor_of_real.score);
    j["floor_average"] = value_or_null(floor_of_real.score.average);
    j["packets"] = {{"real", counts_json(score.real)}, {"synthetic", counts_json(score.synthetic)}};
    j["replay"] = value_or_null(score.replay);
    j["joint"] = joint_json(score.score);
    j["joint_average"] = value_or_null(score.score.joint_average);
    j["joint_floor"] = joint_json(floor_of_real.score);
    j["joint_floor_average"] = value_or_null(floor_of_real.score.joint_average);
    return j;
}

nlohmann::ordered_json floor_json(const FidelityReport& floor_of_real, const PacketCounts& real) {
    nlohmann::ordered_json j;
    j["floor"] = metrics_json(floor_of_real.score);
    j["floor_average"] = value_or_null(floor_of_real.score.average);
    j["packets"] = {{"real", counts_json(real)}};
    j["joint_floor"] = joint_json(floor_of_real.score);
    j["joint_floor_average"] = value_or_null(floor_of_real.score.joint_average);
    return j;
}

nlohmann::ordered_json semantics_json(const SemanticSet* score, const SemanticSet& floor_of_real) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::object();
    for (int i = 0; i < kSemanticCount; ++i) {
        nlohmann::ordered_json c;
        if (score) c["value"] = value_or_null(score->checks[i]);
        c["floor"] = value_or_null(floor_of_real.checks[i]);
        if (score) {
            const std::optional<bool> pass = semantic_pass(score->checks[i], floor_of_real.checks[i]);
            c["pass"] = pass ? nlohmann::ordered_json(*pass) : nlohmann::ordered_json(nullptr);
        }
        checks[std::string(kSemanticNames[i])] = std::move(c);
    }
    nlohmann::ordered_json j;
    j["checks"] = std::move(checks);
    if (score) j["mean"] = value_or_null(score->mean);
    j["floor_mean"] = value_or_null(floor_of_real.mean);
    if (score) j["failures"] = semantic_failures(*score, floor_of_real);
    return j;
}

}  // namespace dgc::fidelity
