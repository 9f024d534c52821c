#include "core/steer/decompose_job.h"

#include "core/corpus/corpus.h"
#include "core/steer/steering.h"
#include "core/store/fingerprint.h"

namespace fscope::core::steer {
namespace {

bool inputsPresent(DecompositionMethod method, const DecomposeOptions &o)
{
    if (method == DecompositionMethod::Contrastive)
        return o.positives.defined();
    if (needsActivations(method))
        return o.activations.defined();
    return true;
}

} // namespace

Result<DecomposeRun> runDecomposition(
    store::Database *workspace, const DecomposeRequest &request, jobs::Progress *progress)
{
    if (!request.sae)
        return Error { "decomposition needs an SAE" };
    const sae::Sae &sae = *request.sae;
    if (sae.config().readsSeveralHooks())
        return Error { sae.config().sourcePath + ": a crosscoder's features span "
            + std::to_string(sae.config().hooksIn.size())
            + " hooks, and a steering vector lives in one; decompose it with an SAE of that hook" };
    const bool haveModel = request.decoder && request.tokenizer;
    const std::string hook = sae.config().hookName;
    if (progress)
        progress->begin(int64_t(request.methods.size()) + 1, "Preparing the vector");
    DecomposeRun run;
    DecomposeOptions opts = request.options;
    if (!request.vectorPath.empty())
        FS_TRY(run.vector, loadSteeringVector(request.vectorPath));
    if (!request.pairsPath.empty()) {
        if (!haveModel)
            return Error { "prompt pairs need a model (the pairs are run through it)" };
        std::vector<ContrastPair> pairs;
        FS_TRY(pairs, readContrastPairs(request.pairsPath));
        ReadPosition position = ReadPosition::Answer;
        FS_TRY(position, parseReadPosition(request.position));
        CaaVector caa;
        FS_TRY(caa, buildCaaVector(*request.decoder, *request.tokenizer, pairs, hook, position));
        opts.positives = caa.positives;
        opts.negatives = caa.negatives;
        run.contrastPairs = caa.positives.size(0);
        if (!run.vector.defined())
            run.vector = caa.vector;
    }
    if (!run.vector.defined())
        return Error { "decomposition needs a steering vector or prompt pairs" };
    if (haveModel && request.contexts.defined() && request.contexts.numel() > 0) {
        FS_TRY(opts.activations,
            hookActivations(*request.decoder, request.contexts, hook,
                corpus::specialTokens(*request.tokenizer)));
        const at::Tensor norms = opts.activations.norm(2, -1).to(at::kDouble);
        for (double q : { 0.05, 0.5, 0.95 })
            run.normQuantiles.push_back(at::quantile(norms, q).item<double>());
    }
    run.vectorNorm = run.vector.norm().item<double>();
    if (progress)
        progress->advance();

    int64_t target = -1;
    if (haveModel && !request.resteerPrompt.empty() && !request.target.empty()) {
        FS_TRY(target, singleToken(*request.tokenizer, request.target));
        run.hasTarget = true;
    }
    const std::string saeFingerprint = workspace ? store::fingerprintSae(sae) : std::string();
    for (DecompositionMethod method : request.methods) {
        if (progress && progress->cancelled())
            return Error { "decomposition cancelled" };
        if (progress)
            progress->setMessage("Decomposing: " + decompositionMethodName(method));
        if (request.skipUnavailable && !inputsPresent(method, opts)) {
            run.skipped.push_back(method);
            if (progress)
                progress->advance();
            continue;
        }
        bool cached = false;
        Decomposition d;
        FS_TRY(
            d, decomposeCached(workspace, sae, saeFingerprint, run.vector, method, opts, &cached));
        if (haveModel && !request.resteerPrompt.empty()) {
            const auto ids = request.tokenizer
                                 ->encodeForModel(
                                     request.resteerPrompt, request.tokenizer->bosId().has_value())
                                 .ids;
            const at::Tensor rebuilt = rebuildVector(sae, d, opts.k).to(at::kFloat);
            ResteerComparison c;
            FS_TRY(c,
                compareResteer(
                    *request.decoder, hook, ids, run.vector, rebuilt, request.strength, target));
            run.resteer.push_back(c);
        }
        run.results.push_back(std::move(d));
        run.cached.push_back(cached);
        if (progress)
            progress->advance();
    }
    return run;
}

} // namespace fscope::core::steer
