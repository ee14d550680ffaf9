// Minimal inline-SVG charts for the fidelity report: grouped bars over labelled bins and
// (step) line charts. Output is well-formed XML so the page works without a browser's
// error recovery and tests can parse it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dgc::fidelity {

std::string xml_escape(std::string_view s);
// 1234567 -> "1.23M"; small values keep up to 3 significant digits.
std::string format_si(double v);

struct BarSeries {
    std::string name;
    std::string color;
    std::vector<double> values;  // one per label
};

struct BarChart {
    std::string x_label;
    std::string y_label;
    std::vector<std::string> labels;
    std::vector<BarSeries> series;
};

struct LineSeries {
    std::string name;
    std::string color;
    std::vector<std::pair<double, double>> points;  // ascending x
    bool step = false;                              // draw as a staircase (CDFs)
};

struct LineChart {
    std::string x_label;
    std::string y_label;
    std::vector<LineSeries> series;
    bool log_x = false;  // x must be > 0 then
    double x_max = 0;    // when larger than the data's, the axis extends to it (aligned panels)
};

std::string svg_bar_chart(const BarChart& c, int width, int height);
std::string svg_line_chart(const LineChart& c, int width, int height);

}  // namespace dgc::fidelity
