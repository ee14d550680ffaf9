// Progress of a long dgcctl command, on standard error. On a terminal: one line redrawn in
// place once the command has run a second. Otherwise (a pipe, a log file): a plain line
// every few seconds and never a control code, so logs stay readable. Both binaries' output
// proper (stdout) is never touched.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace dgc::tools {

// "compress  42.0%  chunk 3/7  elapsed 12s  ETA 16s": the ETA assumes the rest goes at the
// pace so far, and is left out until there is a pace to go by. A negative fraction is
// unknown progress (waiting on something else): no percentage, no ETA.
std::string progress_text(const std::string& what, double fraction, double elapsed_s, const std::string& detail);

// Whether a plain (non-terminal) line is due: the first once the command has run
// kPlainFirst seconds, then one every kPlainEvery seconds.
constexpr double kPlainFirst = 1.0;
constexpr double kPlainEvery = 5.0;
bool plain_line_due(double elapsed_s, double last_printed_s);
// On a terminal, the line is redrawn at most this often.
constexpr double kRedrawEvery = 0.1;

class Progress {
public:
    // `what` starts each line (the command's name); `to` is the stream (a test passes a file).
    explicit Progress(std::string what, FILE* to = stderr);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // fraction: 0..1 of the whole command, or negative when unknown; detail: where it is.
    void update(double fraction, const std::string& detail = "");
    // A line that stays (a per-chunk summary); on a terminal the redrawn line is cleared first.
    void note(const std::string& line);
    // Ends the redrawn line, so what the command prints next starts on a fresh one.
    void finish();

private:
    double elapsed() const;

    std::string what_;
    FILE* to_;
    bool tty_;
    bool drawn_ = false;  // a redrawn line is on the terminal now
    double last_plain_ = -1;
    double last_draw_ = -1;
    std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

}  // namespace dgc::tools
