#pragma once
// Indexing from paths, as the CLI and the workbench ask for it: load the model, tokenizer and
// SAEs, build (or reuse the stored) corpus, then run the indexer. One call, one Progress.

#include "core/index/indexer.h"

namespace fscope::core::index {

struct IndexRequest {
    std::string model; // directory or HF cache name
    std::string device = "auto", dtype = "auto";
    std::vector<std::string> saes; // SAE paths (any supported format)
    std::vector<std::string> saeDirs; // folders whose every SAE is indexed too (sae::findSaes)
    std::string hook; // overrides the SAE files' hook (Gemma Scope npz)
    corpus::CorpusSpec corpus;
    IndexOptions options; // specialTokens filled from the tokenizer when empty
};

struct IndexJobResult {
    IndexOutcome outcome;
    std::vector<std::string> saeLabels;
    int64_t contexts = 0;
    bool corpusFromCache = false;
};

Result<IndexJobResult> runIndexJob(
    store::Database &db, const IndexRequest &request, jobs::Progress *progress = nullptr);

} // namespace fscope::core::index
