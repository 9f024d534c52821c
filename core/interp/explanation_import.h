#pragma once
// Explanations from Neuronpedia's exports, so a Gemma Scope user starts with the public labels:
// records with Neuronpedia's Explanation fields (schema.prisma: `index` the feature, as a
// string or number; `description` the text; optional `explanationModelName`, `typeName`,
// `modelId`, `layer`), as a JSON array, JSON lines, or either gzipped. Each is stored beside
// any other explanation of the feature (nothing is overwritten) with its origin ("neuronpedia:"
// + typeName, explanationModelName as the LLM); a feature shows its newest explanation.

#include "core/store/database.h"

namespace fscope::core::interp {

struct ImportOutcome {
    int64_t imported = 0; // new records
    int64_t unchanged = 0; // already in the workspace (same feature, text and origin)
    int64_t skipped = 0; // outside the SAE, or filtered out by model/layer
};

struct ImportFilter {
    std::string modelId; // keep records of this modelId only (empty: all)
    std::string
        layer; // keep records of this Neuronpedia source id only (e.g. 12-gemmascope-res-16k)
};

// Errors name the file and, for a bad record, its line (JSONL) or position (array).
Result<ImportOutcome> importExplanations(store::Database &db, int64_t saeId,
    const std::string &saeFingerprint, int64_t dSae, const std::string &path,
    const ImportFilter &filter = {});

} // namespace fscope::core::interp
