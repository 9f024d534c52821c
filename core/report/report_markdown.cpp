#include "core/report/report_markdown.h"

#include <cstdio>

namespace fscope::core::report {

namespace {

// Backslash-escapes what Markdown would read as markup.
std::string mdEscape(const std::string &text)
{
    std::string out;
    for (char c : text) {
        if (std::string_view("\\`*_{}[]<>()#+-!|~").find(c) != std::string_view::npos)
            out += '\\';
        out += c == '\n' ? ' ' : c;
    }
    return out;
}

std::string exampleLine(const ReportExample &e)
{
    std::string line = "- `" + formatNumber("%.3f", e.value) + "` ";
    for (size_t i = 0; i < e.tokens.size(); ++i) {
        const std::string t = mdEscape(displayToken(e.tokens[i]));
        if (static_cast<int>(i) == e.maxPos) {
            // Markdown emphasis cannot start or end with a space: keep spaces outside the marks.
            size_t lead = t.find_first_not_of(' ');
            if (lead == std::string::npos)
                lead = t.size();
            line += t.substr(0, lead) + (lead < t.size() ? "**" + t.substr(lead) + "**" : "");
        } else {
            line += t;
        }
    }
    return line + "\n";
}

} // namespace

MarkdownDocument reportsMarkdown(
    const std::vector<FeatureReport> &reports, const std::string &imageDir, int maxExamples)
{
    MarkdownDocument doc;
    const size_t limit = maxExamples > 0 ? static_cast<size_t>(maxExamples) : SIZE_MAX;
    std::string &md = doc.text;
    md += "# " + mdEscape(reportTitle(reports)) + "\n\n";
    for (const auto &r : reports) {
        md += "## Feature " + std::to_string(r.feature) + " · " + mdEscape(r.saeLabel) + "\n\n";
        if (!r.label.empty())
            md += "*" + mdEscape(r.label) + "*\n\n";
        if (!r.explanation.empty()) {
            md += "Explanation: " + mdEscape(r.explanation);
            for (size_t i = 0; i < r.scores.size(); ++i)
                md += (i ? ", " : " (") + r.scores[i].first + " "
                    + formatNumber("%.2f", r.scores[i].second)
                    + (i + 1 == r.scores.size() ? ")" : "");
            md += " — " + mdEscape(r.explanationOrigin) + "\n\n";
        }
        md += "| | |\n|---|---|\n";
        md += "| Density | "
            + (r.dead() ? std::string("dead") : formatNumber("%.4g%%", 100 * r.density)) + " ("
            + std::to_string(r.count) + " of " + std::to_string(r.indexedTokens) + " tokens) |\n";
        md += "| Max activation | " + formatNumber("%.4g", r.max) + " |\n";
        md += "| Mean (when active) | " + formatNumber("%.4g", r.mean) + " |\n";
        md += "| Hook | `" + r.hook + "` |\n";
        md += "| Model | " + mdEscape(r.modelName) + " |\n";
        md += "| Corpus | " + mdEscape(r.corpusLabel) + " |\n\n";
        if (!r.notes.empty())
            md += "**Notes.** " + mdEscape(r.notes) + "\n\n";
        for (auto &chart : reportCharts(r)) {
            md += "![" + chart.name + "](" + imageDir + "/" + chart.name + ")\n\n";
            doc.images.push_back(std::move(chart));
        }
        if (!r.top.empty()) {
            md += "### Top activations\n\n";
            for (size_t i = 0; i < r.top.size() && i < limit; ++i)
                md += exampleLine(r.top[i]);
            md += "\n";
        }
        for (size_t b = r.bands.size(); b-- > 0;) {
            md += "### " + formatNumber("%.3g", r.bands[b].lo) + " – "
                + formatNumber("%.3g", r.bands[b].hi) + " (" + std::to_string(r.bands[b].count)
                + " tokens)\n\n";
            size_t shown = 0;
            for (const auto &e : r.quantiles)
                if (e.band == static_cast<int>(b) && shown++ < limit)
                    md += exampleLine(e);
            md += "\n";
        }
    }
    return doc;
}

} // namespace fscope::core::report
