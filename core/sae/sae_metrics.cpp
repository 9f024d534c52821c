#include "core/sae/sae_metrics.h"

#include "core/metrics/metrics.h"
#include "core/model/hooks.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

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

std::vector<std::pair<std::string, model::Intervention>> replacementInterventions(
    std::shared_ptr<const Sae> sae, const at::Tensor &keep)
{
    if (!sae->config().writesElsewhere())
        return { { sae->config().hookName,
            [sae, keep](const at::Tensor &h, const model::HookContext &) {
                return keep.defined() ? spliceReconstruction(*sae, h, keep)
                                      : sae->reconstruct(h.reshape({ h.size(0), h.size(1), -1 }))
                                            .reshape(h.sizes())
                                            .to(h.scalar_type());
            } } };
    // The input hook fires first in the same forward: it leaves the activation alone and
    // keeps it for the output hook.
    auto input = std::make_shared<at::Tensor>();
    return {
        { sae->config().hookName,
            [input](const at::Tensor &h, const model::HookContext &) {
                *input = h.reshape({ h.size(0), h.size(1), -1 });
                return h;
            } },
        { sae->config().outputHook(),
            [sae, keep, input](const at::Tensor &y, const model::HookContext &) {
                const at::Tensor predicted
                    = sae->reconstruct(*input).to(y.device(), y.scalar_type());
                if (!keep.defined())
                    return predicted;
                return at::where(keep.unsqueeze(-1).to(y.device()), y, predicted);
            } },
    };
}

namespace {

// What one evaluation compares: the hooks to capture, the prediction of the written hooks
// from a clean forward (target, prediction, feature codes, each [batch, tokens, ...]), the
// interventions that splice the dictionary in where `keep` is false, and the hooks zeroed for
// the baseline.
struct EvalPlan {
    std::string label;
    std::set<std::string> capture;
    std::function<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
        const model::ForwardResult &, int64_t batch, int64_t length)>
        predict;
    std::function<std::vector<std::pair<std::string, model::Intervention>>(const at::Tensor &)>
        splice;
    std::vector<std::string> zeroed;
    int64_t features = 0;
};

Result<SaeMetrics> runEvaluation(const model::Decoder &decoder, const EvalPlan &plan,
    const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
    jobs::Progress *progress)
{
    if (contexts.empty())
        return Error { "no contexts to evaluate on" };
    const size_t length = contexts[0].size();
    for (const auto &c : contexts)
        if (c.size() != length || length < 2)
            return Error { "evaluation contexts must share one length of at least 2 tokens" };
    metrics::ReconstructionStats recon;
    metrics::NextTokenStats withSae, withZero;
    const int64_t n = static_cast<int64_t>(contexts.size());
    if (progress)
        progress->begin(n, "Evaluating " + plan.label);

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
            clean.capture = plan.capture;
            clean.computeLogits = options.computeCe;
            auto base = decoder.forward({ ids }, clean);
            if (!base)
                return base.error();
            const auto [want, predicted, codes]
                = plan.predict(*base, b, static_cast<int64_t>(length));
            recon.add(want, predicted, counted, codes);

            if (options.computeCe) {
                model::ForwardOptions spliced, zeroed;
                for (auto &[name, edit] : plan.splice(keep))
                    spliced.interventions.emplace(name, std::move(edit));
                for (const auto &hook : plan.zeroed)
                    zeroed.interventions.emplace(
                        hook, [](const at::Tensor &h, const model::HookContext &) {
                            return at::zeros_like(h); // at every position, as SAELens
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
                                                      : at::zeros({ plan.features }, at::kLong);
    if (m.tokens == 0)
        return Error { "every token was special: nothing to evaluate" };
    const at::Tensor density = metrics::density(m.featureCounts, m.tokens);
    m.values = {
        { "l0", recon.l0(), "mean over tokens of the number of features != 0" },
        { "mse", recon.mse(),
            "mean over tokens of ||x - x_hat||^2 (summed over d_in; for a transcoder x is its "
            "output hook, for a CLT every output hook)" },
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
        m.values.push_back({ "ce_with_sae", sae,
            "the same with the SAE reconstruction (a transcoder's prediction) spliced in at "
            "the hook it writes" });
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

// A crosscoder reads and writes all its hooks: EV and MSE pool them (x is the hooks'
// activations concatenated). Its features need every hook, so the forward cannot edit an
// earlier hook with them; the spliced run replaces the deepest hook with its reconstruction
// from the clean earlier hooks (for residual-stream hooks that is the whole replacement, as
// later layers read only the deepest residual), and the zero baseline zeroes that hook.
Result<SaeMetrics> evaluateCrosscoder(const model::Decoder &decoder, const Sae &sae,
    const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
    jobs::Progress *progress)
{
    const auto shared = std::make_shared<const Sae>(sae);
    const std::vector<std::string> hooks = sae.config().inputHooks();
    std::vector<int64_t> layers;
    for (const std::string &hook : hooks) {
        const auto parsed = model::parseHookName(hook);
        layers.push_back(parsed ? parsed->layer : -1);
    }
    const size_t deepest
        = static_cast<size_t>(std::max_element(layers.begin(), layers.end()) - layers.begin());
    for (size_t i = 0; i < hooks.size(); ++i)
        if (i != deepest && layers[i] == layers[deepest])
            return Error { sae.config().sourcePath + ": " + hooks[deepest] + " and " + hooks[i]
                + " share the deepest layer, so no single hook can take the reconstruction" };
    EvalPlan plan;
    plan.label = "crosscoder on " + std::to_string(hooks.size()) + " hooks (spliced at "
        + hooks[deepest] + ")";
    plan.capture = std::set<std::string>(hooks.begin(), hooks.end());
    plan.features = sae.config().dSae;
    plan.zeroed = { hooks[deepest] };
    plan.predict = [shared](const model::ForwardResult &r, int64_t batch, int64_t length) {
        const at::Tensor x = dictionaryInput(shared->config(), r.activations)
                                 .value()
                                 .reshape({ batch, length, -1 });
        InputState state;
        const at::Tensor f = shared->encode(x, &state);
        return std::tuple { x, shared->decode(f, state), f };
    };
    plan.splice = [shared, hooks, deepest](const at::Tensor &keep) {
        auto seen = std::make_shared<std::map<std::string, at::Tensor>>();
        std::vector<std::pair<std::string, model::Intervention>> out;
        for (size_t i = 0; i < hooks.size(); ++i) {
            const std::string hook = hooks[i];
            if (i != deepest) {
                out.emplace_back(
                    hook, [seen, hook](const at::Tensor &h, const model::HookContext &) {
                        (*seen)[hook] = h.reshape({ h.size(0), h.size(1), -1 });
                        return h;
                    });
                continue;
            }
            out.emplace_back(hook,
                [shared, seen, hook, i, keep](const at::Tensor &h, const model::HookContext &) {
                    (*seen)[hook] = h.reshape({ h.size(0), h.size(1), -1 });
                    const at::Tensor x = dictionaryInput(shared->config(), *seen).value();
                    const int64_t d = shared->config().hookWidth();
                    const at::Tensor rebuilt = shared->reconstruct(x)
                                                   .narrow(-1, static_cast<int64_t>(i) * d, d)
                                                   .to(h.device(), h.scalar_type());
                    return at::where(
                        keep.unsqueeze(-1).to(h.device()), h.reshape(rebuilt.sizes()), rebuilt)
                        .reshape(h.sizes());
                });
        }
        return out;
    };
    return runEvaluation(decoder, plan, contexts, options, progress);
}

} // namespace

Result<SaeMetrics> evaluateSae(const model::Decoder &decoder, const Sae &sae,
    const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
    jobs::Progress *progress)
{
    if (sae.config().readsSeveralHooks())
        return evaluateCrosscoder(decoder, sae, contexts, options, progress);
    // A transcoder is measured where it writes: its prediction of the output hook against the
    // model's own activation there (its error term lives at the output hook).
    if (sae.config().outputHooks().size() > 1)
        return Error { sae.config().sourcePath
            + ": one layer of a cross-layer transcoder writes into "
            + std::to_string(sae.config().outputHooks().size())
            + " layers together with the other layers' features; evaluate it as part of the "
              "whole CLT" };
    const auto shared = std::make_shared<const Sae>(sae);
    const std::string hook = sae.config().hookName, target = sae.config().outputHook();
    EvalPlan plan;
    plan.label = "SAE on " + hook;
    plan.capture = { hook, target };
    plan.features = sae.config().dSae;
    plan.zeroed = { target };
    plan.predict
        = [shared, hook, target](const model::ForwardResult &r, int64_t batch, int64_t length) {
              const at::Tensor act = r.activations.at(hook).reshape({ batch, length, -1 });
              const at::Tensor want = r.activations.at(target).reshape({ batch, length, -1 });
              InputState state;
              const at::Tensor f = shared->encode(act, &state);
              at::Tensor xhat = shared->decode(f, state);
              if (const at::Tensor s = shared->skip(act); s.defined())
                  xhat = xhat + s;
              return std::tuple { want, xhat, f };
          };
    plan.splice
        = [shared](const at::Tensor &keep) { return replacementInterventions(shared, keep); };
    return runEvaluation(decoder, plan, contexts, options, progress);
}

Result<SaeMetrics> evaluateCrossLayer(const model::Decoder &decoder,
    const std::vector<std::shared_ptr<const Sae>> &layers,
    const std::vector<std::vector<int64_t>> &contexts, const EvalOptions &options,
    jobs::Progress *progress)
{
    const size_t n = layers.size();
    if (n == 0)
        return Error { "a cross-layer transcoder needs at least one layer" };
    // Layer l writes layers l..n-1, block j into layer l + j's output hook.
    for (size_t l = 0; l < n; ++l) {
        const auto outs = layers[l]->config().outputHooks();
        if (outs.size() != n - l)
            return Error { layers[l]->config().sourcePath + ": writes "
                + std::to_string(outs.size()) + " layers, but a CLT of " + std::to_string(n)
                + " layers needs " + std::to_string(n - l) + " from layer " + std::to_string(l) };
        for (size_t j = 0; j < outs.size(); ++j)
            if (outs[j] != layers[l + j]->config().outputHook())
                return Error { layers[l]->config().sourcePath + ": block " + std::to_string(j)
                    + " writes " + outs[j] + ", not " + layers[l + j]->config().outputHook() };
    }
    EvalPlan plan;
    plan.label = "CLT of " + std::to_string(n) + " layers";
    for (const auto &layer : layers) {
        plan.capture.insert(layer->config().hookName);
        plan.capture.insert(layer->config().outputHook());
        plan.zeroed.push_back(layer->config().outputHook());
        plan.features += layer->config().dSae;
    }
    // target_t = sum over l <= t of f_l W_dec_l[:, t - l] + b_dec_t (+ its skip).
    auto predictTarget
        = [layers](const std::vector<at::Tensor> &f, const at::Tensor &input, size_t t) {
              at::Tensor y = layers[t]->weights().b_dec.to(f[t].scalar_type());
              for (size_t l = 0; l <= t; ++l)
                  y = y + at::matmul(f[l], layers[l]->decoderBlock(static_cast<int64_t>(t - l)));
              if (const at::Tensor s = layers[t]->skip(input); s.defined())
                  y = y + s;
              return y;
          };
    plan.predict = [layers, predictTarget](
                       const model::ForwardResult &r, int64_t batch, int64_t length) {
        std::vector<at::Tensor> inputs, f, want, predicted;
        for (const auto &layer : layers) {
            inputs.push_back(
                r.activations.at(layer->config().hookName).reshape({ batch, length, -1 }));
            f.push_back(layer->encode(inputs.back()));
            want.push_back(
                r.activations.at(layer->config().outputHook()).reshape({ batch, length, -1 }));
        }
        for (size_t t = 0; t < layers.size(); ++t)
            predicted.push_back(predictTarget(f, inputs[t], t));
        // Every layer's hook side by side: EV and MSE pool the layers, L0 counts every
        // layer's features.
        return std::tuple { at::cat(want, -1), at::cat(predicted, -1), at::cat(f, -1) };
    };
    // The replacement model: each layer's features are read from the spliced forward itself
    // (its input hook fires before its output hook), and each output hook gets the sum of
    // every earlier layer's writes.
    plan.splice = [layers, predictTarget](const at::Tensor &keep) {
        auto f = std::make_shared<std::vector<at::Tensor>>(layers.size());
        auto inputs = std::make_shared<std::vector<at::Tensor>>(layers.size());
        std::vector<std::pair<std::string, model::Intervention>> out;
        for (size_t l = 0; l < layers.size(); ++l) {
            const auto layer = layers[l];
            out.emplace_back(layer->config().hookName,
                [layer, f, inputs, l](const at::Tensor &h, const model::HookContext &) {
                    (*inputs)[l] = h.reshape({ h.size(0), h.size(1), -1 });
                    (*f)[l] = layer->encode((*inputs)[l]);
                    return h;
                });
            out.emplace_back(layer->config().outputHook(),
                [predictTarget, f, inputs, l, keep](
                    const at::Tensor &y, const model::HookContext &) {
                    const at::Tensor p
                        = predictTarget(*f, (*inputs)[l], l).to(y.device(), y.scalar_type());
                    return at::where(keep.unsqueeze(-1).to(y.device()), y, p);
                });
        }
        return out;
    };
    return runEvaluation(decoder, plan, contexts, options, progress);
}

} // namespace fscope::core::sae
