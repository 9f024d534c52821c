// featurescope-cli match: SAE Match between two SAEs or along a series (one SAE per layer),
// with the hidden-state approximation on a model's contexts when --model and --text are given.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/corpus/corpus.h"
#include "core/match/match_series.h"
#include "core/model/model_locator.h"
#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace fscope::cli {

int runMatch(const Args &args)
{
    const Options o(args,
        { "sae", "sae-dir", "cost", "skip", "good-threshold", "model", "text", "tokens", "context",
            "device", "workspace", "solver", "warm-start" },
        { "no-fold", "json", "no-pairs", "compose" });
    if (!o.ok())
        return fail(o.error());
    std::vector<std::string> paths = o.values("sae");
    if (o.has("sae-dir")) {
        auto found = core::match::saeDirectories(o.value("sae-dir"));
        if (!found)
            return fail(found.errorMessage());
        paths.insert(paths.end(), found->begin(), found->end());
    }
    if (paths.size() < 2)
        return fail("usage: featurescope-cli match --sae A --sae B [--sae C ...] | --sae-dir DIR "
                    "[--no-fold] "
                    "[--cost decoder|encoder|all|cosine] [--solver auto|dense|priced|approximate] "
                    "[--warm-start auto|jv|auction] "
                    "[--skip K [--compose]] [--model M --text FILE] [--workspace W] [--json]");
    core::match::MatchSeriesRequest req;
    req.saePaths = paths;
    req.options.fold = !o.has("no-fold");
    auto cost = core::match::parseMatchCost(o.value("cost", "decoder"));
    if (!cost)
        return fail(cost.errorMessage());
    req.options.cost = *cost;
    auto solver = core::match::parseMatchSolver(o.value("solver", "auto"));
    if (!solver)
        return fail(solver.errorMessage());
    req.options.solver = *solver;
    auto warmStart = core::match::parseMatchWarmStart(o.value("warm-start", "auto"));
    if (!warmStart)
        return fail(warmStart.errorMessage());
    req.options.warmStart = *warmStart;
    req.options.goodThreshold = o.number("good-threshold", req.options.goodThreshold);
    req.skip = o.integer("skip", 1);
    req.compareComposed = o.has("compose");
    if (req.compareComposed && req.skip < 2)
        return fail(
            "--compose compares skip links (--skip K, K >= 2) with the composed adjacent matches");
    req.device = o.value("device", "cpu");
    std::unique_ptr<core::model::Decoder> decoder;
    if (o.has("model") != o.has("text"))
        return fail("the hidden-state approximation needs both --model and --text");
    if (o.has("model")) {
        auto path = core::model::resolveModelPath(o.value("model"));
        if (!path)
            return fail(path.errorMessage());
        auto d = core::model::Decoder::load(*path, { req.device, "float32" });
        if (!d)
            return fail(d.errorMessage());
        decoder = std::move(d).value();
        auto tok = core::tokenize::loadTokenizer(*path);
        if (!tok)
            return fail(tok.errorMessage());
        auto ctx = textContexts(o, *path, **tok, "4096");
        if (!ctx)
            return fail(ctx.errorMessage());
        req.decoder = decoder.get();
        req.contexts = *ctx;
        req.specialTokens = core::corpus::specialTokens(**tok);
        auto fp = core::store::fingerprintModel(*path);
        if (!fp)
            return fail(fp.errorMessage());
        req.modelFingerprint = *fp;
    }
    auto workspace = optionalWorkspace(o);
    if (!workspace)
        return fail(workspace.errorMessage());
    auto series = core::match::runMatchSeriesCached(workspace->get(), req);
    if (!series)
        return fail(series.errorMessage());

    if (o.has("json")) {
        nlohmann::json j = nlohmann::json::parse(core::match::matchSeriesToJson(*series));
        j["cached"] = series->cached;
        j["links_from_cache"] = series->linksFromCache;
        if (o.has("no-pairs"))
            for (auto &l : j["links"])
                for (const char *k : { "pairs", "pair_mse", "pair_cosine", "pair_good" })
                    l.erase(k);
        // Two SAEs: the link's fields at the top level as well (pairs, total_cost, ...).
        if (series->links.size() == 1)
            for (auto it = j["links"][0].begin(); it != j["links"][0].end(); ++it)
                if (!j.contains(it.key()))
                    j[it.key()] = it.value();
        if (series->links.size() == 1)
            j["seconds"] = series->seconds;
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    const std::string solverName = series->links.empty() ? "" : series->links.front().result.solver;
    std::printf("SAE Match (%s, %s cost, %s solver) over %zu SAEs%s\n",
        series->folded ? "folded" : "unfolded",
        core::match::matchCostName(req.options.cost).c_str(), solverName.c_str(),
        series->saePaths.size(), series->cached ? " (cached)" : "");
    std::printf("%-28s %12s %12s %8s %8s\n", "link", "total MSE", "mean MSE", "good", "seconds");
    for (const auto &l : series->links) {
        const std::string name = series->labels[l.from] + " -> " + series->labels[l.to];
        std::printf("%-28s %12.5g %12.5g %7.1f%% %8.2f\n", name.c_str(), l.result.totalCost,
            l.result.meanMse, 100 * l.result.goodShare, l.result.seconds);
        if (l.evaluation)
            for (const auto &s : l.evaluation->scores)
                std::printf("    %-22s EV %7.3f  dCE %+8.4f  KL %8.4f  tokens %lld%s\n",
                    s.name.c_str(), s.explainedVariance, s.deltaCe, s.kl,
                    static_cast<long long>(s.tokens),
                    s.matchingScore >= 0
                        ? ("  matching score " + std::to_string(s.matchingScore)).c_str()
                        : "");
        if (!l.result.optimal)
            std::printf("    %s solve: its solver cost %.6g is at most %.4g (%.2g relative) above "
                        "the optimum\n",
                l.result.solver.c_str(), l.result.solverCost, l.result.solverGap,
                l.result.relativeSolverGap());
        if (l.composed)
            std::printf("    composed adjacent matches: %.1f%% agree with the direct match; total "
                        "MSE %.5g (direct %.5g)\n",
                100 * l.composed->agreement, l.composed->composedTotal, l.composed->directTotal);
    }
    if (!series->chainLengths.empty()) {
        std::printf("chains (layers spanned: count):");
        for (size_t k = 0; k < series->chainLengths.size(); ++k)
            if (series->chainLengths[k])
                std::printf(" %zu:%lld", k + 1, (long long)series->chainLengths[k]);
        std::printf("\n");
    }
    return 0;
}

} // namespace fscope::cli
