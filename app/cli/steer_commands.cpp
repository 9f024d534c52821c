// featurescope-cli steer / sweep / ablation: generate with and without an SAE-feature edit and
// compare (KL, target log-probs, fluency), over one strength or a range, or rank the prompt's
// active features by the effect of ablating each.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/model/model_locator.h"
#include "core/sae/sae_io.h"
#include "core/steer/steer_job.h"
#include "core/steer/steering.h"
#include "core/store/fingerprint.h"
#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace fscope::cli {

using nlohmann::json;

namespace {

const std::set<std::string> kValued = { "model", "sae", "hook", "feature", "strength",
    "strength-max", "prompt", "max-tokens", "mode", "positions", "target", "temperature", "top-k",
    "top-p", "seed", "device", "dtype", "workspace", "strengths", "top" };

struct Loaded {
    std::string modelPath;
    std::unique_ptr<core::model::Decoder> decoder;
    std::unique_ptr<core::tokenize::Tokenizer> tokenizer;
    std::shared_ptr<const core::sae::Sae> sae;
    std::vector<int64_t> prompt;
    std::vector<int64_t> targets;
};

core::Result<Loaded> load(const Options &o)
{
    Loaded l;
    FS_TRY(l.modelPath, core::model::resolveModelPath(o.value("model")));
    FS_TRY(l.decoder,
        core::model::Decoder::load(
            l.modelPath, { o.value("device", "auto"), o.value("dtype", "auto") }));
    FS_TRY(l.tokenizer, core::tokenize::loadTokenizer(l.modelPath));
    core::sae::LoadSaeOptions so;
    so.hookName = o.value("hook");
    so.device = l.decoder->device().is_cuda() ? "cuda" : "cpu";
    auto sae = core::sae::loadSae(o.value("sae"), so);
    if (!sae)
        return sae.error();
    if (auto v = core::sae::validateSaeForModel(*sae, l.decoder->config()); !v)
        return core::fileError(o.value("sae"), v.errorMessage());
    l.sae = std::make_shared<const core::sae::Sae>(std::move(sae).value());
    // SAE work reads prompts with BOS first (the SAELens convention for every family).
    l.prompt = l.tokenizer->encodeForModel(o.value("prompt"), l.tokenizer->bosId().has_value()).ids;
    for (const std::string &t : o.values("target")) {
        int64_t id = 0;
        FS_TRY(id, core::steer::singleToken(*l.tokenizer, t));
        l.targets.push_back(id);
    }
    return l;
}

std::string text(const Loaded &l, const std::vector<int64_t> &ids)
{
    return l.tokenizer->decode(ids);
}

json resultJson(const Loaded &l, const core::steer::SteerResult &r)
{
    json next = json::array();
    for (const auto &t : r.nextToken)
        next.push_back(
            { { "token", core::tokenize::sanitizeUtf8(l.tokenizer->tokenBytes(t.token)) },
                { "id", t.token }, { "base", t.base }, { "steered", t.steered } });
    json targets = json::array();
    for (size_t i = 0; i < l.targets.size(); ++i)
        targets.push_back(
            { { "token", core::tokenize::sanitizeUtf8(l.tokenizer->tokenBytes(l.targets[i])) },
                { "id", l.targets[i] }, { "base_logprob", r.baseTarget[i] },
                { "steered_logprob", r.steeredTarget[i] }, { "delta", r.targetLogProbDelta[i] } });
    return { { "base", text(l, r.baseTokens) }, { "steered", text(l, r.steeredTokens) },
        { "base_ids", r.baseTokens }, { "steered_ids", r.steeredTokens }, { "kl_mean", r.klMean },
        { "kl", r.kl }, { "next_token", next }, { "targets", targets },
        { "steered_perplexity_under_base", r.steeredPerplexityUnderBase } };
}

// The steering job of these options (one core workflow with the panel: runSteerJob).
core::steer::SteerJob steerJob(const Options &o, const Loaded &l, std::vector<double> strengths)
{
    core::steer::SteerJob job;
    job.decoder = l.decoder.get();
    job.tokenizer = l.tokenizer.get();
    job.sae = l.sae;
    job.modelPath = l.modelPath;
    job.prompt = o.value("prompt");
    job.feature = o.integer("feature", -1);
    job.mode = o.value("mode", "add");
    job.positions = o.value("positions", "all");
    job.strengths = std::move(strengths);
    job.targets = o.values("target");
    job.generation.maxNewTokens = o.integer("max-tokens", 20);
    job.generation.temperature = o.number("temperature", 0);
    job.generation.topK = o.integer("top-k", 0);
    job.generation.topP = o.number("top-p", 1.0);
    job.generation.seed = static_cast<uint64_t>(o.integer("seed", 0));
    return job;
}

core::Result<core::steer::SteerJobResult> runJob(const Options &o, const core::steer::SteerJob &job)
{
    std::unique_ptr<core::store::Database> workspace;
    if (o.has("workspace"))
        FS_TRY(workspace, core::store::Database::open(workspacePath(o.value("workspace"))));
    return core::steer::runSteerJob(workspace.get(), job);
}

json pointJson(const Loaded &l, const core::steer::SteerPoint &p)
{
    json j = resultJson(l, p.result);
    j["strength"] = p.strength;
    j["cached"] = p.cached;
    return j;
}

} // namespace

int runSteer(const Args &args)
{
    const Options o(args, kValued, { "json" });
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !o.has("sae") || !o.has("prompt")
        || (!o.has("feature") && o.value("mode") != "reconstruct"))
        return fail("usage: featurescope-cli steer --model M --sae S --feature F (--strength A | "
                    "--strength-max K --workspace W) "
                    "--prompt TEXT [--max-tokens 20] [--mode add|clamp|scale|ablate] [--positions "
                    "all|prompt|generated|3,4] "
                    "[--target TOKEN ...] [--temperature T --seed S] [--json]");
    auto l = load(o);
    if (!l)
        return fail(l.errorMessage());
    if (o.has("strength-max") && !o.has("workspace"))
        return fail(
            "--strength-max needs --workspace (the feature's max activation comes from its index)");
    core::steer::SteerJob job = steerJob(
        o, *l, { o.has("strength-max") ? o.number("strength-max", 1) : o.number("strength", 0) });
    job.timesMax = o.has("strength-max");
    auto r = runJob(o, job);
    if (!r)
        return fail(r.errorMessage());
    const double a = r->points.front().strength;
    const auto j = std::optional<json>(pointJson(*l, r->points.front()));
    if (o.has("json")) {
        std::printf("%s\n", j->dump().c_str());
        return 0;
    }
    std::printf("prompt : %s\n", o.value("prompt").c_str());
    std::printf("base   : %s\n", (*j)["base"].get<std::string>().c_str());
    std::printf("steered: %s\n", (*j)["steered"].get<std::string>().c_str());
    std::printf("%s feature %lld by %g: mean KL(steered || base) %.4f nats; steered text "
                "perplexity under the base model %.2f%s\n",
        o.value("mode", "add").c_str(), o.integer("feature", -1), a, (*j)["kl_mean"].get<double>(),
        (*j)["steered_perplexity_under_base"].get<double>(),
        (*j)["cached"].get<bool>() ? " (cached)" : "");
    std::printf("next token      base    steered\n");
    int shown = 0;
    for (const auto &t : (*j)["next_token"]) {
        if (shown++ == 10)
            break;
        std::printf("  %-12s %6.3f  %6.3f\n", t["token"].get<std::string>().c_str(),
            t["base"].get<double>(), t["steered"].get<double>());
    }
    for (const auto &t : (*j)["targets"])
        std::printf("target %s: log-prob %+.3f -> %+.3f (%+.3f)\n",
            t["token"].get<std::string>().c_str(), t["base_logprob"].get<double>(),
            t["steered_logprob"].get<double>(), t["delta"].get<double>());
    return 0;
}

int runSweep(const Args &args)
{
    const Options o(args, kValued, { "json" });
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !o.has("sae") || !o.has("prompt") || !o.has("feature")
        || !o.has("strengths"))
        return fail("usage: featurescope-cli sweep --model M --sae S --feature F --prompt TEXT "
                    "--strengths FROM:TO:COUNT|A,B,C "
                    "[--mode add|clamp|scale] [--target TOKEN ...] [--max-tokens N] [--workspace "
                    "W] [--json]");
    auto strengths = core::steer::parseStrengths(o.value("strengths"));
    if (!strengths)
        return fail("--" + strengths.errorMessage());
    auto l = load(o);
    if (!l)
        return fail(l.errorMessage());
    auto r = runJob(o, steerJob(o, *l, *strengths));
    if (!r)
        return fail(r.errorMessage());
    json points = json::array();
    for (const auto &p : r->points) {
        const json j = pointJson(*l, p);
        points.push_back(j);
        if (!o.has("json"))
            std::printf("strength %+8.3f  KL %.4f  ppl %7.2f  %s\n", p.strength,
                j["kl_mean"].get<double>(), j["steered_perplexity_under_base"].get<double>(),
                j["steered"].get<std::string>().c_str());
    }
    if (o.has("json"))
        std::printf("%s\n",
            json { { "feature", o.integer("feature", -1) }, { "mode", o.value("mode", "add") },
                { "points", points } }
                .dump()
                .c_str());
    return 0;
}

int runAblation(const Args &args)
{
    const Options o(args, kValued, { "json" });
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !o.has("sae") || !o.has("prompt"))
        return fail("usage: featurescope-cli ablation --model M --sae S --prompt TEXT [--top 20] "
                    "[--target TOKEN] [--json]");
    auto l = load(o);
    if (!l)
        return fail(l.errorMessage());
    std::optional<int64_t> target;
    if (!l->targets.empty())
        target = l->targets[0];
    auto effects
        = core::steer::ablationStudy(*l->decoder, l->sae, l->prompt, o.integer("top", 20), target);
    if (!effects)
        return fail(effects.errorMessage());
    json out = json::array();
    for (const auto &e : *effects)
        out.push_back({ { "feature", e.feature }, { "activation", e.activation },
            { "target_logprob_delta", e.targetLogProbDelta }, { "kl", e.kl } });
    if (o.has("json")) {
        std::printf("%s\n",
            json { { "ranked_by", target ? "target" : "kl" }, { "effects", out } }.dump().c_str());
        return 0;
    }
    std::printf("feature  activation  %s\n", target ? "d log p(target)   KL" : "KL");
    for (const auto &e : *effects)
        std::printf("%7lld  %10.3f  %+14.4f  %.5f\n", static_cast<long long>(e.feature),
            e.activation, e.targetLogProbDelta, e.kl);
    return 0;
}

} // namespace fscope::cli
