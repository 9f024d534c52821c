#pragma once
// What SAE Match's permutations are worth on real activations (paper section 5.5, eq. 5):
// layer A's SAE code, permuted into layer B's feature order and decoded by B's SAE,
// approximates B's hidden state x_B:
//     x_hat_B = W_dec^B (P f_A(x_A)) + b_dec^B
// scored by explained variance 1 - sum ||x_hat - x||^2 / sum ||x - mean||^2 (the paper prints
// the unexplained fraction; its curves rise towards 0.8, so EV = 1 - that), and by splicing
// x_hat_B into the model at B's hook: delta CE (nats) and KL(base || spliced) of the
// next-token distributions. Special tokens (BOS, EOS, PAD and the document separators inside
// a context) keep their activations and are excluded from every value, the same rule as
// `sae eval` and the indexer (core/metrics). Also the data-based Matching Score: over counted
// tokens, the share of A's active features whose partner in B is active too.

#include "core/model/decoder.h"
#include "core/sae/sae.h"

#include <set>
#include <string>
#include <vector>

namespace fscope::core::match {

struct SpliceScheme {
    std::string name; // "folded match", "unfolded match", "unmatched", ...
    std::vector<int64_t> permutation; // A feature -> B feature (-1: dropped); empty: see kind
    enum Kind { Permute, ReconstructB, SkipLayer } kind = Permute;
};

struct SpliceScore {
    std::string name;
    double explainedVariance = 0;
    double deltaCe = 0; // CE(spliced) - CE(base), nats per token
    double kl = 0; // mean KL(P_base || P_spliced) (SAELens kl_div)
    double matchingScore = -1; // Permute schemes only
    int64_t tokens = 0; // positions counted for the explained variance and Matching Score
    int64_t predictions = 0; // next-token predictions counted for delta CE and KL
};

struct SpliceEvaluation {
    double baseCe = 0;
    int64_t tokens = 0; // next-token positions scored for CE and KL (special inputs excluded)
    int64_t states = 0; // hidden-state positions counted for EV and the Matching Score
    std::vector<SpliceScore> scores;
};

// `contexts` [batch, T] int64 token ids (BOS first). Schemes are scored on the same batch;
// `specialTokens` (corpus::specialTokens) are excluded from every value and never spliced.
Result<SpliceEvaluation> evaluateSplices(const model::Decoder &decoder, const sae::Sae &a,
    const sae::Sae &b, const at::Tensor &contexts, const std::vector<SpliceScheme> &schemes,
    const std::set<int64_t> &specialTokens);

// The standard schemes: the given folded and unfolded permutations, the identity ("unmatched",
// feature i to feature i), B's own reconstruction and skipping the layers (x_A as x_B).
std::vector<SpliceScheme> standardSchemes(
    const std::vector<int64_t> &folded, const std::vector<int64_t> &unfolded, int64_t widthA);

} // namespace fscope::core::match
