#include "core/match/match_evaluation.h"

#include "core/metrics/metrics.h"

#include <ATen/ATen.h>

namespace fscope::core::match {
namespace {

at::Tensor permuteCode(const at::Tensor &fA, const std::vector<int64_t> &perm, int64_t widthB)
{
    std::vector<int64_t> from, to;
    for (size_t i = 0; i < perm.size(); ++i)
        if (perm[i] >= 0 && perm[i] < widthB) {
            from.push_back(int64_t(i));
            to.push_back(perm[i]);
        }
    auto sizes = fA.sizes().vec();
    sizes.back() = widthB;
    at::Tensor out = at::zeros(sizes, fA.options());
    const auto dev = fA.device();
    out.index_copy_(-1, at::tensor(to, at::kLong).to(dev),
        fA.index_select(-1, at::tensor(from, at::kLong).to(dev)));
    return out;
}

} // namespace

std::vector<SpliceScheme> standardSchemes(
    const std::vector<int64_t> &folded, const std::vector<int64_t> &unfolded, int64_t widthA)
{
    std::vector<SpliceScheme> out;
    if (!folded.empty())
        out.push_back({ "folded match", folded, SpliceScheme::Permute });
    if (!unfolded.empty())
        out.push_back({ "unfolded match", unfolded, SpliceScheme::Permute });
    std::vector<int64_t> identity(widthA);
    for (int64_t i = 0; i < widthA; ++i)
        identity[i] = i;
    out.push_back({ "unmatched", identity, SpliceScheme::Permute });
    out.push_back({ "SAE B reconstruction", {}, SpliceScheme::ReconstructB });
    out.push_back({ "skip layers", {}, SpliceScheme::SkipLayer });
    return out;
}

Result<SpliceEvaluation> evaluateSplices(const model::Decoder &decoder, const sae::Sae &a,
    const sae::Sae &b, const at::Tensor &contexts, const std::vector<SpliceScheme> &schemes,
    const std::set<int64_t> &specialTokens)
{
    if (contexts.dim() != 2 || contexts.size(1) < 3)
        return Error { "splice evaluation: contexts must be [batch, T >= 3] token ids" };
    const std::string hookA = a.config().hookName, hookB = b.config().hookName;
    if (hookA.empty() || hookB.empty())
        return Error { "splice evaluation: both SAEs need a hook name" };
    const at::Tensor ids = contexts.to(decoder.device(), at::kLong);
    // One rule for special tokens (core/metrics): excluded from every value, never spliced.
    const at::Tensor counted = metrics::countedTokens(ids, specialTokens);
    const at::Tensor predictions = metrics::countedPredictions(counted);

    model::ForwardOptions capture;
    capture.capture = { hookA, hookB };
    model::ForwardResult base;
    FS_TRY(base, decoder.forward(model::ForwardInputs(ids), capture));
    const at::Tensor xA = base.activations.at(hookA), xB = base.activations.at(hookB);
    const metrics::NextToken baseNext = metrics::nextToken(base.logits, ids);
    SpliceEvaluation out;
    // The clean CE alone (NextTokenStats would also compute a KL of the base with itself).
    const at::Tensor predicted = predictions.to(baseNext.nll.device());
    out.tokens = predicted.sum().item<int64_t>();
    out.baseCe = out.tokens
        ? baseNext.nll.masked_select(predicted).sum().item<double>() / double(out.tokens)
        : 0.0;
    out.states = counted.sum().item<int64_t>();
    const at::Tensor fA = a.encode(xA), fB = b.encode(xB);

    for (const SpliceScheme &scheme : schemes) {
        SpliceScore score;
        score.name = scheme.name;
        at::Tensor xHat;
        switch (scheme.kind) {
        case SpliceScheme::Permute: {
            if (int64_t(scheme.permutation.size()) != fA.size(-1))
                return Error { "splice evaluation: scheme '" + scheme.name + "' has "
                    + std::to_string(scheme.permutation.size()) + " entries for "
                    + std::to_string(fA.size(-1)) + " features" };
            const at::Tensor fHat = permuteCode(fA, scheme.permutation, b.config().dSae);
            xHat = b.decode(fHat);
            std::vector<int64_t> from, to;
            for (size_t i = 0; i < scheme.permutation.size(); ++i)
                if (scheme.permutation[i] >= 0) {
                    from.push_back(int64_t(i));
                    to.push_back(scheme.permutation[i]);
                }
            const auto dev = fA.device();
            const at::Tensor aAct = (fA > 0).index_select(-1, at::tensor(from, at::kLong).to(dev));
            const at::Tensor bAct = (fB > 0).index_select(-1, at::tensor(to, at::kLong).to(dev));
            score.matchingScore = metrics::matchingScore(aAct, bAct, counted);
            break;
        }
        case SpliceScheme::ReconstructB:
            xHat = b.reconstruct(xB);
            break;
        case SpliceScheme::SkipLayer:
            xHat = xA;
            break;
        }
        xHat = xHat.to(xB.scalar_type());
        metrics::ReconstructionStats recon;
        recon.add(xB, xHat, counted);
        score.explainedVariance = recon.explainedVariance();
        score.tokens = recon.tokens();

        model::ForwardOptions splice;
        const at::Tensor replacement = xHat, keep = counted.logical_not();
        splice.interventions.emplace(
            hookB, [replacement, keep](const at::Tensor &act, const model::HookContext &) {
                return at::where(
                    keep.to(act.device()).unsqueeze(-1), act, replacement.to(act.scalar_type()));
            });
        model::ForwardResult spliced;
        FS_TRY(spliced, decoder.forward(model::ForwardInputs(ids), splice));
        metrics::NextTokenStats next;
        next.add(baseNext, metrics::nextToken(spliced.logits, ids), predictions);
        score.deltaCe = next.deltaCe();
        score.kl = next.kl();
        score.predictions = next.predictions();
        out.scores.push_back(score);
    }
    return out;
}

} // namespace fscope::core::match
