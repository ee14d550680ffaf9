// The operator's view of a fidelity evaluation: one self-contained HTML page (inline SVG,
// no script, no network) with, per metric, the real and synthetic distributions overlaid,
// the JSD and the floor, the traffic-semantics checks, and the per-second packet/byte
// series of both traces.
#pragma once

#include <string>

#include "codec/fidelity/fidelity.h"
#include "codec/fidelity/profile.h"
#include "codec/fidelity/semantics.h"

namespace dgc::fidelity {

struct HtmlReportInput {
    std::string title;
    std::string real_label;   // legend names of the two traces being overlaid
    std::string synth_label;
    const TraceProfile* real = nullptr;
    const TraceProfile* synth = nullptr;
    const FidelityReport* score = nullptr;  // real vs synth
    const FidelityReport* floor = nullptr;  // floor of the real trace
    bool floor_only = false;  // real/synth are the floor's two halves; score == floor
    // Traffic-semantics checks (docs/semantics.md); the table is left out while null.
    const SemanticSet* semantics = nullptr;        // real vs synth (the floor when floor_only)
    const SemanticSet* semantics_floor = nullptr;
};

std::string render_html_report(const HtmlReportInput& in);

}  // namespace dgc::fidelity
