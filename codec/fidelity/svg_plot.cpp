#include "codec/fidelity/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace dgc::fidelity {
namespace {

constexpr int kLeft = 62, kRight = 12, kTop = 26, kBottom = 46;

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return b;
}

// Roughly five round tick values covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi) {
    if (!(hi > lo)) return {lo};
    const double raw = (hi - lo) / 5;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (raw <= m * mag) {
            step = m * mag;
            break;
        }
    std::vector<double> t;
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
    return t;
}

void legend(std::ostringstream& o, const std::vector<std::pair<std::string, std::string>>& items, int width) {
    int x = width - kRight;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
        x -= 12 + 7 * static_cast<int>(it->first.size()) + 18;
        o << "<rect x=\"" << x << "\" y=\"6\" width=\"12\" height=\"12\" fill=\"" << it->second
          << "\" fill-opacity=\"0.75\"/>"
          << "<text x=\"" << x + 16 << "\" y=\"16\" font-size=\"12\">" << xml_escape(it->first) << "</text>";
    }
}

void frame(std::ostringstream& o, int width, int height, const std::string& x_label, const std::string& y_label) {
    const int pw = width - kLeft - kRight, ph = height - kTop - kBottom;
    o << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << pw << "\" height=\"" << ph
      << "\" fill=\"#fafafa\" stroke=\"#999\"/>";
    o << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << height - 6
      << "\" font-size=\"12\" text-anchor=\"middle\">" << xml_escape(x_label) << "</text>";
    o << "<text x=\"14\" y=\"" << kTop + ph / 2 << "\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 "
      << kTop + ph / 2 << ")\">" << xml_escape(y_label) << "</text>";
}

void y_axis(std::ostringstream& o, int width, int height, double y_max) {
    const int pw = width - kLeft - kRight, ph = height - kTop - kBottom;
    for (double t : nice_ticks(0, y_max)) {
        const double y = kTop + ph - t / y_max * ph;
        o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + pw << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
          << "\" stroke=\"#e3e3e3\"/>";
        o << "<text x=\"" << kLeft - 4 << "\" y=\"" << num(y + 4) << "\" font-size=\"11\" text-anchor=\"end\">"
          << format_si(t) << "</text>";
    }
}

}  // namespace

std::string xml_escape(std::string_view s) {
    std::string r;
    r.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': r += "&amp;"; break;
            case '<': r += "&lt;"; break;
            case '>': r += "&gt;"; break;
            case '"': r += "&quot;"; break;
            default: r += c;
        }
    }
    return r;
}

std::string format_si(double v) {
    const double a = std::fabs(v);
    const char* suffix = "";
    double s = v;
    if (a >= 1e12) { s = v / 1e12; suffix = "T"; }
    else if (a >= 1e9) { s = v / 1e9; suffix = "G"; }
    else if (a >= 1e6) { s = v / 1e6; suffix = "M"; }
    else if (a >= 1e3) { s = v / 1e3; suffix = "k"; }
    char b[32];
    std::snprintf(b, sizeof b, "%.3g%s", s, suffix);
    return b;
}

std::string svg_bar_chart(const BarChart& c, int width, int height) {
    std::ostringstream o;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\">";
    frame(o, width, height, c.x_label, c.y_label);
    double y_max = 0;
    for (const auto& s : c.series)
        for (double v : s.values) y_max = std::max(y_max, v);
    if (y_max <= 0) y_max = 1;
    y_max *= 1.05;
    y_axis(o, width, height, y_max);
    const int pw = width - kLeft - kRight, ph = height - kTop - kBottom;
    const size_t n = std::max<size_t>(c.labels.size(), 1);
    const double slot = static_cast<double>(pw) / n;
    const double bw = slot * 0.8 / std::max<size_t>(c.series.size(), 1);
    for (size_t si = 0; si < c.series.size(); ++si) {
        const auto& s = c.series[si];
        for (size_t i = 0; i < s.values.size() && i < c.labels.size(); ++i) {
            if (s.values[i] <= 0) continue;
            const double h = s.values[i] / y_max * ph;
            o << "<rect x=\"" << num(kLeft + i * slot + slot * 0.1 + si * bw) << "\" y=\"" << num(kTop + ph - h)
              << "\" width=\"" << num(std::max(bw, 0.6)) << "\" height=\"" << num(h) << "\" fill=\"" << s.color
              << "\" fill-opacity=\"0.8\"><title>" << xml_escape(s.name) << " " << xml_escape(c.labels[i]) << ": "
              << format_si(s.values[i]) << "</title></rect>";
        }
    }
    // Labels thinned so they never overlap (about 7 px per character at 11 px).
    size_t longest = 1;
    for (const auto& l : c.labels) longest = std::max(longest, l.size());
    const size_t every = std::max<size_t>(1, static_cast<size_t>(std::ceil((longest * 6.5 + 6) / slot)));
    for (size_t i = 0; i < c.labels.size(); i += every) {
        o << "<text x=\"" << num(kLeft + (i + 0.5) * slot) << "\" y=\"" << kTop + ph + 14
          << "\" font-size=\"11\" text-anchor=\"middle\">" << xml_escape(c.labels[i]) << "</text>";
    }
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& s : c.series) items.emplace_back(s.name, s.color);
    legend(o, items, width);
    o << "</svg>";
    return o.str();
}

std::string svg_line_chart(const LineChart& c, int width, int height) {
    std::ostringstream o;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\">";
    frame(o, width, height, c.x_label, c.y_label);
    double x_min = INFINITY, x_max = -INFINITY, y_max = 0;
    for (const auto& s : c.series)
        for (const auto& [x, y] : s.points) {
            const double xv = c.log_x ? std::log10(x) : x;
            x_min = std::min(x_min, xv);
            x_max = std::max(x_max, xv);
            y_max = std::max(y_max, y);
        }
    if (!std::isfinite(x_min)) x_min = 0, x_max = 1;
    if (!c.log_x && c.x_max > x_max) x_max = c.x_max;
    if (x_max <= x_min) x_max = x_min + 1;
    if (y_max <= 0) y_max = 1;
    y_max *= 1.05;
    y_axis(o, width, height, y_max);
    const int pw = width - kLeft - kRight, ph = height - kTop - kBottom;
    auto px = [&](double x) { return kLeft + ((c.log_x ? std::log10(x) : x) - x_min) / (x_max - x_min) * pw; };
    auto py = [&](double y) { return kTop + ph - y / y_max * ph; };
    if (c.log_x) {
        for (int e = static_cast<int>(std::ceil(x_min)); e <= static_cast<int>(std::floor(x_max)); ++e) {
            const double x = kLeft + (e - x_min) / (x_max - x_min) * pw;
            o << "<line x1=\"" << num(x) << "\" x2=\"" << num(x) << "\" y1=\"" << kTop << "\" y2=\"" << kTop + ph
              << "\" stroke=\"#e3e3e3\"/><text x=\"" << num(x) << "\" y=\"" << kTop + ph + 14
              << "\" font-size=\"11\" text-anchor=\"middle\">" << format_si(std::pow(10.0, e)) << "</text>";
        }
    } else {
        for (double t : nice_ticks(x_min, x_max)) {
            const double x = kLeft + (t - x_min) / (x_max - x_min) * pw;
            o << "<text x=\"" << num(x) << "\" y=\"" << kTop + ph + 14 << "\" font-size=\"11\" text-anchor=\"middle\">"
              << format_si(t) << "</text>";
        }
    }
    for (const auto& s : c.series) {
        if (s.points.empty()) continue;
        o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.6\" stroke-opacity=\"0.85\" points=\"";
        double prev_y = 0;
        bool first = true;
        for (const auto& [x, y] : s.points) {
            if (s.step && !first) o << num(px(x)) << "," << num(py(prev_y)) << " ";
            o << num(px(x)) << "," << num(py(y)) << " ";
            prev_y = y;
            first = false;
        }
        o << "\"/>";
        // Few points (a rank list of one or two addresses): a line alone would be invisible.
        if (s.points.size() <= 24)
            for (const auto& [x, y] : s.points)
                o << "<circle cx=\"" << num(px(x)) << "\" cy=\"" << num(py(y)) << "\" r=\"3.5\" fill=\"" << s.color
                  << "\" fill-opacity=\"0.8\"/>";
    }
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& s : c.series) items.emplace_back(s.name, s.color);
    legend(o, items, width);
    o << "</svg>";
    return o.str();
}

}  // namespace dgc::fidelity
