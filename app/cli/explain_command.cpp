// featurescope-cli explain: explain and score features of an index with an LLM (an
// OpenAI-compatible server or an instruct model run in-process), everything kept in the
// workspace; a repeated request is answered from it.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/interp/backends.h"
#include "core/interp/explain_job.h"
#include "core/interp/explanation_import.h"
#include "core/interp/prompt_templates.h"
#include "core/jobs/terminal_progress.h"
#include "core/store/interp_store.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace fscope::cli {

using nlohmann::json;

namespace {

core::Result<std::vector<int64_t>> parseIds(const std::string &text)
{
    std::vector<int64_t> ids;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        const size_t dash = part.find('-', 1);
        try {
            if (dash != std::string::npos) {
                const int64_t a = std::stoll(part.substr(0, dash)),
                              b = std::stoll(part.substr(dash + 1));
                if (b < a || b - a > 10'000'000)
                    return core::Error { "--ids: bad range '" + part + "'" };
                for (int64_t i = a; i <= b; ++i)
                    ids.push_back(i);
            } else if (!part.empty()) {
                ids.push_back(std::stoll(part));
            }
        } catch (const std::exception &) {
            return core::Error { "--ids: '" + part + "' is not a feature id or range" };
        }
    }
    return ids;
}

std::vector<std::string> splitList(const std::string &text)
{
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ','))
        if (!part.empty() && part != "none")
            out.push_back(part);
    return out;
}

json scoreJson(const std::optional<double> &v)
{
    return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

const char *kUsage
    = "usage: featurescope-cli explain WORKSPACE --sae S (--ids 3,7,10-20 | --list NAME | "
      "--labelled | --all [--limit N]) (--backend openai --endpoint URL --llm NAME "
      "[--api-key-env VAR] [--concurrency 4] [--timeout 120] [--retries 4] | --backend local "
      "--llm-model DIR [--llm-device auto] [--batch 8]) [--score detection,fuzzing] "
      "[--template FILE] [--json]\n       featurescope-cli explain WORKSPACE --sae S --import "
      "NEURONPEDIA.jsonl[.gz] [--np-model ID] [--np-source LAYER]\n       featurescope-cli "
      "explain --write-template FILE";

} // namespace

int runExplain(const Args &args)
{
    const Options o(args,
        { "sae", "ids", "list", "limit", "backend", "endpoint", "llm", "api-key-env", "concurrency",
            "timeout", "retries", "backoff", "llm-model", "llm-device", "llm-dtype", "batch",
            "score", "template", "write-template", "top", "bands", "non-activating", "activating",
            "per-prompt", "seed", "device", "dtype", "max-tokens", "intervention-strength",
            "import", "np-model", "np-source" },
        { "json", "labelled", "all", "activations" });
    if (!o.ok())
        return fail(o.error());
    if (o.has("write-template")) {
        std::ofstream out(o.value("write-template"), std::ios::binary);
        out << core::interp::defaultTemplatesJson() << "\n";
        if (!out)
            return fail(o.value("write-template") + ": cannot write the template file");
        std::printf("%s: the built-in templates (%s)\n", o.value("write-template").c_str(),
            core::interp::loadTemplates("")->version.c_str());
        return 0;
    }
    if (o.positional().size() != 1 || !o.has("sae"))
        return fail(kUsage);
    auto db = openExistingWorkspace(o.positional()[0]);
    if (!db)
        return fail(db.errorMessage());
    auto index = findIndex(**db, o.value("sae"));
    if (!index)
        return fail(index.errorMessage());
    if (o.has("import")) {
        auto identity = core::store::indexIdentity(**db, index->id);
        if (!identity)
            return fail(identity.errorMessage());
        core::interp::ImportFilter filter { o.value("np-model"), o.value("np-source") };
        auto imported = core::interp::importExplanations(
            **db, index->saeId, identity->saeFingerprint, index->dSae, o.value("import"), filter);
        if (!imported)
            return fail(imported.errorMessage());
        if (o.has("json"))
            std::printf("%s\n",
                json({ { "imported", imported->imported }, { "unchanged", imported->unchanged },
                         { "skipped", imported->skipped } })
                    .dump()
                    .c_str());
        else
            std::printf("%s: %lld explanations imported, %lld already there, %lld skipped\n",
                o.value("import").c_str(), static_cast<long long>(imported->imported),
                static_cast<long long>(imported->unchanged),
                static_cast<long long>(imported->skipped));
        return 0;
    }

    core::interp::FeatureSelection selection;
    if (o.has("ids")) {
        auto ids = parseIds(o.value("ids"));
        if (!ids)
            return fail(ids.errorMessage());
        selection.ids = *ids;
    }
    selection.list = o.value("list");
    selection.labelled = o.has("labelled");
    selection.allLive = o.has("all");
    selection.limit = o.integer("limit", 0);
    auto features = core::interp::selectFeatures(**db, *index, selection);
    if (!features)
        return fail(features.errorMessage());
    if (features->empty())
        return fail("no features chosen (--ids, --list, --labelled or --all)");

    core::interp::BackendSettings backend;
    backend.kind = o.value("backend", "openai");
    backend.openai.endpoint = o.value("endpoint");
    backend.openai.model = o.value("llm");
    backend.openai.apiKeyEnv = o.value("api-key-env", "OPENAI_API_KEY");
    backend.openai.concurrency = int(o.integer("concurrency", 4));
    backend.openai.timeoutSeconds = o.integer("timeout", 120);
    backend.openai.retries = int(o.integer("retries", 4));
    backend.openai.backoffSeconds = o.number("backoff", 1.0);
    backend.local.modelDir = o.value("llm-model");
    backend.local.device = o.value("llm-device", "auto");
    backend.local.dtype = o.value("llm-dtype", "auto");
    backend.local.batch = int(o.integer("batch", 8));
    if (backend.kind == "openai" && !o.has("endpoint"))
        return fail("--backend openai needs --endpoint URL (e.g. http://127.0.0.1:8080/v1)");
    auto chat = core::interp::makeBackend(backend);
    if (!chat)
        return fail(chat.errorMessage());

    core::interp::ExplainRequest r;
    r.indexId = index->id;
    r.features = *features;
    r.scorers = splitList(o.value("score", "detection,fuzzing"));
    r.templatePath = o.value("template");
    r.explainer.topExamples = o.integer("top", 20);
    r.explainer.bandExamples = o.integer("bands", 1);
    r.explainer.showActivations = o.has("activations");
    r.explainer.maxTokens = o.integer("max-tokens", 300);
    r.nonActivating = o.integer("non-activating", 50);
    r.activating = o.integer("activating", 50);
    r.scoring.perPrompt = o.integer("per-prompt", 5);
    r.intervention.strength = o.number("intervention-strength", 5);
    r.seed = static_cast<uint64_t>(o.integer("seed", 0));
    r.backend = chat->get();
    r.device = o.value("device", "auto");
    r.dtype = o.value("dtype", "auto");

    core::jobs::TerminalProgress progress("features");
    auto result = core::interp::runExplainJob(**db, r, &progress);
    progress.finish();
    if (!result)
        return fail(result.errorMessage());
    if (o.has("json")) {
        json j = { { "workspace", (*db)->path() }, { "index", index->id },
            { "backend", (*chat)->identity() }, { "features", json::array() },
            { "prompt_tokens", result->promptTokens },
            { "completion_tokens", result->completionTokens }, { "requests", result->requests },
            { "seconds", result->seconds } };
        for (const auto &f : result->features) {
            json scores = json::object();
            for (const auto &[name, v] : f.scores)
                scores[name] = scoreJson(v);
            json one = { { "id", f.feature }, { "explanation", f.explanation },
                { "scores", scores }, { "cached", f.explanationCached } };
            if (!f.error.empty())
                one["error"] = f.error;
            if (!f.scoreErrors.empty())
                one["score_errors"] = f.scoreErrors;
            j["features"].push_back(one);
        }
        std::printf("%s\n", j.dump().c_str());
    } else {
        for (const auto &f : result->features) {
            if (!f.error.empty()) {
                std::printf(
                    "  %6lld  error: %s\n", static_cast<long long>(f.feature), f.error.c_str());
                continue;
            }
            std::string scores;
            for (const auto &[name, v] : f.scores) {
                char text[64];
                if (v)
                    std::snprintf(text, sizeof text, "  %s %.2f", name.c_str(), *v);
                else
                    std::snprintf(text, sizeof text, "  %s n/a", name.c_str());
                scores += text;
            }
            std::printf("  %6lld  %s%s%s\n", static_cast<long long>(f.feature),
                f.explanation.c_str(), scores.c_str(), f.explanationCached ? "  (cached)" : "");
            for (const auto &[name, e] : f.scoreErrors)
                std::printf("          %s: %s\n", name.c_str(), e.c_str());
        }
        std::printf("%zu features, %lld failed; %lld requests, %lld prompt + %lld completion "
                    "tokens in %.1f s\n",
            result->features.size(), static_cast<long long>(result->failed()),
            static_cast<long long>(result->requests), static_cast<long long>(result->promptTokens),
            static_cast<long long>(result->completionTokens), result->seconds);
    }
    return result->failed() > 0 ? 1 : 0;
}

} // namespace fscope::cli
