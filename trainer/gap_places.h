// Formats 65 and 66: where a chunk's gaps of a second or more (65) and a connection's
// silences past the 60 s split (66) sit inside their classes. A packet-gap class (dtbin) is a
// tenth of a decade, 26 % wide, and a class of silence (format 9's cont_gap_class) an octave;
// before, a gap was drawn log-uniformly (a silence uniformly) inside its class. lockly's MQTT keep-alives, one
// exchange every 59.6 s, came back every 54.4 s on average, so each piece of the hub's
// connection ran ahead of its start bucket, waited for it, and the regenerated week's hourly
// MQTT packets varied 3.5 times as much as the real ones (per-hour packets correlating 0.35);
// sifely's hub speaks on port 9999 every 10 to 240 s, and its silences past the split came
// back up to 322 s. The side keeps, per class, the mean and spread of its gaps' places, and
// the generator draws there. Sub-second packet gaps move no series an analyst reads at
// minutes and are left as drawn.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/flows.h"
#include "codec/record.h"

namespace dgc::trainer {

// dtbin key of [1 s, 1.26 s), and the classes placed from it up to [50.1 s, 63.1 s), the
// class the 60 s split falls in.
inline constexpr int kPlacedGapFirstClass = 71;
inline constexpr int kPlacedGapClasses = 18;
// Per class, where its gaps sit on a log scale (0 at the class's lower edge, 1 at its upper):
// their mean, (mean + 0.5) / 256, and their spread, the width in 255ths of the class of the
// uniform draw with their standard deviation (255: the whole class). Both 0 where the chunk
// had no gap in the class; a class with gaps has a spread of 1 or more.
struct GapPlace {
    uint8_t mean = 0;
    uint8_t spread = 0;
    bool operator==(const GapPlace&) const = default;
};
using GapPlaces = std::array<GapPlace, kPlacedGapClasses>;

// The mean and spread of places added one by one.
class PlaceTally {
public:
    // `v` in the class [lo, hi] (inclusive, lo > 0).
    void add(int64_t v, int64_t lo, int64_t hi);
    GapPlace place() const;  // {0, 0} when nothing was added

private:
    double sum_ = 0, sq_ = 0;
    uint32_t n_ = 0;
};

// A value of the class [lo, hi] (inclusive, lo > 0) at `place` (one with a spread) from
// `random` (one Rng draw).
int64_t draw_at_place(const GapPlace& place, uint64_t random, int64_t lo, int64_t hi);

// Where the gaps between consecutive packets of each flow sit in their classes.
GapPlaces measure_gap_places(std::span<const PacketRecord> chunk, const std::vector<Flow>& flows);

// Every parsed class has a spread, or is 0 in both.
bool gap_places_valid(std::span<const GapPlace> places);

// A gap of dtbin class `dt_class` from `random` (one Rng draw): at its class's stored place
// where `places` has one, else as sample_dt draws it (the same draw for the classes left).
int64_t sample_placed_dt(int dt_class, uint64_t random, const GapPlaces& places);

}  // namespace dgc::trainer
