// featurescope-cli bench itda: ITDA's build time against SAE training to the same explained
// variance on the same activations (the ITDA paper's claim: about 1% of an SAE's time).
// Activations are synthetic by default (sparse combinations of a hidden set of directions,
// the usual dictionary-learning benchmark) or a model's (--model, --text, --hook).

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/corpus/corpus.h"
#include "core/model/model_locator.h"
#include "core/sae/itda.h"
#include "core/sae/model_activations.h"
#include "core/sae/sae_trainer.h"
#include "core/tokenize/tokenizer.h"

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdio>

namespace fscope::cli {

namespace {

// Textbook explained variance, float64: 1 - sum ||x - x_hat||^2 / sum ||x - mean||^2.
double explainedVariance(const at::Tensor &x, const at::Tensor &xhat)
{
    const at::Tensor a = x.to(at::kDouble), b = xhat.to(at::kDouble);
    const double residual = (a - b).pow(2).sum().item<double>();
    const double total = (a - a.mean(0, true)).pow(2).sum().item<double>();
    return 1 - residual / total;
}

double since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int benchItda(const Args &args)
{
    const Options o(args,
        { "d", "directions", "active", "size", "k", "threshold", "tokens", "model", "text", "hook",
            "context", "max-steps", "batch" },
        {});
    if (!o.ok())
        return fail(o.error());
    at::NoGradGuard noGrad;
    const int64_t size = o.integer("size", 1024), k = o.integer("k", 16);
    const int64_t tokens = o.integer("tokens", 200000);
    core::sae::ActivationSource source;
    int64_t d = o.integer("d", 128);
    std::unique_ptr<core::model::Decoder> decoder;
    std::vector<std::vector<int64_t>> contexts;
    if (o.has("model")) {
        if (!o.has("text") || !o.has("hook"))
            return fail("bench itda --model also needs --text and --hook");
        auto path = core::model::resolveModelPath(o.value("model"));
        if (!path)
            return fail(path.errorMessage());
        auto dec = core::model::Decoder::load(*path, { "auto", "f32" });
        if (!dec)
            return fail(dec.errorMessage());
        decoder = std::move(dec).value();
        auto tokenizer = core::tokenize::loadTokenizer(*path);
        if (!tokenizer)
            return fail(tokenizer.errorMessage());
        auto ids = textContexts(o, *path, **tokenizer, std::to_string(tokens));
        if (!ids)
            return fail(ids.errorMessage());
        const at::Tensor rows = ids->contiguous();
        for (int64_t i = 0; i < rows.size(0); ++i)
            contexts.emplace_back(
                rows[i].data_ptr<int64_t>(), rows[i].data_ptr<int64_t>() + rows.size(1));
        core::sae::ActivationStreamOptions so;
        so.hookName = o.value("hook");
        so.specialTokens = core::corpus::specialTokens(**tokenizer);
        source = core::sae::activationsFromModel(*decoder, contexts, so);
        d = decoder->config().hidden;
    } else {
        // Each token: `active` of `directions` hidden unit directions with positive weights,
        // plus a little noise.
        const int64_t m = o.integer("directions", 4 * d), active = o.integer("active", 4);
        at::manual_seed(1);
        at::Tensor truth = at::randn({ m, d });
        truth = truth / truth.norm(2, 1, true);
        source = [truth, m, active, d](int64_t batch) {
            const at::Tensor idx = at::randint(m, { batch, active }, at::kLong);
            const at::Tensor w = at::rand({ batch, active, 1 }) + 0.5;
            return (truth.index_select(0, idx.flatten()).view({ batch, active, d }) * w).sum(1)
                + at::randn({ batch, d }) * 0.01;
        };
    }
    const at::Tensor heldOut = source(4096);
    if (!heldOut.defined())
        return fail("no activations");

    // ITDA on a stream of `tokens` activations.
    int64_t seen = 0;
    const auto t0 = std::chrono::steady_clock::now();
    core::sae::ItdaOptions io;
    io.size = size;
    io.k = k;
    io.lossThreshold = o.number("threshold", 0.1);
    auto next = [&]() -> core::Result<core::sae::ItdaBatch> {
        core::sae::ItdaBatch b;
        if (seen >= tokens)
            return b;
        b.activations = source(io.batchTokens);
        if (!b.activations.defined())
            return b;
        for (int64_t i = 0; i < b.activations.size(0); ++i)
            b.origins.push_back({ (seen + i) / 128, (seen + i) % 128, 0 });
        seen += b.activations.size(0);
        return b;
    };
    auto itda = core::sae::buildItda(next, io);
    if (!itda)
        return fail(itda.errorMessage());
    const double itdaSeconds = since(t0);
    const at::Tensor unit = heldOut / heldOut.norm(2, 1, true).clamp_min(1e-12);
    // Matching pursuit is scale-equivariant: encode the unit rows, rescale.
    const at::Tensor itdaHat
        = at::matmul(core::sae::matchingPursuit(unit, itda->atoms, k), itda->atoms)
        * heldOut.norm(2, 1, true);
    const double itdaEv = explainedVariance(heldOut, itdaHat);
    std::printf("bench itda: d %lld, %lld atoms, k %lld, %lld tokens seen\n",
        static_cast<long long>(d), static_cast<long long>(itda->atoms.size(0)),
        static_cast<long long>(k), static_cast<long long>(itda->tokensSeen));
    std::printf("  itda build            %8.2f s   EV %.4f\n", itdaSeconds, itdaEv);

    // TopK SAEs of the same width and k, with doubling step budgets, until one matches ITDA's
    // EV on the same held-out activations: the time of that run is the SAE's time.
    const int64_t maxSteps = o.integer("max-steps", 16000);
    double saeSeconds = 0, saeEv = 0;
    int64_t steps = 250;
    for (; steps <= maxSteps; steps *= 2) {
        core::sae::TrainOptions t;
        t.architecture = core::sae::Architecture::TopK;
        t.dSae = itda->atoms.size(0);
        t.k = k;
        t.steps = steps;
        t.batchSize = o.integer("batch", 256);
        const auto t1 = std::chrono::steady_clock::now();
        at::AutoGradMode grad(true);
        auto sae = core::sae::trainSae(source, d, t);
        saeSeconds = since(t1);
        if (!sae)
            return fail(sae.errorMessage());
        at::NoGradGuard off;
        saeEv = explainedVariance(heldOut, sae->reconstruct(heldOut));
        std::printf("  sae train %6lld steps %8.2f s   EV %.4f\n", static_cast<long long>(steps),
            saeSeconds, saeEv);
        if (saeEv >= itdaEv)
            break;
    }
    if (saeEv >= itdaEv)
        std::printf("  itda / sae time to EV %.4f: %.4f\n", itdaEv, itdaSeconds / saeSeconds);
    else
        std::printf("  the SAE did not reach ITDA's EV within %lld steps (itda / sae time at "
                    "the last budget: %.4f)\n",
            static_cast<long long>(maxSteps), itdaSeconds / saeSeconds);
    return 0;
}

} // namespace fscope::cli
