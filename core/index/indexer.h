#pragma once
// The feature indexer: one streaming pass over a corpus feeds every selected SAE. The model
// runs once per batch up to the deepest hook any SAE reads; each SAE encodes its hook from the
// same batch into its FeatureAccumulator. Results are keyed by (model, SAE, corpus, parameters)
// fingerprints: an index that is done is never computed again, and one that was cancelled or
// killed resumes from its last committed checkpoint with exactly the uninterrupted result.

#include "core/corpus/corpus.h"
#include "core/index/feature_accumulator.h"
#include "core/index/shards.h"
#include "core/jobs/progress.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/store/database.h"

#include <functional>
#include <set>

namespace fscope::core::index {

struct IndexOptions {
    // Contexts per forward pass; 0 = the largest that fits the device (8 on a CPU). A batch that
    // runs out of device memory is split in halves and retried, and the run continues with the
    // smaller size; the result is the same.
    int64_t batchContexts = 8;
    AccumulatorOptions accumulator;
    int64_t logitK = 10;
    // Checkpoint after this many batches; 0 = every commitSeconds of work.
    int64_t commitEveryBatches = 0;
    double commitSeconds = 30;
    std::set<int64_t> specialTokens; // excluded from every statistic
    // Fault injection for tests: called before each forward ("forward") and each SAE's encode
    // ("encode " + hook) with (stage, first context, contexts); may throw c10::OutOfMemoryError
    // to simulate a device that is full.
    std::function<void(const std::string &, int64_t, int64_t)> faultInjection;
    // One shard of the request's batches (shards.h). The shard's state is stored in the
    // workspace as its own record (index_shards), complete at the end; `merge` joins the parts.
    ShardSpec shard;
    // The ranks of a distributed run (the shard is then this rank's): rank 0 decides which
    // indexes are done already, gathers every rank's state at the end and writes the merged
    // index into its workspace; the other ranks' workspaces only hold their shard's state.
    ShardExchange *exchange = nullptr;
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
    int64_t batchContexts = 0; // the batch size of the index key (resolved from 0 = auto)
    int64_t forwardContexts = 0; // contexts per forward at the end (smaller after a back-off)
    std::vector<std::string> notes; // what the run had to change (out-of-memory back-offs)
    std::vector<int64_t> stateBytes; // per SAE: its accumulator's device memory
    int64_t firstBatch = 0, endBatch = 0; // this shard's batches (all of them unsharded)
    bool merged = false; // distributed: rank 0 wrote the merged index (so a part can go)
};

// The batch size indexCorpus uses for batchContexts = 0: 8 on a CPU; on a GPU the largest (up to
// 256) whose activations and accumulators fit in 80% of the free memory.
int64_t autoBatchContexts(const model::Decoder &decoder, const std::vector<const sae::Sae *> &saes,
    int64_t contextLength, const AccumulatorOptions &options);

Result<IndexOutcome> indexCorpus(store::Database &db, const IndexInputs &inputs,
    const IndexOptions &options, jobs::Progress *progress = nullptr);

} // namespace fscope::core::index
