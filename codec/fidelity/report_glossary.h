// What each metric and check name of the fidelity report means, in a line, from
// ../shared/spec/fidelity.md (the 17 and the joint metrics) and docs/semantics.md (the
// checks). The report's glossary; the test checks it covers every name the report shows.
#pragma once

#include <span>
#include <string_view>

namespace dgc::fidelity {

struct GlossaryEntry {
    std::string_view name;
    std::string_view meaning;
};

// The 17 metrics, the joint metrics, the semantics checks, then replay, in that order.
std::span<const GlossaryEntry> glossary();
// The meaning of `name`; empty when the glossary has no such name.
std::string_view meaning_of(std::string_view name);

}  // namespace dgc::fidelity
