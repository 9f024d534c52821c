#include "core/sae/sae_metrics.h"

namespace fscope::core::sae {

double SaeMetrics::value(const std::string &name) const
{
    for (const auto &v : values)
        if (v.name == name)
            return v.value;
    return std::nan("");
}

at::Tensor spliceReconstruction(const Sae &sae, const at::Tensor &activation, const at::Tensor &keep)
{
    const auto shape = activation.sizes().vec();
    const at::Tensor flat = activation.reshape({shape[0], shape[1], -1});
    const at::Tensor rebuilt = sae.reconstruct(flat).to(activation.scalar_type());
    return at::where(keep.unsqueeze(-1), flat, rebuilt).reshape(shape);
}

namespace {

struct Accumulator {
    double tokens = 0, l0 = 0, squaredError = 0, squaredNorm = 0, cosine = 0;
    at::Tensor sum;    // [d_in] float64
    at::Tensor counts; // [d_sae] int64
    double ceClean = 0, ceSae = 0, ceZero = 0, ceTokens = 0, klSae = 0, klZero = 0;
};

// Next-token NLL per position [B, T-1] and log-probs [B, T-1, V].
std::pair<at::Tensor, at::Tensor> nll(const at::Tensor &logits, const at::Tensor &ids)
{
    const at::Tensor logp = at::log_softmax(logits.narrow(1, 0, logits.size(1) - 1).to(at::kDouble), -1);
    const at::Tensor target = ids.narrow(1, 1, ids.size(1) - 1).unsqueeze(-1).to(logits.device());
    return {-logp.gather(-1, target).squeeze(-1), logp};
}

} // namespace

Result<SaeMetrics> evaluateSae(const model::Decoder &decoder, const Sae &sae,
                               const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
                               jobs::Progress *progress)
{
    if (contexts.empty())
        return Error{"no contexts to evaluate on"};
    const size_t length = contexts[0].size();
    for (const auto &c : contexts)
        if (c.size() != length || length < 2)
            return Error{"evaluation contexts must share one length of at least 2 tokens"};
    const std::string hook = sae.config().hookName;
    Accumulator acc;
    acc.sum = at::zeros({sae.config().dIn}, at::kDouble);
    acc.counts = at::zeros({sae.config().dSae}, at::kLong);
    const int64_t n = static_cast<int64_t>(contexts.size());
    if (progress)
        progress->begin(n, "Evaluating SAE on " + hook);

    try {
        for (int64_t start = 0; start < n; start += options.batchSize) {
            if (progress && progress->cancelled())
                return Error{"evaluation cancelled"};
            const int64_t b = std::min(options.batchSize, n - start);
            at::Tensor ids = at::empty({b, static_cast<int64_t>(length)}, at::kLong);
            for (int64_t i = 0; i < b; ++i)
                ids[i] = at::tensor(contexts[start + i]);
            at::Tensor special = at::zeros_like(ids, at::kBool);
            for (int64_t t : options.specialTokens)
                special = special.logical_or(ids == t);
            const at::Tensor keep = special.to(decoder.device());

            model::ForwardOptions clean;
            clean.capture = {hook};
            clean.computeLogits = options.computeCe;
            auto base = decoder.forward({ids}, clean);
            if (!base)
                return base.error();
            const at::Tensor act = base->activations.at(hook);
            const at::Tensor x = act.reshape({b, static_cast<int64_t>(length), -1}).to(at::kDouble).cpu();
            InputState state;
            const at::Tensor f = sae.encode(act.reshape({b, static_cast<int64_t>(length), -1}), &state);
            const at::Tensor xhat = sae.decode(f, state).to(at::kDouble).cpu();
            const at::Tensor mask = special.logical_not();
            const at::Tensor xm = x.index({mask}), xh = xhat.index({mask});
            const at::Tensor fm = f.cpu().index({mask});
            acc.tokens += xm.size(0);
            acc.l0 += (fm != 0).sum().item<double>();
            acc.squaredError += (xm - xh).pow(2).sum().item<double>();
            acc.squaredNorm += xm.pow(2).sum().item<double>();
            acc.sum += xm.sum(0);
            acc.cosine += at::cosine_similarity(xm, xh, -1, 1e-12).sum().item<double>();
            acc.counts += (fm != 0).sum(0).to(at::kLong);

            if (options.computeCe) {
                model::ForwardOptions spliced, zeroed;
                spliced.interventions.emplace(hook, [&](const at::Tensor &h, const model::HookContext &) {
                    return spliceReconstruction(sae, h, keep);
                });
                zeroed.interventions.emplace(hook, [](const at::Tensor &h, const model::HookContext &) {
                    return at::zeros_like(h); // zero ablation at every position, as SAELens
                });
                auto withSae = decoder.forward({ids}, spliced);
                auto withZero = decoder.forward({ids}, zeroed);
                if (!withSae)
                    return withSae.error();
                if (!withZero)
                    return withZero.error();
                const auto [nllClean, logpClean] = nll(base->logits, ids);
                const auto [nllSae, logpSae] = nll(withSae->logits, ids);
                const auto [nllZero, logpZero] = nll(withZero->logits, ids);
                // CE at position t predicts token t + 1; drop positions whose input is special.
                const at::Tensor ceMask = mask.narrow(1, 0, static_cast<int64_t>(length) - 1).to(nllClean.device());
                acc.ceTokens += ceMask.sum().item<double>();
                acc.ceClean += nllClean.masked_select(ceMask).sum().item<double>();
                acc.ceSae += nllSae.masked_select(ceMask).sum().item<double>();
                acc.ceZero += nllZero.masked_select(ceMask).sum().item<double>();
                const at::Tensor pClean = logpClean.exp();
                auto kl = [&](const at::Tensor &logp) {
                    return (pClean * (logpClean - logp)).sum(-1).masked_select(ceMask).sum().item<double>();
                };
                acc.klSae += kl(logpSae);
                acc.klZero += kl(logpZero);
            }
            if (progress)
                progress->advance(b);
        }
    } catch (const c10::Error &e) {
        return Error{std::string("evaluation failed: ") + e.what_without_backtrace()};
    }

    SaeMetrics m;
    m.tokens = static_cast<int64_t>(acc.tokens);
    m.featureCounts = acc.counts;
    if (acc.tokens == 0)
        return Error{"every token was special: nothing to evaluate"};
    const double t = acc.tokens;
    const double meanSquared = acc.squaredNorm / t;
    const double meanNormSquared = (acc.sum / t).pow(2).sum().item<double>();
    const double variance = meanSquared - meanNormSquared;
    const double mse = acc.squaredError / t;
    const double ev = variance < 1e-10 ? (mse < 1e-10 ? 1.0 : 0.0) : 1.0 - mse / variance;
    const at::Tensor density = acc.counts.to(at::kDouble) / t;
    m.values = {
        {"l0", acc.l0 / t, "mean over tokens of the number of features != 0"},
        {"mse", mse, "mean over tokens of ||x - x_hat||^2 (summed over d_in)"},
        {"explained_variance", ev, "1 - E||x - x_hat||^2 / (E||x||^2 - ||E x||^2), float64"},
        {"cosine", acc.cosine / t, "mean over tokens of cos(x, x_hat)"},
        {"dead_fraction", (acc.counts == 0).to(at::kDouble).mean().item<double>(), "features never != 0 on these tokens"},
        {"dense_1pct_fraction", (density > 0.01).to(at::kDouble).mean().item<double>(), "features with density > 1%"},
        {"dense_10pct_fraction", (density > 0.1).to(at::kDouble).mean().item<double>(), "features with density > 10%"},
    };
    if (options.computeCe && acc.ceTokens > 0) {
        const double clean = acc.ceClean / acc.ceTokens, withSae = acc.ceSae / acc.ceTokens,
                     zero = acc.ceZero / acc.ceTokens;
        const double klSae = acc.klSae / acc.ceTokens, klZero = acc.klZero / acc.ceTokens;
        m.values.push_back({"ce_clean", clean, "mean next-token cross-entropy of the model (nats)"});
        m.values.push_back({"ce_with_sae", withSae, "the same with the SAE reconstruction spliced in at the hook"});
        m.values.push_back({"ce_zero_ablation", zero, "the same with the hook activation set to zero"});
        m.values.push_back({"ce_loss_recovered", (zero - withSae) / (zero - clean),
                            "(CE_zero - CE_sae) / (CE_zero - CE_clean)"});
        m.values.push_back({"kl_with_sae", klSae, "mean KL(P_clean || P_sae) per token (nats)"});
        m.values.push_back({"kl_div_score", klZero > 0 ? (klZero - klSae) / klZero : 1.0, "(KL_zero - KL_sae) / KL_zero"});
    }
    return m;
}

} // namespace fscope::core::sae
