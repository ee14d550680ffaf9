// Human labels for histogram bins (the report's x axes): what a key of each metric means.
#pragma once

#include <cstdint>
#include <string>

#include "codec/fidelity/profile.h"

namespace dgc::fidelity {

std::string dt_label(uint64_t dtbin_key);      // "0", "126ns", "1.26ms", ...
std::string log2_label(uint64_t log2bin_key);  // lower edge of the bin: "0", "1", "2", "4k"...
std::string proto_label(uint64_t proto);       // "TCP", "UDP", "ICMP", else the number
std::string flags_label(uint64_t flags);       // "SA", "FPA", "-"...
std::string metric_bin_label(Metric m, uint64_t key);
std::string joint_bin_label(JointMetric m, uint64_t key);

// What a metric's x axis shows, for the chart caption.
std::string metric_axis(Metric m);
std::string joint_axis(JointMetric m);

// Ordered metrics show every bin between the smallest and largest seen (an axis);
// categorical ones only the bins present.
bool metric_is_ordinal(Metric m);

}  // namespace dgc::fidelity
