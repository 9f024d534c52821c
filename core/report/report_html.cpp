#include "core/report/report_html.h"

#include "core/report/chart_style.h"
#include "core/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace fscope::core::report {

namespace {

std::string withThousands(int64_t n)
{
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string chartBase(const FeatureReport &r)
{
    return "feature-" + fileSafe(r.saeLabel) + "-" + std::to_string(r.feature);
}

const char *kCss = R"css(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 24px; max-width: 960px; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
h1 .sae { font-size: 13px; font-weight: normal; color: #666; }
h2 { font-size: 15px; margin: 18px 0 6px 0; border-bottom: 1px solid #ddd; }
h3 { font-size: 13px; margin: 12px 0 4px 0; color: #444; }
.label { font-size: 15px; font-style: italic; margin: 4px 0 10px 0; }
table.stats { border-collapse: collapse; font-size: 12px; }
table.stats th { text-align: left; padding: 2px 12px 2px 0; color: #666; font-weight: normal; }
table.stats td { padding: 2px 12px 2px 0; }
table.toc { border-collapse: collapse; font-size: 12px; }
table.toc th, table.toc td { text-align: left; padding: 2px 10px; border-bottom: 1px solid #eee; }
.notes { white-space: pre-wrap; font-size: 12px; background: #f6f6f6; padding: 6px; }
.ex { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; margin: 2px 0; white-space: pre-wrap; }
.ex .val { display: inline-block; width: 64px; color: #666; }
.ex .max { font-weight: bold; text-decoration: underline; }
.dead { color: #a33; }
div.feature { margin-bottom: 32px; }
)css";

std::string exampleHtml(const ReportExample &e, float max)
{
    // Two no-break spaces keep the value apart where inline-block widths are not honoured (PDF).
    std::string html = "<div class=\"ex\"><span class=\"val\">" + formatNumber("%.3f", e.value)
        + "</span>&#160;&#160;";
    for (size_t i = 0; i < e.tokens.size(); ++i) {
        const float v = i < e.values.size() ? e.values[i] : 0.0f;
        const std::string text = xmlEscape(displayToken(e.tokens[i]));
        const bool isMax = static_cast<int>(i) == e.maxPos;
        if (v <= 0 && !isMax) {
            html += text;
            continue;
        }
        html += "<span";
        if (isMax)
            html += " class=\"max\"";
        if (v > 0)
            html += " style=\"background-color:" + highlightHex(v, max) + "\"";
        html += " title=\"" + formatNumber("%.4g", v) + "\">" + text + "</span>";
    }
    return html + "</div>\n";
}

std::string sectionHtml(const FeatureReport &r, const HtmlOptions &options, bool first,
    const std::vector<ReportChart> &charts)
{
    // The page break sits on the heading: Qt's rich text (the PDF renderer) honours it on
    // blocks such as h1 and p, not on a wrapping div.
    std::string h = "<div class=\"feature\" id=\"" + xmlEscape(chartBase(r)) + "\">\n<h1";
    if (options.paged && !first)
        h += " style=\"page-break-before: always\"";
    // Labels often name the hook already ("layer6 (blocks.6.hook_resid_post)").
    const std::string where
        = r.saeLabel.find(r.hook) != std::string::npos ? r.saeLabel : r.saeLabel + " · " + r.hook;
    h += ">Feature " + std::to_string(r.feature) + " <span class=\"sae\">" + xmlEscape(where)
        + "</span></h1>\n";
    if (!r.label.empty())
        h += "<p class=\"label\">" + xmlEscape(r.label) + "</p>\n";
    if (!r.explanation.empty()) {
        std::string scores;
        for (const auto &[scorer, v] : r.scores)
            scores += (scores.empty() ? "" : ", ") + scorer + " " + formatNumber("%.2f", v);
        h += "<p class=\"explanation\">Explanation: " + xmlEscape(r.explanation)
            + (scores.empty() ? "" : " (" + xmlEscape(scores) + ")") + " <span class=\"origin\">"
            + xmlEscape(r.explanationOrigin) + "</span></p>\n";
    }
    h += "<table class=\"stats\">\n";
    auto row = [&](const std::string &k, const std::string &v) {
        h += "<tr><th>" + xmlEscape(k) + "</th><td>" + xmlEscape(v) + "</td></tr>\n";
    };
    if (r.dead())
        row("Density", "dead: never fired on " + withThousands(r.indexedTokens) + " tokens");
    else
        row("Density",
            formatNumber("%.4g%%", 100 * r.density) + " (" + withThousands(r.count) + " of "
                + withThousands(r.indexedTokens) + " tokens)");
    row("Max activation", formatNumber("%.4g", r.max));
    row("Mean (when active)", formatNumber("%.4g", r.mean));
    row("Model", r.modelName);
    row("SAE",
        r.saeLabel + (r.layer >= 0 ? " (layer " + std::to_string(r.layer) + ", " : " (")
            + withThousands(r.dSae) + " features)");
    row("Corpus", r.corpusLabel);
    if (!r.lists.empty()) {
        std::string lists;
        for (const auto &l : r.lists)
            lists += (lists.empty() ? "" : ", ") + l;
        row("Lists", lists);
    }
    h += "</table>\n";
    if (!r.notes.empty())
        h += "<h2>Notes</h2>\n<div class=\"notes\">" + xmlEscape(r.notes) + "</div>\n";
    h += "<h2>Activations and logit effects</h2>\n<div class=\"charts\">\n";
    for (const auto &chart : charts) {
        if (options.paged)
            h += "<p><img src=\"" + xmlEscape(chart.name) + "\" alt=\"" + xmlEscape(chart.name)
                + "\" width=\"" + std::to_string(chart.width) + "\" height=\""
                + std::to_string(chart.height) + "\"/></p>\n";
        else
            h += chart.svg;
    }
    h += "</div>\n";
    if (r.dead()) {
        h += "<p class=\"dead\">This feature never fired on the indexed corpus.</p>\n</div>\n";
        return h;
    }
    const size_t limit
        = options.maxExamples > 0 ? static_cast<size_t>(options.maxExamples) : SIZE_MAX;
    h += "<h2>Top activations</h2>\n";
    for (size_t i = 0; i < r.top.size() && i < limit; ++i)
        h += exampleHtml(r.top[i], r.max);
    if (!r.bands.empty()) {
        h += "<h2>Across the activation range</h2>\n";
        for (size_t b = r.bands.size(); b-- > 0;) {
            h += "<h3>" + formatNumber("%.3g", r.bands[b].lo) + " – "
                + formatNumber("%.3g", r.bands[b].hi) + " (" + withThousands(r.bands[b].count)
                + " tokens)</h3>\n";
            size_t shown = 0;
            for (const auto &e : r.quantiles)
                if (e.band == static_cast<int>(b) && shown++ < limit)
                    h += exampleHtml(e, r.max);
        }
    }
    return h + "</div>\n";
}

} // namespace

std::string highlightHex(float value, float max)
{
    const double t = max > 0 ? std::clamp(static_cast<double>(value) / max, 0.0, 1.0) : 0.0;
    const double a = highlightOpacity(t);
    auto mix = [a](int c) { return static_cast<int>(std::lround(255 * (1 - a) + c * a)); };
    return Rgb { mix(kHighlightColor.r), mix(kHighlightColor.g), mix(kHighlightColor.b) }.hex();
}

std::vector<ReportChart> reportCharts(const FeatureReport &r)
{
    std::vector<ReportChart> charts;
    const std::string base = chartBase(r);
    if (!r.dead() && !r.histogram.empty())
        charts.push_back({ base + "-histogram.svg",
            histogramSvg("Activation density (non-zero)", "activation", "tokens", r.histLo,
                r.histHi, r.histogram),
            kChartWidth, kChartHeight });
    if (!r.logitTop.empty() || !r.logitBottom.empty())
        charts.push_back({ base + "-logits.svg",
            effectsSvg("Logit effects (W_dec · W_U)", r.logitTop, r.logitBottom), kChartWidth,
            effectsSvgHeight(r.logitTop.size(), r.logitBottom.size()) });
    return charts;
}

std::string reportTitle(const std::vector<FeatureReport> &reports)
{
    if (reports.empty())
        return "Feature report";
    std::set<std::string> saes;
    for (const auto &r : reports)
        saes.insert(r.saeLabel);
    std::string where;
    for (const auto &s : saes)
        where += (where.empty() ? "" : ", ") + s;
    if (reports.size() == 1)
        return "Feature " + std::to_string(reports[0].feature) + " · " + where;
    return std::to_string(reports.size()) + " features · " + where;
}

std::string reportsHtml(const std::vector<FeatureReport> &reports, const HtmlOptions &options,
    const std::vector<std::vector<ReportChart>> *charts)
{
    std::string h
        = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n<title>"
        + xmlEscape(reportTitle(reports)) + "</title>\n<style>" + kCss
        + "</style>\n</head>\n<body>\n";
    if (reports.size() > 1) {
        h += "<h1>" + xmlEscape(reportTitle(reports))
            + "</h1>\n<table class=\"toc\">\n"
              "<tr><th>Feature</th><th>SAE</th><th>Label</th><th>Density</th><th>Max</th></tr>\n";
        for (const auto &r : reports) {
            const std::string link = options.paged ? std::to_string(r.feature)
                                                   : "<a href=\"#" + xmlEscape(chartBase(r)) + "\">"
                    + std::to_string(r.feature) + "</a>";
            h += "<tr><td>" + link + "</td><td>" + xmlEscape(r.saeLabel) + "</td><td>"
                + xmlEscape(r.label) + "</td><td>" + formatNumber("%.3g%%", 100 * r.density)
                + "</td><td>" + formatNumber("%.3g", r.max) + "</td></tr>\n";
        }
        h += "</table>\n";
    }
    for (size_t i = 0; i < reports.size(); ++i) {
        std::vector<ReportChart> built;
        const auto &sectionCharts
            = charts && i < charts->size() ? (*charts)[i] : (built = reportCharts(reports[i]));
        h += sectionHtml(reports[i], options, i == 0 && reports.size() == 1, sectionCharts);
    }
    h += "<p style=\"color:#888;font-size:11px\">Written by Featurescope "
        + std::string(FEATURESCOPE_VERSION) + ".</p>\n</body>\n</html>\n";
    return h;
}

} // namespace fscope::core::report
