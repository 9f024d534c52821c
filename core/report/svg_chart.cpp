#include "core/report/svg_chart.h"

#include "core/report/chart_style.h"
#include "core/report/feature_report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace fscope::core::report {

namespace {

constexpr const char *kText = "#222222";
constexpr const char *kGrid = "#dddddd";

std::string num(double v)
{
    return formatNumber("%.4g", v);
}

std::string px(double v)
{
    return formatNumber("%.1f", v);
}

std::string svgOpen(int width, int height)
{
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width)
        + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width)
        + " " + std::to_string(height)
        + "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
          "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
}

std::string text(double x, double y, const std::string &s, const char *anchor = "start",
    const std::string &extra = {})
{
    return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\" fill=\""
        + kText + "\"" + extra + " xml:space=\"preserve\">" + xmlEscape(s) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const char *colour)
{
    return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2)
        + "\" stroke=\"" + colour + "\" stroke-width=\"1\"/>\n";
}

std::string rect(double x, double y, double w, double h, const std::string &fill)
{
    return "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(std::max(0.0, w))
        + "\" height=\"" + px(std::max(0.0, h)) + "\" fill=\"" + fill + "\"/>\n";
}

} // namespace

std::string xmlEscape(const std::string &s)
{
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                break; // not allowed in XML 1.0
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string histogramSvg(const std::string &title, const std::string &xLabel,
    const std::string &yLabel, float lo, float hi, const std::vector<uint32_t> &counts)
{
    const int w = kChartWidth, h = kChartHeight;
    const double left = 60, right = 14, top = 30, bottom = 42;
    const double plotW = w - left - right, plotH = h - top - bottom;
    std::string svg = svgOpen(w, h);
    svg += text(w / 2.0, 18, title, "middle", " font-size=\"13\" font-weight=\"bold\"");
    uint32_t peak = 0;
    for (uint32_t c : counts)
        peak = std::max(peak, c);
    const double yMax = peak > 0 ? peak * 1.05 : 1.0;
    // Horizontal grid with three tick labels (0, half, peak).
    for (int i = 0; i <= 2; ++i) {
        const double v = peak * i / 2.0;
        const double y = top + plotH * (1 - v / yMax);
        svg += line(left, y, left + plotW, y, kGrid);
        svg += text(left - 6, y + 4, num(std::round(v)), "end");
    }
    const size_t n = counts.size();
    for (size_t i = 0; i < n; ++i) {
        const double x = left + plotW * static_cast<double>(i) / static_cast<double>(n);
        const double bh = plotH * counts[i] / yMax;
        svg += rect(x + 0.5, top + plotH - bh, plotW / static_cast<double>(n) - 1, bh,
            kActivationColor.hex());
    }
    svg += line(left, top + plotH, left + plotW, top + plotH, kText);
    svg += line(left, top, left, top + plotH, kText);
    for (int i = 0; i <= 4; ++i) {
        const double x = left + plotW * i / 4.0;
        svg += line(x, top + plotH, x, top + plotH + 4, kText);
        svg += text(
            x, top + plotH + 16, num(lo + (static_cast<double>(hi) - lo) * i / 4.0), "middle");
    }
    svg += text(left + plotW / 2, h - 8, xLabel, "middle");
    svg += text(14, top + plotH / 2, yLabel, "middle",
        " transform=\"rotate(-90 14 " + px(top + plotH / 2) + ")\"");
    svg += "</svg>\n";
    return svg;
}

int effectsSvgHeight(size_t topRows, size_t bottomRows)
{
    const size_t rows = topRows + bottomRows + (topRows == 0 || bottomRows == 0 ? 0 : 1);
    return static_cast<int>(30 + 16 * std::max<size_t>(rows, 1) + 12);
}

std::string effectsSvg(const std::string &title,
    const std::vector<std::pair<std::string, float>> &top,
    const std::vector<std::pair<std::string, float>> &bottom)
{
    const double rowH = 16, left = 130, right = 60, headTop = 30;
    const int w = kChartWidth;
    const int h = effectsSvgHeight(top.size(), bottom.size());
    std::string svg = svgOpen(w, h);
    svg += text(w / 2.0, 18, title, "middle", " font-size=\"13\" font-weight=\"bold\"");
    float peak = 0;
    for (const auto *list : { &top, &bottom })
        for (const auto &p : *list)
            peak = std::max(peak, std::abs(p.second));
    if (peak <= 0)
        peak = 1;
    const double half = (w - left - right) / 2.0;
    const double zero = left + half;
    double y = headTop;
    auto drawRows = [&](const std::vector<std::pair<std::string, float>> &list, const Rgb &colour) {
        for (const auto &[token, value] : list) {
            const double len = half * std::abs(value) / peak;
            const double x = value >= 0 ? zero : zero - len;
            svg += rect(x, y + 2, len, rowH - 4, colour.hex());
            svg += text(left - 8, y + rowH - 4, displayToken(token), "end");
            svg += text(value >= 0 ? zero + len + 4 : zero + 4, y + rowH - 4, num(value), "start",
                " fill-opacity=\"0.8\"");
            y += rowH;
        }
    };
    drawRows(top, kPositiveColor);
    if (!top.empty() && !bottom.empty())
        y += rowH;
    drawRows(bottom, kNegativeColor);
    svg += line(zero, headTop, zero, y, kText);
    svg += "</svg>\n";
    return svg;
}

} // namespace fscope::core::report
