#include "core/interp/explain_job.h"

#include "core/corpus/corpus.h"
#include "core/interp/parallel.h"
#include "core/sae/sae_io.h"
#include "core/store/feature_lists.h"
#include "core/store/fingerprint.h"
#include "core/store/interp_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <set>

namespace fscope::core::interp {

using nlohmann::json;

const std::vector<std::string> &knownScorers()
{
    static const std::vector<std::string> names
        = { "detection", "fuzzing", "simulation", "intervention" };
    return names;
}

int64_t ExplainResult::failed() const
{
    return std::count_if(features.begin(), features.end(),
        [](const FeatureInterpretation &f) { return !f.error.empty(); });
}

Result<std::vector<int64_t>> selectFeatures(
    store::Database &db, const store::IndexInfo &index, const FeatureSelection &selection)
{
    std::vector<int64_t> out = selection.ids;
    if (!selection.list.empty()) {
        std::optional<int64_t> listId;
        std::vector<store::FeatureList> lists;
        FS_TRY(lists, store::featureLists(db));
        for (const auto &l : lists)
            if (l.name == selection.list)
                listId = l.id;
        if (!listId)
            return fileError(db.path(), "no feature list named '" + selection.list + "'");
        std::vector<int64_t> items;
        FS_TRY(items, store::featureListItems(db, *listId, index.saeId));
        out.insert(out.end(), items.begin(), items.end());
    }
    if (selection.labelled) {
        std::vector<std::pair<int64_t, std::string>> labels;
        FS_TRY(labels, store::allLabels(db, index.saeId));
        for (const auto &l : labels)
            out.push_back(l.first);
    }
    if (selection.allLive) {
        store::FeatureTable table;
        FS_TRY(table, store::loadFeatureTable(db, index.id));
        std::vector<size_t> order;
        for (size_t i = 0; i < table.size(); ++i)
            if (table.count[i] > 0)
                order.push_back(i);
        // The densest first, so a limited run covers the features a user meets most.
        std::stable_sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return table.count[a] > table.count[b]; });
        for (size_t i : order)
            out.push_back(table.feature[i]);
    }
    std::vector<int64_t> unique;
    std::set<int64_t> seen;
    for (int64_t f : out) {
        if (f < 0 || f >= index.dSae)
            return Error { "feature " + std::to_string(f) + " is outside the SAE's "
                + std::to_string(index.dSae) + " features" };
        if (seen.insert(f).second)
            unique.push_back(f);
    }
    if (selection.limit > 0 && int64_t(unique.size()) > selection.limit)
        unique.resize(size_t(selection.limit));
    return unique;
}

namespace {

struct FeatureWork {
    int64_t feature = 0;
    size_t slot = 0; // position in the result
    std::optional<store::StoredExplanation> cachedExplanation;
    std::string explanationKey;
    std::map<std::string, std::string> scoreKeys; // scorer -> key, for the missing scores
    // Prepared on the job thread:
    std::vector<TextExample> train, test, negatives;
    std::vector<std::string> promoted;
    float max = 0;
    std::vector<InterventionSample> samples;
    std::string prepareError;
    // Filled by the workers:
    std::vector<ChatMessage> prompt;
    std::optional<ChatReply> reply;
    std::string explanation, error;
    std::vector<ScoreOutcome> outcomes;
};

json explainerSettingsJson(const ExplainRequest &r)
{
    const auto &e = r.explainer;
    return { { "top", e.topExamples }, { "bands", e.bandExamples }, { "mark", e.markFraction },
        { "activations", e.showActivations }, { "logits", e.logitTokens },
        { "max_tokens", e.maxTokens }, { "temperature", e.temperature } };
}

json scoreSettingsJson(const ExplainRequest &r, const std::string &scorer)
{
    json j = { { "per_prompt", r.scoring.perPrompt }, { "mark", r.scoring.markFraction },
        { "max_tokens", r.scoring.maxTokens }, { "seed", r.seed },
        { "non_activating", r.nonActivating }, { "activating", r.activating },
        { "pool", r.negatives.windows }, { "pool_seed", r.negatives.seed } };
    if (scorer == "simulation")
        j["texts"] = r.simulationTexts;
    if (scorer == "intervention")
        j["intervention"] = { { "prompts", r.intervention.prompts },
            { "prompt_tokens", r.intervention.promptTokens },
            { "new_tokens", r.intervention.newTokens }, { "strength", r.intervention.strength } };
    return j;
}

json itemsJson(const std::vector<ScoredItem> &items)
{
    json out = json::array();
    for (const auto &i : items)
        out.push_back({ { "text", i.text }, { "activating", i.activating }, { "band", i.band },
            { "prediction", i.prediction } });
    return out;
}

std::string formatRate(double perMinute)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.1f features/min", perMinute);
    return text;
}

} // namespace

Result<ExplainResult> runExplainJob(
    store::Database &db, const ExplainRequest &request, jobs::Progress *progress)
{
    const auto t0 = std::chrono::steady_clock::now();
    if (!request.backend)
        return Error { "no backend to explain with" };
    for (const std::string &s : request.scorers)
        if (std::find(knownScorers().begin(), knownScorers().end(), s) == knownScorers().end())
            return Error { "unknown scorer '" + s
                + "' (known: detection, fuzzing, simulation, intervention)" };
    PromptTemplates templates;
    FS_TRY(templates, loadTemplates(request.templatePath));
    store::IndexInfo index;
    FS_TRY(index, store::indexInfo(db, request.indexId));
    store::IndexIdentity identity;
    FS_TRY(identity, store::indexIdentity(db, request.indexId));
    ChatBackend &backend = *request.backend;

    const std::string explainSettings = explainerSettingsJson(request).dump();
    std::vector<FeatureWork> work;
    ExplainResult result;
    result.features.resize(request.features.size());
    for (size_t i = 0; i < request.features.size(); ++i) {
        FeatureWork w;
        w.feature = request.features[i];
        w.slot = i;
        result.features[i].feature = w.feature;
        // The explanation is what this backend, template and settings say of these examples.
        w.explanationKey = store::combineFingerprints(
            { "explain-v1", identity.saeFingerprint, identity.indexKey, std::to_string(w.feature),
                backend.identity(), templates.version, templates.hash, explainSettings });
        FS_TRY(w.cachedExplanation, store::explanationByKey(db, w.explanationKey));
        auto &out = result.features[i];
        if (w.cachedExplanation) {
            out.explanation = w.cachedExplanation->explanation;
            out.explanationCached = true;
        }
        for (const std::string &scorer : request.scorers) {
            const std::string key = store::combineFingerprints(
                { "score-v1", w.explanationKey, scorer, backend.identity(), templates.hash,
                    scoreSettingsJson(request, scorer).dump() });
            std::optional<store::StoredScore> cached;
            FS_TRY(cached, store::scoreByKey(db, key));
            if (cached && w.cachedExplanation) {
                out.scores[scorer] = cached->score;
                out.scoresCached++;
            } else {
                w.scoreKeys[scorer] = key;
            }
        }
        if (!w.cachedExplanation || !w.scoreKeys.empty())
            work.push_back(std::move(w));
    }
    if (progress)
        progress->begin(int64_t(request.features.size()), "explaining features");
    const int64_t cachedFeatures = int64_t(request.features.size() - work.size());
    if (progress)
        progress->setDone(cachedFeatures);
    if (work.empty()) {
        result.seconds
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return result;
    }

    // The model's part: the tokenizer always (token texts), the model and the SAE when a
    // scorer needs non-activating texts or steered continuations.
    std::unique_ptr<tokenize::Tokenizer> ownTokenizer;
    const tokenize::Tokenizer *tokenizer = request.tokenizer;
    if (!tokenizer) {
        FS_TRY(ownTokenizer, tokenize::loadTokenizer(index.modelPath));
        tokenizer = ownTokenizer.get();
    }
    bool needModel = false;
    for (const auto &w : work)
        needModel = needModel || !w.scoreKeys.empty();
    std::unique_ptr<model::Decoder> ownDecoder;
    const model::Decoder *decoder = request.decoder;
    std::shared_ptr<const sae::Sae> sae = request.sae;
    std::optional<NegativePool> pool;
    if (needModel) {
        if (progress)
            progress->setMessage("loading the model and the SAE");
        if (!decoder) {
            FS_TRY(ownDecoder,
                model::Decoder::load(index.modelPath, { request.device, request.dtype }));
            decoder = ownDecoder.get();
        }
        if (!sae) {
            sae::LoadSaeOptions so;
            so.hookName = index.hook;
            so.device = decoder->device().is_cuda() ? "cuda" : "cpu";
            auto loaded = sae::loadSae(index.saePath, so);
            if (!loaded)
                return loaded.error();
            sae = std::make_shared<const sae::Sae>(std::move(loaded).value());
        }
        NegativePoolOptions po = request.negatives;
        try {
            const json params = json::parse(index.paramsJson);
            if (params.contains("window_radius") && params["window_radius"].is_number_integer())
                po.windowLength = 2 * params["window_radius"].get<int64_t>() + 1;
        } catch (const json::exception &) {
        }
        std::vector<int64_t> features;
        for (const auto &w : work)
            if (!w.scoreKeys.empty())
                features.push_back(w.feature);
        NegativePool built;
        FS_TRY(built,
            NegativePool::build(db, index.corpusId, identity.contexts, *decoder, *tokenizer, *sae,
                features, corpus::specialTokens(*tokenizer), po, progress));
        pool = std::move(built);
    }

    const int threads = std::max(1, backend.concurrency());
    const size_t chunk = size_t(threads) * 2;
    int64_t done = cachedFeatures;
    for (size_t from = 0; from < work.size(); from += chunk) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        const size_t to = std::min(work.size(), from + chunk);
        // Prepare (this thread: the workspace and the model).
        for (size_t i = from; i < to; ++i) {
            FeatureWork &w = work[i];
            auto d = store::loadFeatureDashboard(db, index.id, w.feature);
            if (!d) {
                w.prepareError = d.errorMessage();
                continue;
            }
            if (d->dead()) {
                w.prepareError = "the feature never fired in the index";
                continue;
            }
            w.max = d->max;
            auto top = textExamples(d->top, *tokenizer);
            for (size_t k = 0; k < top.size() && int64_t(k) < request.explainer.topExamples; ++k)
                w.train.push_back(top[k]);
            // Each band's first examples explain; the rest are scored (kept apart).
            std::map<int, int64_t> taken;
            for (auto &e : textExamples(d->quantiles, *tokenizer)) {
                if (taken[e.band]++ < request.explainer.bandExamples)
                    w.train.push_back(std::move(e));
                else if (int64_t(w.test.size()) < request.activating)
                    w.test.push_back(std::move(e));
            }
            for (const auto &[id, v] : d->logitTop)
                w.promoted.push_back(tokenize::sanitizeUtf8(tokenizer->tokenBytes(id)));
            if (pool)
                w.negatives = pool->forFeature(w.feature, request.nonActivating, request.seed);
            if (w.scoreKeys.count("intervention") && decoder && sae) {
                std::vector<std::vector<int32_t>> prompts;
                for (const auto &n : w.negatives)
                    if (int64_t(prompts.size()) < request.intervention.prompts)
                        prompts.push_back(n.ids);
                auto samples = interventionSamples(*decoder, *tokenizer, sae, w.feature, w.max,
                    prompts, request.intervention, progress);
                if (samples)
                    w.samples = std::move(samples).value();
                else
                    w.prepareError = samples.errorMessage();
            }
        }
        // The backend's part, in parallel.
        parallelFor(int64_t(to - from), threads, [&](int64_t k) {
            FeatureWork &w = work[from + size_t(k)];
            if (!w.prepareError.empty())
                return;
            if (w.cachedExplanation) {
                w.explanation = w.cachedExplanation->explanation;
            } else {
                ChatRequest chat;
                chat.messages
                    = explainerPrompt(w.train, w.max, w.promoted, templates, request.explainer);
                chat.maxTokens = request.explainer.maxTokens;
                chat.temperature = request.explainer.temperature;
                w.prompt = chat.messages;
                auto reply = backend.complete(chat, progress);
                if (!reply) {
                    w.error = reply.errorMessage();
                    return;
                }
                auto parsed = parseExplanation(reply->text);
                w.reply = std::move(reply).value();
                if (!parsed) {
                    w.error = parsed.errorMessage();
                    return;
                }
                w.explanation = *parsed;
            }
            ScoreSettings ss = request.scoring;
            ss.seed = request.seed ^ (uint64_t(w.feature) * 0x9E3779B97F4A7C15ull);
            for (const auto &[scorer, key] : w.scoreKeys) {
                (void)key;
                if (scorer == "detection" || scorer == "fuzzing") {
                    if (w.negatives.empty()) {
                        ScoreOutcome o;
                        o.scorer = scorer;
                        o.error = "no non-activating window of the corpus was found";
                        o.transportFailures = 1;
                        w.outcomes.push_back(o);
                        continue;
                    }
                    w.outcomes.push_back(scoreClassifier(
                        scorer == "detection" ? ClassifierKind::Detection : ClassifierKind::Fuzzing,
                        w.explanation, w.test, w.negatives, templates, backend, ss, progress));
                } else if (scorer == "simulation") {
                    std::vector<TextExample> act(w.test.begin(),
                        w.test.begin()
                            + std::min<int64_t>(request.simulationTexts, int64_t(w.test.size())));
                    std::vector<TextExample> non(w.negatives.begin(),
                        w.negatives.begin()
                            + std::min<int64_t>(
                                request.simulationTexts, int64_t(w.negatives.size())));
                    w.outcomes.push_back(
                        scoreSimulation(w.explanation, act, non, templates, backend, ss, progress));
                } else if (scorer == "intervention") {
                    w.outcomes.push_back(scoreIntervention(
                        w.explanation, w.samples, templates, backend, ss, progress));
                }
            }
        });
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        // Write (this thread), one transaction per feature: an explanation with its scores.
        for (size_t i = from; i < to; ++i) {
            FeatureWork &w = work[i];
            FeatureInterpretation &out = result.features[w.slot];
            out.explanation = w.explanation;
            if (!w.prepareError.empty() || !w.error.empty()) {
                out.error = !w.prepareError.empty() ? w.prepareError : w.error;
                continue;
            }
            if (w.reply) {
                result.promptTokens += w.reply->promptTokens;
                result.completionTokens += w.reply->completionTokens;
                result.requests++;
            }
            for (const auto &o : w.outcomes) {
                result.promptTokens += o.promptTokens;
                result.completionTokens += o.completionTokens;
                result.requests += o.prompts - o.transportFailures;
            }
            auto written = db.transaction([&]() -> Status {
                int64_t id = 0;
                if (w.cachedExplanation) {
                    id = w.cachedExplanation->id;
                } else {
                    store::StoredExplanation e;
                    e.key = w.explanationKey;
                    e.saeId = index.saeId;
                    e.feature = w.feature;
                    e.explanation = w.explanation;
                    e.origin = backend.identity();
                    e.llm = backend.modelName();
                    e.templateVersion = templates.version;
                    e.promptJson = messagesJson(w.prompt).dump();
                    e.answer = w.reply ? w.reply->text : "";
                    e.promptTokens = w.reply ? w.reply->promptTokens : 0;
                    e.completionTokens = w.reply ? w.reply->completionTokens : 0;
                    FS_TRY(id, store::storeExplanation(db, e));
                }
                for (const auto &o : w.outcomes) {
                    out.scores[o.scorer] = o.score;
                    // A score with prompts that got no answer at all is not kept: the next
                    // run asks again. Unreadable answers are the judge's and are kept.
                    if (o.transportFailures > 0) {
                        out.scoreErrors[o.scorer] = o.error;
                        continue;
                    }
                    if (!o.error.empty())
                        out.scoreErrors[o.scorer] = o.error;
                    store::StoredScore s;
                    s.scorer = o.scorer;
                    s.key = w.scoreKeys.at(o.scorer);
                    s.score = o.score;
                    json details = { { "items", itemsJson(o.items) }, { "exchanges", o.exchanges },
                        { "prompts", o.prompts }, { "failed_prompts", o.failedPrompts },
                        { "extra", o.extra }, { "backend", backend.identity() } };
                    s.detailsJson = details.dump();
                    s.promptTokens = o.promptTokens;
                    s.completionTokens = o.completionTokens;
                    if (auto st = store::storeScore(db, id, s); !st)
                        return st;
                }
                return {};
            });
            if (!written)
                return written.error();
        }
        done += int64_t(to - from);
        if (progress) {
            progress->setDone(done);
            const double minutes
                = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                / 60.0;
            progress->setMessage("explaining features: "
                + formatRate(double(done - cachedFeatures) / std::max(minutes, 1e-9)) + ", "
                + std::to_string(result.promptTokens + result.completionTokens) + " tokens");
        }
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

} // namespace fscope::core::interp
