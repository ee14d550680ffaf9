// The operator's view of a fidelity evaluation: one self-contained XHTML page (inline SVG,
// no script, no network) that opens with a verdict (report_verdict.h: each value against
// its floor + tolerance, overall against the project's targets) and the inputs' metadata,
// then the metric and semantics tables (bars scaled to the table's data, coloured by
// verdict), protocol mix and top talkers side by side, the per-second packet and byte
// series of both traces on one axis, a chart per metric with both distributions
// overlaid, and a glossary of every name shown. Rendering is pure: everything, the date
// included, comes in through HtmlReportInput.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/profile.h"
#include "codec/fidelity/report_talkers.h"
#include "codec/fidelity/semantics.h"

namespace dgc::fidelity {

struct ReportFile {
    std::string name;               // as the caller named it (a path)
    std::optional<uint64_t> bytes;  // its size, when known
    // Its IP and non-IP packets; when absent, the score's counts (a floor-only report's
    // score holds the halves' IP packets only, so the caller gives REAL's there).
    std::optional<PacketCounts> packets;
};

struct ReportMeta {
    ReportFile real;
    ReportFile synth;                  // name empty in a floor-only report
    std::optional<ReportFile> model;   // what SYNTH was expanded from (.dgc, model), when the caller knows
    std::string tool_version;          // e.g. "dgcctl 0.1.0"
    std::string generated_utc;         // ISO 8601 UTC, e.g. "2026-12-01T08:40:00Z"
};

struct HtmlReportInput {
    std::string title;
    std::string real_label;   // legend names of the two traces being overlaid
    std::string synth_label;
    const TraceProfile* real = nullptr;
    const TraceProfile* synth = nullptr;
    const FidelityReport* score = nullptr;  // real vs synth
    const FidelityReport* floor = nullptr;  // floor of the real trace
    bool floor_only = false;  // real/synth are the floor's two halves; score == floor; no verdict
    // Traffic-semantics checks (docs/semantics.md); the table is left out while null.
    const SemanticSet* semantics = nullptr;        // real vs synth (the floor when floor_only)
    const SemanticSet* semantics_floor = nullptr;
    ReportMeta meta{};  // {}: callers may brace-initialise the fields above and leave these out
    // Top talkers of real and synth (top_talkers()); the table is left out when both are empty.
    std::vector<Talker> real_talkers{};
    std::vector<Talker> synth_talkers{};
};

std::string render_html_report(const HtmlReportInput& in);

}  // namespace dgc::fidelity
