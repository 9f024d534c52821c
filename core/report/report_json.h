#pragma once
// Feature reports as JSON: our own documented schema (docs/schemas/feature-report.schema.json)
// and Neuronpedia's feature upload format (/api/feature/upload-batch), so users can publish
// what they found.

#include "core/report/feature_report.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace fscope::core::report {

inline constexpr const char *kReportSchemaName = "featurescope.feature-report";
inline constexpr int kReportSchemaVersion = 1;

nlohmann::json featureReportJson(const FeatureReport &report);
// {"schema", "version", "generator", "features": [...]}.
nlohmann::json reportsJson(const std::vector<FeatureReport> &reports);

struct NeuronpediaOptions {
    std::string modelId; // empty: the model directory's name, lowercased ("gpt2-small")
    std::string sourceSet; // empty: the SAE's directory name; the source is "{layer}-{sourceSet}"
};
// Neuronpedia accepts at most this many features per upload batch.
inline constexpr size_t kNeuronpediaBatch = 128;
// Upload batches {"modelId", "source", "features": [{index, density, topLogits, bottomLogits,
// explanations, activations}]}: one per source and per 128 features. The format needs at least
// one activation record per feature, so features without examples (dead ones) are left out and
// listed in `skipped`.
std::vector<nlohmann::json> neuronpediaBatches(const std::vector<FeatureReport> &reports,
    const NeuronpediaOptions &options = {}, std::vector<int64_t> *skipped = nullptr);

} // namespace fscope::core::report
