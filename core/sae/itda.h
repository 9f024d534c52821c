#pragma once
// ITDA: Inference-Time Decomposition of Activations (Leask et al. 2025; the reference code is
// pleask/itda, train.py and layer_similarity.py; dictionaries_interp.md B). A dictionary built
// without gradients from a model's own activations:
//   - atoms are real token activations at one hook, L2-normalised, each remembered with where
//     it came from (context, position, token);
//   - encoding is plain matching pursuit with k rounds (Sae's MatchingPursuit architecture);
//   - building streams batches of tokens and adds, worst approximated first, the tokens whose
//     matching-pursuit approximation with the current atoms is off: err = 1 - cos(x, x_hat)
//     > threshold (the reference's mean_d (x/|x| - x_hat/|x_hat|)^2 is 2 err / d, so its
//     threshold t is t d / 2 here: this one does not depend on the width). Within a batch a
//     candidate is skipped when an atom just added from the same batch already approximates it
//     (1 - |cos| <= threshold), so one batch never adds the same direction twice. An empty
//     dictionary approximates nothing (err 1): the first token starts it. Building stops at
//     `size` atoms or the end of the contexts.
//   - two dictionaries are compared by the Jaccard similarity of their atoms' (context,
//     position) sets, which is meaningful when both were built on the same contexts.

#include "core/jobs/progress.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace fscope::core::sae {

struct ItdaOrigin {
    int64_t context = 0, position = 0, token = 0;
    bool operator<(const ItdaOrigin &o) const
    {
        return context != o.context ? context < o.context : position < o.position;
    }
};

struct ItdaOptions {
    int64_t size = 4096; // atoms to collect
    int64_t k = 40; // matching pursuit rounds (the reference's default)
    double lossThreshold = 0.1; // the reference example's value
    int64_t batchTokens = 512; // tokens encoded per step (4 x 128 in the reference)
};

struct ItdaDictionary {
    at::Tensor atoms; // [n, d] float32, unit rows
    std::vector<ItdaOrigin> origins; // one per atom
    std::string hookName, modelName;
    int64_t k = 40;
    double lossThreshold = 0.1;
    int64_t tokensSeen = 0; // tokens encoded while building
    // The corpus' fingerprint (files, tokenizer, context length: core/corpus): two
    // dictionaries' (context, position) sets are comparable only when it is the same.
    std::string corpusFingerprint;
    double seconds = 0; // build time
};

// One batch of activations with the origin of each row (special tokens already left out).
struct ItdaBatch {
    at::Tensor activations; // [n, d]
    std::vector<ItdaOrigin> origins;
};

// Builds from batches in order until `size` atoms or the batches run out. `next` returns an
// empty batch at the end.
Result<ItdaDictionary> buildItda(const std::function<Result<ItdaBatch>()> &next,
    const ItdaOptions &options, jobs::Progress *progress = nullptr);

// The same over a model's activations at `hook` on token contexts (special tokens skipped).
Result<ItdaDictionary> buildItdaFromModel(const model::Decoder &decoder,
    const std::vector<std::vector<int64_t>> &contexts, const std::string &hook,
    const std::set<int64_t> &specialTokens, const ItdaOptions &options,
    jobs::Progress *progress = nullptr);

// Writes cfg.json + itda.safetensors (atoms, origins [n, 3] int64) into `dir`, atomically per
// file; loadSae reads the folder back as a dictionary of kind itda.
Status saveItda(const ItdaDictionary &dictionary, const std::string &dir);
Result<ItdaDictionary> readItda(const std::string &dir);
// Only the atoms' origins, without the atoms: what a dashboard shows, cheap at any size.
Result<std::vector<ItdaOrigin>> readItdaOrigins(const std::string &dir);

// |A n B| / |A u B| over the atoms' (context, position) pairs.
double itdaJaccard(const ItdaDictionary &a, const ItdaDictionary &b);
// The same over sets of origins already built (compareItda builds each set once, for every
// pair it is part of).
double originJaccard(const std::set<ItdaOrigin> &a, const std::set<ItdaOrigin> &b);

} // namespace fscope::core::sae
