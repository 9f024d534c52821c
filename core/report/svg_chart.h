#pragma once
// Small, self-contained SVG charts for reports (no Qt): the activation histogram and the
// logit-effect bars, titled, with axis labels, in the plot family's colours.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fscope::core::report {

inline constexpr int kChartWidth = 560;
inline constexpr int kChartHeight = 240;

// Bars over equal-width bins of [lo, hi].
std::string histogramSvg(const std::string &title, const std::string &xLabel,
    const std::string &yLabel, float lo, float hi, const std::vector<uint32_t> &counts);

// Horizontal bars: `top` (positive colour) above `bottom` (negative colour), one per token.
std::string effectsSvg(const std::string &title,
    const std::vector<std::pair<std::string, float>> &top,
    const std::vector<std::pair<std::string, float>> &bottom);

// The height effectsSvg gives for these row counts.
int effectsSvgHeight(size_t topRows, size_t bottomRows);

// Escapes &, <, >, " and ' for XML text and attributes; drops characters XML 1.0 forbids.
std::string xmlEscape(const std::string &text);

} // namespace fscope::core::report
