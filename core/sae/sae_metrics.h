#pragma once
// SAE quality over token contexts run through the model (SAELens evals.py definitions; see
// formats.md section 7): L0, MSE, explained variance (textbook form, float64), cosine, CE loss
// recovered and KL with the SAE spliced in vs zero-ablation, dead and dense fractions.
// Special tokens (BOS, EOS, padding) keep their activations and are left out of every value.

#include "core/jobs/progress.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"

#include <memory>
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

// A whole cross-layer transcoder, its layers in order (layers[l] reads layer l and writes
// l..n-1; dictionaries_interp.md A4): target t is predicted by sum over l <= t of
// f_l W_dec_l[:, t - l] + b_dec_t. L0 counts every layer's features per token; MSE, EV and
// cosine pool every output hook; CE and KL splice every prediction in at once (the
// replacement model, each layer's features read from the spliced pass) against zero-ablating
// every output hook.
Result<SaeMetrics> evaluateCrossLayer(const model::Decoder &decoder,
    const std::vector<std::shared_ptr<const Sae>> &layers,
    const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
    jobs::Progress *progress = nullptr);

// Replaces the hook activation by the SAE reconstruction where `keep` is false; flattens
// attn.hook_z's heads for the SAE. Used by metrics and by steering.
at::Tensor spliceReconstruction(
    const Sae &sae, const at::Tensor &activation, const at::Tensor &keep);

// The dictionary spliced into a forward pass where `keep` [batch, tokens] is false: an SAE's
// reconstruction replaces its hook; a transcoder's prediction, computed from its input hook
// in the same pass, replaces its output hook (the "replacement" of transcoder papers).
// `keep` undefined: everywhere.
std::vector<std::pair<std::string, model::Intervention>> replacementInterventions(
    std::shared_ptr<const Sae> sae, const at::Tensor &keep);

} // namespace fscope::core::sae
