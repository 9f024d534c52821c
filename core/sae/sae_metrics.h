#pragma once
// SAE quality over token contexts run through the model (SAELens evals.py definitions; see
// formats.md section 7): L0, MSE, explained variance (textbook form, float64), cosine, CE loss
// recovered and KL with the SAE spliced in vs zero-ablation, dead and dense fractions.
// Special tokens (BOS, EOS, padding) keep their activations and are left out of every value.

#include "core/jobs/progress.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"

#include <set>

namespace fscope::core::sae {

struct MetricValue {
    std::string name;
    double value = 0;
    std::string definition;
};

struct SaeMetrics {
    std::vector<MetricValue> values;
    at::Tensor featureCounts; // [d_sae] int64: tokens on which each feature was non-zero
    int64_t tokens = 0; // counted (non-special) tokens
    double value(const std::string &name) const;
};

struct EvalOptions {
    std::set<int64_t> specialTokens;
    int64_t batchSize = 8;
    bool computeCe = true; // the two extra forwards for CE/KL
};

// `contexts`: token id sequences of equal length.
Result<SaeMetrics> evaluateSae(const model::Decoder &decoder, const Sae &sae,
    const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
    jobs::Progress *progress = nullptr);

// Replaces the hook activation by the SAE reconstruction where `keep` is false; flattens
// attn.hook_z's heads for the SAE. Used by metrics and by steering.
at::Tensor spliceReconstruction(
    const Sae &sae, const at::Tensor &activation, const at::Tensor &keep);

} // namespace fscope::core::sae
