#pragma once
// Every statistic the product reports over tokens, defined once (docs/metrics.md). Callers run
// the model and the SAEs; these functions only count. One rule for special tokens: a position
// whose token is BOS, EOS, PAD or a document separator is excluded from every statistic, and
// a next-token statistic at position t (predicting t + 1) is counted when token t is counted
// (SAELens run_evals(exclude_special_tokens=True): ignored positions, CE mask [:, :-1]).

#include <ATen/ATen.h>

#include <cstdint>
#include <set>

namespace fscope::core::metrics {

// [B, T] bool: true where the token is counted (not special).
at::Tensor countedTokens(const at::Tensor &ids, const std::set<int64_t> &specialTokens);
// [B, T - 1] bool: true where the prediction of token t + 1 at position t is counted.
at::Tensor countedPredictions(const at::Tensor &countedTokens);

// Reconstruction of x [.., d] by x_hat with code f [.., F] over the counted positions, pooled
// over batches in float64 (SAELens evals.py, newer ExplainedVarianceCalculator):
//   L0  = mean_t #{i : f_i != 0}
//   MSE = mean_t ||x - x_hat||^2            (summed over d)
//   EV  = 1 - MSE / (E_t ||x||^2 - ||E_t x||^2)   (1 when both are ~0, 0 when only the variance is)
//   cosine = mean_t cos(x, x_hat)
class ReconstructionStats {
public:
    // `counted` [..] bool with the leading shape of x; `code` may be undefined (no L0/density).
    void add(const at::Tensor &x, const at::Tensor &xHat, const at::Tensor &counted,
        const at::Tensor &code = {});
    int64_t tokens() const { return m_tokens; }
    double l0() const;
    double mse() const;
    double explainedVariance() const;
    double cosine() const;
    // [F] int64 counts of counted tokens on which each feature was != 0.
    const at::Tensor &featureCounts() const { return m_counts; }

private:
    int64_t m_tokens = 0;
    double m_l0 = 0, m_squaredError = 0, m_squaredNorm = 0, m_cosine = 0;
    at::Tensor m_sum; // [d] float64
    at::Tensor m_counts; // [F] int64
};

// Next-token NLL [B, T-1] and log-probabilities [B, T-1, V] in float64 (SAELens
// lm_cross_entropy_loss(per_token=True): -log_softmax(logits)[:, :-1].gather(tokens[:, 1:])).
struct NextToken {
    at::Tensor nll, logProbs;
};
NextToken nextToken(const at::Tensor &logits, const at::Tensor &ids);

// KL(P || Q) per position from log-probabilities over the last dimension:
// sum_v p_v (log p_v - log q_v), clamped at 0 against rounding.
at::Tensor klDivergence(const at::Tensor &logP, const at::Tensor &logQ);

// Sums of CE and KL of a patched run against the clean run over the counted predictions:
// CE = mean next-token NLL, KL = mean KL(P_clean || P_patched) (SAELens evals.py).
class NextTokenStats {
public:
    void add(
        const NextToken &clean, const NextToken &patched, const at::Tensor &countedPredictions);
    int64_t predictions() const { return m_predictions; }
    double cleanCe() const;
    double patchedCe() const;
    double deltaCe() const { return patchedCe() - cleanCe(); }
    double kl() const;

private:
    int64_t m_predictions = 0;
    double m_clean = 0, m_patched = 0, m_kl = 0;
};

// (CE_zero - CE_sae) / (CE_zero - CE_clean) (SAELens ce_loss_score).
double ceLossRecovered(double clean, double withSae, double zeroAblated);
// (KL_zero - KL_sae) / KL_zero (SAELens kl_div_score); 1 when KL_zero is 0.
double klDivScore(double klSae, double klZero);

// SAE Match's Matching Score (Balagansky et al. 2024, fig. 7): over counted tokens, the share
// of A's active features whose partner in B is active too, pooled: sum(a & b) / sum(a).
// activeA, activeB [.., P] bool (pairs in the last dimension); counted [..] bool.
double matchingScore(
    const at::Tensor &activeA, const at::Tensor &activeB, const at::Tensor &counted);

// Fraction of a vector's energy explained by its reconstruction (decomposition of steering
// vectors): FVE = 1 - ||v - v_hat||^2 / ||v||^2; 0 for a zero vector.
double fractionOfVarianceExplained(const at::Tensor &v, const at::Tensor &vHat);
// cos(a, b) over all elements; 0 when either is zero.
double cosineSimilarity(const at::Tensor &a, const at::Tensor &b);

// Density of each feature: counts / tokens (SAEBench feature density).
at::Tensor density(const at::Tensor &featureCounts, int64_t tokens);

} // namespace fscope::core::metrics
