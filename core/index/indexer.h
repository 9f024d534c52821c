#pragma once
// The feature indexer: one streaming pass over a corpus feeds every selected SAE. The model
// runs once per batch up to the deepest hook any SAE reads; each SAE encodes its hook from the
// same batch into its FeatureAccumulator. Results are keyed by (model, SAE, corpus, parameters)
// fingerprints: an index that is done is never computed again, and one that was cancelled or
// killed resumes from its last committed checkpoint with exactly the uninterrupted result.

#include "core/corpus/corpus.h"
#include "core/index/feature_accumulator.h"
#include "core/jobs/progress.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/store/database.h"

#include <set>

namespace fscope::core::index {

struct IndexOptions {
    int64_t batchContexts = 8;
    AccumulatorOptions accumulator;
    int64_t logitK = 10;
    // Checkpoint after this many batches; 0 = every commitSeconds of work.
    int64_t commitEveryBatches = 0;
    double commitSeconds = 30;
    std::set<int64_t> specialTokens; // excluded from every statistic
};

struct IndexSae {
    const sae::Sae *sae = nullptr;
    std::string label; // shown in the browser; defaults to the SAE's path
};

struct IndexInputs {
    const model::Decoder *decoder = nullptr;
    std::string modelFingerprint;
    const corpus::Corpus *corpus = nullptr;
    std::string corpusLabel;
    std::string corpusSpecJson = "{}";
    std::vector<IndexSae> saes;
};

struct IndexOutcome {
    std::vector<int64_t> indexIds; // per SAE, in input order
    std::vector<bool> computed; // false: served from the cache
    int64_t batchesRun = 0; // forward passes of this call (0 on a full cache hit)
    int64_t tokens = 0; // corpus tokens per SAE
    double seconds = 0;
    double logitSeconds = 0; // once per (model, SAE), independent of the corpus
    double writeSeconds = 0; // final result writes (checkpoints are inside the pass)
};

Result<IndexOutcome> indexCorpus(store::Database &db, const IndexInputs &inputs,
    const IndexOptions &options, jobs::Progress *progress = nullptr);

} // namespace fscope::core::index
