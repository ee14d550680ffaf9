#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace dgc::tools {
namespace {

std::string seconds_text(double s) {
    char b[32];
    const long n = std::lround(s);
    if (n >= 3600) std::snprintf(b, sizeof b, "%ldh%02ldm", n / 3600, n / 60 % 60);
    else if (n >= 60) std::snprintf(b, sizeof b, "%ldm%02lds", n / 60, n % 60);
    else std::snprintf(b, sizeof b, "%lds", n);
    return b;
}

}  // namespace

std::string progress_text(const std::string& what, double fraction, double elapsed_s, const std::string& detail) {
    std::string s = what;
    if (fraction >= 0) {
        fraction = std::min(fraction, 1.0);
        char pct[16];
        std::snprintf(pct, sizeof pct, "%5.1f%%", 100 * fraction);
        s += std::string("  ") + pct;
    }
    if (!detail.empty()) s += "  " + detail;
    s += "  elapsed " + seconds_text(elapsed_s);
    if (fraction > 0.0 && fraction < 1.0) s += "  ETA " + seconds_text(elapsed_s * (1.0 - fraction) / fraction);
    return s;
}

bool plain_line_due(double elapsed_s, double last_printed_s) {
    if (last_printed_s < 0) return elapsed_s >= kPlainFirst;
    return elapsed_s - last_printed_s >= kPlainEvery;
}

Progress::Progress(std::string what, FILE* to) : what_(std::move(what)), to_(to), tty_(::isatty(::fileno(to)) == 1) {}

Progress::~Progress() { finish(); }

double Progress::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void Progress::update(double fraction, const std::string& detail) {
    const double t = elapsed();
    if (tty_) {
        if (t < kPlainFirst) return;  // a command that ends within a second shows nothing
        if (drawn_ && t - last_draw_ < kRedrawEvery) return;  // per-step callbacks come by the thousand
        last_draw_ = t;
        // \r and erase-to-end-of-line: the new text may be shorter than the old.
        std::fprintf(to_, "\r%s\x1b[K", progress_text(what_, fraction, t, detail).c_str());
        drawn_ = true;
    } else {
        if (!plain_line_due(t, last_plain_)) return;
        std::fprintf(to_, "%s\n", progress_text(what_, fraction, t, detail).c_str());
        last_plain_ = t;
    }
    std::fflush(to_);
}

void Progress::note(const std::string& line) {
    if (drawn_) std::fprintf(to_, "\r\x1b[K");
    drawn_ = false;
    std::fprintf(to_, "%s\n", line.c_str());
    std::fflush(to_);
}

void Progress::finish() {
    if (!drawn_) return;
    std::fprintf(to_, "\r\x1b[K");
    std::fflush(to_);
    drawn_ = false;
}

}  // namespace dgc::tools
