#include "core/metrics/metrics.h"

namespace fscope::core::metrics {

at::Tensor countedTokens(const at::Tensor &ids, const std::set<int64_t> &specialTokens)
{
    at::Tensor special = at::zeros_like(ids, at::kBool);
    for (int64_t t : specialTokens)
        special = special.logical_or(ids == t);
    return special.logical_not();
}

at::Tensor countedPredictions(const at::Tensor &countedTokens)
{
    return countedTokens.narrow(-1, 0, countedTokens.size(-1) - 1);
}

void ReconstructionStats::add(
    const at::Tensor &x, const at::Tensor &xHat, const at::Tensor &counted, const at::Tensor &code)
{
    const at::Tensor mask = counted.to(x.device(), at::kBool);
    const at::Tensor xm = x.index({ mask }).to(at::kDouble);
    const at::Tensor xh = xHat.to(x.device()).index({ mask }).to(at::kDouble);
    if (!m_sum.defined())
        m_sum = at::zeros({ x.size(-1) }, xm.options());
    m_tokens += xm.size(0);
    m_squaredError += (xm - xh).pow(2).sum().item<double>();
    m_squaredNorm += xm.pow(2).sum().item<double>();
    m_sum += xm.sum(0);
    m_cosine += at::cosine_similarity(xm, xh, -1, 1e-12).sum().item<double>();
    if (code.defined()) {
        const at::Tensor active = code.index({ counted.to(code.device(), at::kBool) }) != 0;
        m_l0 += active.sum().item<double>();
        const at::Tensor counts = active.sum(0).to(at::kCPU, at::kLong);
        m_counts = m_counts.defined() ? m_counts + counts : counts;
    }
}

double ReconstructionStats::l0() const
{
    return m_tokens ? m_l0 / double(m_tokens) : 0.0;
}

double ReconstructionStats::mse() const
{
    return m_tokens ? m_squaredError / double(m_tokens) : 0.0;
}

double ReconstructionStats::explainedVariance() const
{
    if (!m_tokens)
        return 0.0;
    const double t = double(m_tokens);
    const double variance = m_squaredNorm / t - (m_sum / t).pow(2).sum().item<double>();
    const double error = mse();
    if (variance < 1e-10)
        return error < 1e-10 ? 1.0 : 0.0;
    return 1.0 - error / variance;
}

double ReconstructionStats::cosine() const
{
    return m_tokens ? m_cosine / double(m_tokens) : 0.0;
}

NextToken nextToken(const at::Tensor &logits, const at::Tensor &ids)
{
    const int64_t T = logits.size(1);
    const at::Tensor logp = at::log_softmax(logits.narrow(1, 0, T - 1).to(at::kDouble), -1);
    const at::Tensor target = ids.narrow(1, 1, T - 1).unsqueeze(-1).to(logits.device(), at::kLong);
    return { -logp.gather(-1, target).squeeze(-1), logp };
}

at::Tensor klDivergence(const at::Tensor &logP, const at::Tensor &logQ)
{
    return (logP.exp() * (logP - logQ)).sum(-1).clamp_min(0);
}

void NextTokenStats::add(
    const NextToken &clean, const NextToken &patched, const at::Tensor &countedPredictions)
{
    const at::Tensor mask = countedPredictions.to(clean.nll.device(), at::kBool);
    m_predictions += mask.sum().item<int64_t>();
    m_clean += clean.nll.masked_select(mask).sum().item<double>();
    m_patched += patched.nll.masked_select(mask).sum().item<double>();
    m_kl += klDivergence(clean.logProbs, patched.logProbs).masked_select(mask).sum().item<double>();
}

double NextTokenStats::cleanCe() const
{
    return m_predictions ? m_clean / double(m_predictions) : 0.0;
}

double NextTokenStats::patchedCe() const
{
    return m_predictions ? m_patched / double(m_predictions) : 0.0;
}

double NextTokenStats::kl() const
{
    return m_predictions ? m_kl / double(m_predictions) : 0.0;
}

double ceLossRecovered(double clean, double withSae, double zeroAblated)
{
    const double span = zeroAblated - clean;
    return span != 0 ? (zeroAblated - withSae) / span : 0.0;
}

double klDivScore(double klSae, double klZero)
{
    return klZero > 0 ? (klZero - klSae) / klZero : 1.0;
}

double matchingScore(
    const at::Tensor &activeA, const at::Tensor &activeB, const at::Tensor &counted)
{
    const at::Tensor mask = counted.to(activeA.device(), at::kBool);
    const at::Tensor a = activeA.index({ mask }), b = activeB.to(activeA.device()).index({ mask });
    const double active = a.sum().item<double>();
    return active > 0 ? (a & b).sum().item<double>() / active : 0.0;
}

double fractionOfVarianceExplained(const at::Tensor &v, const at::Tensor &vHat)
{
    const at::Tensor a = v.to(at::kDouble), b = vHat.to(a.device(), at::kDouble);
    const double energy = a.pow(2).sum().item<double>();
    return energy > 0 ? 1.0 - (a - b).pow(2).sum().item<double>() / energy : 0.0;
}

double cosineSimilarity(const at::Tensor &a, const at::Tensor &b)
{
    const at::Tensor x = a.to(at::kDouble), y = b.to(x.device(), at::kDouble);
    const double na = x.norm().item<double>(), nb = y.norm().item<double>();
    return na > 0 && nb > 0 ? (x * y).sum().item<double>() / (na * nb) : 0.0;
}

at::Tensor density(const at::Tensor &featureCounts, int64_t tokens)
{
    return featureCounts.to(at::kDouble) / double(std::max<int64_t>(tokens, 1));
}

} // namespace fscope::core::metrics
