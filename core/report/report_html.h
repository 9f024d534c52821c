#pragma once
// Feature reports as one self-contained HTML page (inline CSS and SVG charts, no scripts, no
// external files) that is also well-formed XML, so it can be checked and post-processed.

#include "core/report/feature_report.h"

#include <string>
#include <vector>

namespace fscope::core::report {

struct ReportChart {
    std::string name; // file name: "feature-14-histogram.svg"
    std::string svg;
    int width = 0, height = 0;
};
// The report's figures: the activation histogram (when the feature fired) and its logit effects.
std::vector<ReportChart> reportCharts(const FeatureReport &report);

struct HtmlOptions {
    // For paged output (PDF): each feature starts a page and charts are <img> elements whose
    // src is the chart's name, to be supplied by the renderer, instead of inline SVG.
    bool paged = false;
    // Examples per section (top and per quantile band); 0 = all.
    int maxExamples = 0;
};
// `charts`, when given, holds reportCharts(reports[k]) at k, already built by the caller (the
// PDF writer renders them as images too); otherwise they are built here.
std::string reportsHtml(const std::vector<FeatureReport> &reports, const HtmlOptions &options = {},
    const std::vector<std::vector<ReportChart>> *charts = nullptr);

// The background of a token at activation `value` of a feature whose max is `max` (the same
// ramp the dashboard uses on a white base).
std::string highlightHex(float value, float max);

// Title of a report over these features ("Feature 14 · layer1-topk", "12 features · layer1-topk").
std::string reportTitle(const std::vector<FeatureReport> &reports);

} // namespace fscope::core::report
