// featurescope-cli itda build|similarity: ITDA dictionaries (core/sae/itda.h).

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/corpus/corpus.h"
#include "core/jobs/terminal_progress.h"
#include "core/model/hooks.h"
#include "core/model/model_locator.h"
#include "core/sae/itda.h"
#include "core/sae/itda_similarity.h"
#include "core/tokenize/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace fscope::cli {

namespace {

using nlohmann::json;

int itdaBuild(const Options &o)
{
    const std::string hook = o.value("hook");
    if (!core::model::parseHookName(hook))
        return fail("--hook must name a hook point, e.g. blocks.1.hook_resid_post");
    auto path = core::model::resolveModelPath(o.value("model"));
    if (!path)
        return fail(path.errorMessage());
    auto decoder
        = core::model::Decoder::load(*path, { o.value("device", "auto"), o.value("dtype", "f32") });
    if (!decoder)
        return fail(decoder.errorMessage());
    if (const auto h = core::model::parseHookName(hook); h->layer >= (*decoder)->config().layers)
        return fail("--hook " + hook + " is past the model's "
            + std::to_string((*decoder)->config().layers) + " layers");
    auto tokenizer = core::tokenize::loadTokenizer(*path);
    if (!tokenizer)
        return fail(tokenizer.errorMessage());
    // The same contexts as sae train/eval read from --text, so an ITDA dictionary and an SAE
    // built from one corpus see the same tokens, and two ITDA builds on one corpus share the
    // (context, position) coordinates their Jaccard similarity compares.
    std::string corpusFingerprint;
    auto ids = textContexts(o, *path, **tokenizer, "1M", &corpusFingerprint);
    if (!ids)
        return fail(ids.errorMessage());
    std::vector<std::vector<int64_t>> contexts;
    const at::Tensor rows = ids->contiguous();
    for (int64_t i = 0; i < rows.size(0); ++i)
        contexts.emplace_back(
            rows[i].data_ptr<int64_t>(), rows[i].data_ptr<int64_t>() + rows.size(1));
    core::sae::ItdaOptions io;
    io.size = o.integer("size", 4096);
    io.k = o.integer("k", 40);
    io.lossThreshold = o.number("threshold", 0.1);
    io.batchTokens = o.integer("batch-tokens", 512);
    core::jobs::TerminalProgress progress("atoms");
    auto dict = core::sae::buildItdaFromModel(
        **decoder, contexts, hook, core::corpus::specialTokens(**tokenizer), io, &progress);
    progress.finish();
    if (!dict)
        return fail(dict.errorMessage());
    dict->modelName = o.value("model");
    dict->corpusFingerprint = corpusFingerprint;
    if (auto s = core::sae::saveItda(*dict, o.value("out")); !s)
        return fail(s.errorMessage());
    const json summary = { { "atoms", dict->atoms.size(0) }, { "tokens_seen", dict->tokensSeen },
        { "seconds", dict->seconds }, { "out", o.value("out") } };
    if (o.has("json"))
        std::printf("%s\n", summary.dump().c_str());
    else
        std::printf("built an ITDA dictionary of %lld atoms from %lld tokens in %.2f s; saved to "
                    "%s\n",
            static_cast<long long>(dict->atoms.size(0)), static_cast<long long>(dict->tokensSeen),
            dict->seconds, o.value("out").c_str());
    return 0;
}

// Two folders: their Jaccard similarity. More: the matrix of every pair, as the paper's
// layer-by-layer and model-by-model comparisons.
int itdaSimilarity(const Options &o)
{
    const auto &dirs = o.positional();
    if (dirs.size() < 2)
        return fail("itda similarity needs two or more ITDA folders");
    auto sim = core::sae::compareItda(dirs);
    if (!sim)
        return fail(sim.errorMessage());
    for (const auto &[i, j] : sim->differentCorpora)
        std::fprintf(stderr,
            "warning: %s and %s were built on different corpora: their atoms share no "
            "(context, position), so their Jaccard similarity compares nothing\n",
            dirs[static_cast<size_t>(i)].c_str(), dirs[static_cast<size_t>(j)].c_str());
    if (o.has("json")) {
        json pairs = json::array();
        for (const auto &[i, j] : sim->differentCorpora)
            pairs.push_back({ i, j });
        json out = { { "dictionaries", dirs }, { "labels", sim->labels }, { "atoms", sim->atoms },
            { "matrix", sim->jaccard }, { "different_corpora", pairs } };
        if (dirs.size() == 2)
            out["jaccard"] = sim->jaccard[0][1];
        std::printf("%s\n", out.dump().c_str());
        return 0;
    }
    if (dirs.size() == 2) {
        std::printf("jaccard %.6f\n", sim->jaccard[0][1]);
        return 0;
    }
    for (size_t i = 0; i < dirs.size(); ++i) {
        std::printf("%-40s", dirs[i].c_str());
        for (size_t j = 0; j < dirs.size(); ++j)
            std::printf(" %6.3f", sim->jaccard[i][j]);
        std::printf("\n");
    }
    return 0;
}

} // namespace

int runItda(const Args &args)
{
    if (args.empty()) {
        std::fprintf(stderr, "usage: featurescope-cli itda build|similarity ...\n");
        return 2;
    }
    const std::string sub = args[0];
    const Args rest(args.begin() + 1, args.end());
    const Options o(rest,
        { "model", "text", "hook", "size", "out", "k", "threshold", "context", "tokens",
            "batch-tokens", "device", "dtype" },
        { "json" });
    if (!o.ok())
        return fail(o.error());
    if (sub == "build") {
        for (const char *n : { "model", "text", "hook", "out" })
            if (!o.has(n))
                return fail(std::string("itda build needs --") + n);
        return itdaBuild(o);
    }
    if (sub == "similarity")
        return itdaSimilarity(o);
    return fail("unknown itda command '" + sub + "'");
}

} // namespace fscope::cli
