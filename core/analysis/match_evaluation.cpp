#include "core/analysis/match_evaluation.h"

#include <ATen/ATen.h>

namespace fscope::core::analysis {
namespace {

// Mean next-token CE and the log-probs of positions 1..T-2 (predicting tokens 2..T-1): the
// positions whose input the splice changed.
std::pair<double, at::Tensor> scoredLogProbs(const at::Tensor &logits, const at::Tensor &ids) {
    const int64_t T = ids.size(1);
    const at::Tensor lp = at::log_softmax(logits.slice(1, 1, T - 1).to(at::kFloat), -1);
    const at::Tensor next = ids.slice(1, 2, T).to(lp.device()).unsqueeze(-1);
    const double ce = -lp.gather(-1, next).mean().item<double>();
    return {ce, lp};
}

at::Tensor permuteCode(const at::Tensor &fA, const std::vector<int64_t> &perm, int64_t widthB) {
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
    out.index_copy_(-1, at::tensor(to, at::kLong).to(dev), fA.index_select(-1, at::tensor(from, at::kLong).to(dev)));
    return out;
}

} // namespace

std::vector<SpliceScheme> standardSchemes(const std::vector<int64_t> &folded, const std::vector<int64_t> &unfolded, int64_t widthA) {
    std::vector<SpliceScheme> out;
    if (!folded.empty()) out.push_back({"folded match", folded, SpliceScheme::Permute});
    if (!unfolded.empty()) out.push_back({"unfolded match", unfolded, SpliceScheme::Permute});
    std::vector<int64_t> identity(widthA);
    for (int64_t i = 0; i < widthA; ++i) identity[i] = i;
    out.push_back({"unmatched", identity, SpliceScheme::Permute});
    out.push_back({"SAE B reconstruction", {}, SpliceScheme::ReconstructB});
    out.push_back({"skip layers", {}, SpliceScheme::SkipLayer});
    return out;
}

Result<SpliceEvaluation> evaluateSplices(const model::Decoder &decoder, const sae::Sae &a, const sae::Sae &b,
                                         const at::Tensor &contexts, const std::vector<SpliceScheme> &schemes) {
    if (contexts.dim() != 2 || contexts.size(1) < 3) return Error{"splice evaluation: contexts must be [batch, T >= 3] token ids"};
    const std::string hookA = a.config().hookName, hookB = b.config().hookName;
    if (hookA.empty() || hookB.empty()) return Error{"splice evaluation: both SAEs need a hook name"};
    const at::Tensor ids = contexts.to(decoder.device(), at::kLong);

    model::ForwardOptions capture;
    capture.capture = {hookA, hookB};
    model::ForwardResult base;
    FS_TRY(base, decoder.forward(model::ForwardInputs(ids), capture));
    const at::Tensor xA = base.activations.at(hookA), xB = base.activations.at(hookB);
    SpliceEvaluation out;
    at::Tensor baseLp;
    std::tie(out.baseCe, baseLp) = scoredLogProbs(base.logits, ids);
    out.tokens = ids.size(0) * (ids.size(1) - 2);

    const at::Tensor truth = xB.slice(1, 1).to(at::kDouble); // BOS excluded
    const at::Tensor centred = truth - truth.reshape({-1, truth.size(-1)}).mean(0);
    const double totalVariance = centred.pow(2).sum().item<double>();
    const at::Tensor fA = a.encode(xA), fB = b.encode(xB);
    const at::Tensor activeA = (fA.slice(1, 1) > 0);

    for (const SpliceScheme &scheme : schemes) {
        SpliceScore score;
        score.name = scheme.name;
        at::Tensor xHat;
        switch (scheme.kind) {
        case SpliceScheme::Permute: {
            if (int64_t(scheme.permutation.size()) != fA.size(-1))
                return Error{"splice evaluation: scheme '" + scheme.name + "' has " + std::to_string(scheme.permutation.size()) +
                             " entries for " + std::to_string(fA.size(-1)) + " features"};
            const at::Tensor fHat = permuteCode(fA, scheme.permutation, b.config().dSae);
            xHat = b.decode(fHat);
            // Matching Score: P(partner active | feature active), pooled over tokens.
            std::vector<int64_t> from, to;
            for (size_t i = 0; i < scheme.permutation.size(); ++i)
                if (scheme.permutation[i] >= 0) {
                    from.push_back(int64_t(i));
                    to.push_back(scheme.permutation[i]);
                }
            const auto dev = fA.device();
            const at::Tensor aAct = activeA.index_select(-1, at::tensor(from, at::kLong).to(dev));
            const at::Tensor bAct = (fB.slice(1, 1) > 0).index_select(-1, at::tensor(to, at::kLong).to(dev));
            const double active = aAct.sum().item<double>();
            score.matchingScore = active > 0 ? (aAct & bAct).sum().item<double>() / active : 0;
            break;
        }
        case SpliceScheme::ReconstructB: xHat = b.reconstruct(xB); break;
        case SpliceScheme::SkipLayer: xHat = xA; break;
        }
        xHat = xHat.to(xB.scalar_type());
        score.explainedVariance =
            totalVariance > 0 ? 1.0 - (xHat.slice(1, 1).to(at::kDouble) - truth).pow(2).sum().item<double>() / totalVariance : 0;

        model::ForwardOptions splice;
        const at::Tensor replacement = xHat;
        splice.interventions.emplace(hookB, [replacement](const at::Tensor &act, const model::HookContext &) {
            at::Tensor outAct = act.clone();
            outAct.slice(1, 1).copy_(replacement.slice(1, 1).to(act.scalar_type()));
            return outAct;
        });
        model::ForwardResult spliced;
        FS_TRY(spliced, decoder.forward(model::ForwardInputs(ids), splice));
        auto [ce, lp] = scoredLogProbs(spliced.logits, ids);
        score.deltaCe = ce - out.baseCe;
        score.kl = (lp.exp() * (lp - baseLp)).sum(-1).mean().item<double>();
        out.scores.push_back(score);
    }
    return out;
}

} // namespace fscope::core::analysis
