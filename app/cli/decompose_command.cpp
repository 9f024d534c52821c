// featurescope-cli decompose / caa: build a steering vector from prompt pairs, and decompose a
// vector into SAE features with every method side by side.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/corpus/corpus.h"
#include "core/model/model_locator.h"
#include "core/sae/sae_io.h"
#include "core/steer/decompose_job.h"
#include "core/steer/decomposition.h"
#include "core/steer/steering.h"
#include "core/steer/steering_vector.h"
#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace fscope::cli {

namespace {

struct ModelParts {
    std::string path;
    std::unique_ptr<core::model::Decoder> decoder;
    std::unique_ptr<core::tokenize::Tokenizer> tokenizer;
};

core::Result<ModelParts> loadModel(const Options &o)
{
    ModelParts m;
    FS_TRY(m.path, core::model::resolveModelPath(o.value("model")));
    FS_TRY(m.decoder, core::model::Decoder::load(m.path, { o.value("device", "cpu"), "float32" }));
    FS_TRY(m.tokenizer, core::tokenize::loadTokenizer(m.path));
    return m;
}

// The CAA vector of the --pairs file at `hook`, read at --position.
core::Result<core::steer::CaaVector> pairsVector(
    const Options &o, const ModelParts &m, const std::string &hook)
{
    std::vector<core::steer::ContrastPair> pairs;
    FS_TRY(pairs, core::steer::readContrastPairs(o.value("pairs")));
    core::steer::ReadPosition pos = core::steer::ReadPosition::Answer;
    FS_TRY(pos, core::steer::parseReadPosition(o.value("position", "answer")));
    return core::steer::buildCaaVector(*m.decoder, *m.tokenizer, pairs, hook, pos);
}

} // namespace

int runCaa(const Args &args)
{
    const Options o(args, { "model", "pairs", "hook", "position", "out", "device" }, { "json" });
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !o.has("pairs") || !o.has("hook") || !o.has("out"))
        return fail("usage: featurescope-cli caa --model M --pairs PAIRS.jsonl --hook "
                    "blocks.L.hook_resid_post "
                    "[--position last|answer|mean] --out V.npy|V.safetensors [--json]");
    auto m = loadModel(o);
    if (!m)
        return fail(m.errorMessage());
    auto caa = pairsVector(o, *m, o.value("hook"));
    if (!caa)
        return fail(caa.errorMessage());
    if (auto s = core::steer::saveSteeringVector(o.value("out"), caa->vector); !s)
        return fail(s.errorMessage());
    const double norm = caa->vector.norm().item<double>();
    if (o.has("json"))
        std::printf("%s\n",
            nlohmann::json {
                { "pairs", caa->positives.size(0) }, { "norm", norm }, { "out", o.value("out") } }
                .dump()
                .c_str());
    else
        std::printf("CAA vector from %lld pairs at %s: norm %.4g, written to %s\n",
            (long long)caa->positives.size(0), o.value("hook").c_str(), norm,
            o.value("out").c_str());
    return 0;
}

int runDecompose(const Args &args)
{
    const Options o(args,
        { "sae", "vector", "pairs", "position", "method", "k", "lambda", "alpha", "model", "text",
            "tokens", "context", "device", "limit", "resteer-prompt", "strength", "workspace",
            "target", "hook" },
        { "json" });
    if (!o.ok())
        return fail(o.error());
    if (!o.has("sae") || (!o.has("vector") && !o.has("pairs")))
        return fail("usage: featurescope-cli decompose --sae PATH (--vector V.npy | --pairs "
                    "P.jsonl --model M) "
                    "--method NAME|all [--k 32] [--lambda 0.05] [--model M --text FILE] "
                    "[--resteer-prompt TEXT] [--json]\n"
                    "methods: encode, encode-minus-zero, encoder-projection, decoder-cosine, "
                    "norm-matched, in-context, "
                    "contrastive, mp, omp, nnls, nnls-signed, lasso");
    // The hook matters only when the model runs (pairs, activations, re-steering).
    auto sae = core::sae::loadSae(o.value("sae"), { o.value("hook"), "cpu", o.has("model") });
    if (!sae)
        return fail(sae.errorMessage());
    std::vector<core::steer::DecompositionMethod> methods;
    if (o.value("method", "all") == "all") {
        methods = core::steer::allDecompositionMethods();
    } else {
        auto m = core::steer::parseDecompositionMethod(o.value("method"));
        if (!m)
            return fail(m.errorMessage());
        methods = { *m };
    }
    std::optional<ModelParts> model;
    if (o.has("model")) {
        auto m = loadModel(o);
        if (!m)
            return fail(m.errorMessage());
        model = std::move(m).value();
    }
    core::steer::DecomposeRequest request;
    request.sae = &*sae;
    request.decoder = model ? model->decoder.get() : nullptr;
    request.tokenizer = model ? model->tokenizer.get() : nullptr;
    request.vectorPath = o.value("vector");
    request.pairsPath = o.value("pairs");
    request.position = o.value("position", "answer");
    request.methods = methods;
    request.skipUnavailable = o.value("method", "all") == "all"; // "all" runs what the inputs allow
    request.options.k = o.integer("k", 32);
    request.options.lassoLambda = o.number("lambda", 0.05);
    request.options.alpha = o.number("alpha", 1.0);
    request.resteerPrompt = o.value("resteer-prompt");
    request.target = o.value("target");
    request.strength = o.number("strength", 1.0);
    if (o.has("pairs") && !model)
        return fail("--pairs needs --model (the pairs are run through it)");
    if (model && o.has("text")) {
        auto ids = textContexts(o, model->path, *model->tokenizer, "2048");
        if (!ids)
            return fail(ids.errorMessage());
        request.contexts = *ids;
    }
    const int64_t limit = o.integer("limit", 64);
    auto workspace = optionalWorkspace(o);
    if (!workspace)
        return fail(workspace.errorMessage());
    auto run = core::steer::runDecomposition(workspace->get(), request);
    if (!run)
        return fail(run.errorMessage());
    nlohmann::json all = nlohmann::json::array();
    for (size_t r = 0; r < run->results.size(); ++r) {
        nlohmann::json j
            = nlohmann::json::parse(core::steer::decompositionToJson(run->results[r], limit));
        j["cached"] = bool(run->cached[r]);
        if (r < run->resteer.size()) {
            const auto &c = run->resteer[r];
            j["resteer"]
                = { { "k", request.options.k }, { "kl_rebuilt_vs_original", c.klRebuiltVsOriginal },
                      { "kl_original_vs_base", c.klOriginalVsBase },
                      { "kl_rebuilt_vs_base", c.klRebuiltVsBase } };
            if (run->hasTarget) {
                j["resteer"]["target_delta_original"] = c.targetDeltaOriginal;
                j["resteer"]["target_delta_rebuilt"] = c.targetDeltaRebuilt;
            }
        }
        all.push_back(j);
    }
    const double norm = run->vectorNorm;
    if (o.has("json")) {
        if (methods.size() == 1) {
            all[0]["vector_norm"] = norm;
            std::printf("%s\n", all[0].dump().c_str());
        } else {
            std::printf("%s\n",
                nlohmann::json { { "vector_norm", norm }, { "methods", all } }.dump().c_str());
        }
        return 0;
    }
    std::printf("vector norm %.4g%s\n", norm,
        run->normQuantiles.size() == 3
            ? (", median activation norm at the hook " + std::to_string(run->normQuantiles[1]))
                  .c_str()
            : "");
    for (const auto &j : all) {
        std::printf("%-19s cosine %6.3f  FVE %7.3f  non-zero %5zu  top:",
            j["method"].get<std::string>().c_str(), j["cosine"].get<double>(),
            j["fve"].get<double>(), j["nonzero"].get<size_t>());
        for (size_t i = 0; i < 5 && i < j["coefficients"].size(); ++i)
            std::printf(" %lld:%+.3g", j["coefficients"][i][0].get<long long>(),
                j["coefficients"][i][1].get<double>());
        std::printf("\n");
    }
    return 0;
}

} // namespace fscope::cli
