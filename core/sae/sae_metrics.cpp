#include "core/sae/sae_metrics.h"

#include "core/metrics/metrics.h"

namespace fscope::core::sae {

double SaeMetrics::value(const std::string &name) const
{
    for (const auto &v : values)
        if (v.name == name)
            return v.value;
    return std::nan("");
}

at::Tensor spliceReconstruction(
    const Sae &sae, const at::Tensor &activation, const at::Tensor &keep)
{
    const auto shape = activation.sizes().vec();
    const at::Tensor flat = activation.reshape({ shape[0], shape[1], -1 });
    const at::Tensor rebuilt = sae.reconstruct(flat).to(activation.scalar_type());
    return at::where(keep.unsqueeze(-1), flat, rebuilt).reshape(shape);
}

Result<SaeMetrics> evaluateSae(const model::Decoder &decoder, const Sae &sae,
    const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
    jobs::Progress *progress)
{
    if (contexts.empty())
        return Error { "no contexts to evaluate on" };
    const size_t length = contexts[0].size();
    for (const auto &c : contexts)
        if (c.size() != length || length < 2)
            return Error { "evaluation contexts must share one length of at least 2 tokens" };
    const std::string hook = sae.config().hookName;
    metrics::ReconstructionStats recon;
    metrics::NextTokenStats withSae, withZero;
    const int64_t n = static_cast<int64_t>(contexts.size());
    if (progress)
        progress->begin(n, "Evaluating SAE on " + hook);

    try {
        for (int64_t start = 0; start < n; start += options.batchSize) {
            if (progress && progress->cancelled())
                return Error { "evaluation cancelled" };
            const int64_t b = std::min(options.batchSize, n - start);
            at::Tensor ids = at::empty({ b, static_cast<int64_t>(length) }, at::kLong);
            for (int64_t i = 0; i < b; ++i)
                ids[i] = at::tensor(contexts[start + i]);
            const at::Tensor counted = metrics::countedTokens(ids, options.specialTokens);
            const at::Tensor keep = counted.logical_not().to(decoder.device());

            model::ForwardOptions clean;
            clean.capture = { hook };
            clean.computeLogits = options.computeCe;
            auto base = decoder.forward({ ids }, clean);
            if (!base)
                return base.error();
            const at::Tensor act
                = base->activations.at(hook).reshape({ b, static_cast<int64_t>(length), -1 });
            InputState state;
            const at::Tensor f = sae.encode(act, &state);
            const at::Tensor xhat = sae.decode(f, state);
            recon.add(act, xhat, counted, f);

            if (options.computeCe) {
                model::ForwardOptions spliced, zeroed;
                spliced.interventions.emplace(
                    hook, [&](const at::Tensor &h, const model::HookContext &) {
                        return spliceReconstruction(sae, h, keep);
                    });
                zeroed.interventions.emplace(
                    hook, [](const at::Tensor &h, const model::HookContext &) {
                        return at::zeros_like(h); // zero ablation at every position, as SAELens
                    });
                auto withSaeRun = decoder.forward({ ids }, spliced);
                auto withZeroRun = decoder.forward({ ids }, zeroed);
                if (!withSaeRun)
                    return withSaeRun.error();
                if (!withZeroRun)
                    return withZeroRun.error();
                const metrics::NextToken cleanNext = metrics::nextToken(base->logits, ids);
                const at::Tensor predictions = metrics::countedPredictions(counted);
                withSae.add(cleanNext, metrics::nextToken(withSaeRun->logits, ids), predictions);
                withZero.add(cleanNext, metrics::nextToken(withZeroRun->logits, ids), predictions);
            }
            if (progress)
                progress->advance(b);
        }
    } catch (const c10::Error &e) {
        return Error { std::string("evaluation failed: ") + e.what_without_backtrace() };
    }

    SaeMetrics m;
    m.tokens = recon.tokens();
    m.featureCounts = recon.featureCounts().defined() ? recon.featureCounts()
                                                      : at::zeros({ sae.config().dSae }, at::kLong);
    if (m.tokens == 0)
        return Error { "every token was special: nothing to evaluate" };
    const at::Tensor density = metrics::density(m.featureCounts, m.tokens);
    m.values = {
        { "l0", recon.l0(), "mean over tokens of the number of features != 0" },
        { "mse", recon.mse(), "mean over tokens of ||x - x_hat||^2 (summed over d_in)" },
        { "explained_variance", recon.explainedVariance(),
            "1 - E||x - x_hat||^2 / (E||x||^2 - ||E x||^2), float64" },
        { "cosine", recon.cosine(), "mean over tokens of cos(x, x_hat)" },
        { "dead_fraction", (m.featureCounts == 0).to(at::kDouble).mean().item<double>(),
            "features never != 0 on these tokens" },
        { "dense_1pct_fraction", (density > 0.01).to(at::kDouble).mean().item<double>(),
            "features with density > 1%" },
        { "dense_10pct_fraction", (density > 0.1).to(at::kDouble).mean().item<double>(),
            "features with density > 10%" },
    };
    if (options.computeCe && withSae.predictions() > 0) {
        const double clean = withSae.cleanCe(), sae = withSae.patchedCe(),
                     zero = withZero.patchedCe();
        m.values.push_back(
            { "ce_clean", clean, "mean next-token cross-entropy of the model (nats)" });
        m.values.push_back(
            { "ce_with_sae", sae, "the same with the SAE reconstruction spliced in at the hook" });
        m.values.push_back(
            { "ce_zero_ablation", zero, "the same with the hook activation set to zero" });
        m.values.push_back({ "ce_loss_recovered", metrics::ceLossRecovered(clean, sae, zero),
            "(CE_zero - CE_sae) / (CE_zero - CE_clean)" });
        m.values.push_back(
            { "kl_with_sae", withSae.kl(), "mean KL(P_clean || P_sae) per token (nats)" });
        m.values.push_back({ "kl_div_score", metrics::klDivScore(withSae.kl(), withZero.kl()),
            "(KL_zero - KL_sae) / KL_zero" });
    }
    return m;
}

} // namespace fscope::core::sae
