#pragma once
// Writes feature reports to disk in the formats core can produce without a GUI toolkit: HTML,
// Markdown (+ an images folder), our JSON and Neuronpedia's upload JSON. (PDF is rendered by
// the PDF exporter plugin from the paged HTML.) Every file is written atomically.

#include "core/report/report_json.h"

#include <optional>
#include <string>
#include <vector>

namespace fscope::core::report {

enum class ReportFormat { Html, Markdown, Json, Neuronpedia };

// "html", "md"/"markdown", "json", "neuronpedia"; nullopt otherwise.
std::optional<ReportFormat> parseReportFormat(const std::string &name);

struct WriteOptions {
    NeuronpediaOptions neuronpedia;
    int maxExamples = 0; // per section in HTML/Markdown; 0 = all
};

// The paths written. Neuronpedia output larger than one upload batch becomes
// "<stem>.batch-N.json" files next to `path`.
Result<std::vector<std::string>> writeReports(const std::vector<FeatureReport> &reports,
    ReportFormat format, const std::string &path, const WriteOptions &options = {});

// Writes `text` to `path` atomically.
Status writeTextFile(const std::string &path, const std::string &text);

} // namespace fscope::core::report
