#pragma once
// Feature reports as Markdown with images: the text references each chart as an SVG file in a
// folder next to the document (`<name>_files/`), which the writer creates.

#include "core/report/report_html.h"

#include <string>
#include <vector>

namespace fscope::core::report {

struct MarkdownDocument {
    std::string text;
    std::vector<ReportChart> images; // to be written into `imageDir`
};
// `imageDir` is the folder name the text uses in image links (relative to the document).
MarkdownDocument reportsMarkdown(
    const std::vector<FeatureReport> &reports, const std::string &imageDir, int maxExamples = 0);

} // namespace fscope::core::report
