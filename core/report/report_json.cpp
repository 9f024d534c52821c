#include "core/report/report_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

namespace fscope::core::report {

using nlohmann::json;

namespace {

json effectsJson(const TokenEffects &effects, size_t limit = SIZE_MAX)
{
    json out = json::array();
    for (size_t i = 0; i < effects.size() && i < limit; ++i)
        out.push_back({ { "token", effects[i].first }, { "value", effects[i].second } });
    return out;
}

json exampleJson(const ReportExample &e)
{
    return { { "rank", e.rank }, { "value", e.value }, { "context", e.context },
        { "max_position", e.maxPos }, { "tokens", e.tokens }, { "values", e.values } };
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 character.
std::string truncateUtf8(const std::string &text, size_t limit)
{
    if (text.size() <= limit)
        return text;
    size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return text.substr(0, end);
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
        [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

} // namespace

json featureReportJson(const FeatureReport &r)
{
    json j;
    j["source"] = { { "model", r.modelPath }, { "model_name", r.modelName }, { "sae", r.saeLabel },
        { "sae_path", r.saePath }, { "hook", r.hook }, { "layer", r.layer }, { "d_sae", r.dSae },
        { "corpus", r.corpusLabel }, { "indexed_tokens", r.indexedTokens },
        { "index_id", r.indexId } };
    j["feature"] = r.feature;
    j["label"] = r.label;
    j["notes"] = r.notes;
    j["explanation"] = nullptr;
    if (!r.explanation.empty()) {
        json scores = json::object();
        for (const auto &[scorer, v] : r.scores)
            scores[scorer] = v;
        j["explanation"] = { { "text", r.explanation }, { "origin", r.explanationOrigin },
            { "model", r.explanationModel }, { "scores", scores } };
    }
    j["lists"] = r.lists;
    j["stats"] = { { "count", r.count }, { "density", r.density }, { "max", r.max },
        { "mean", r.mean }, { "dead", r.dead() } };
    j["histogram"] = { { "lo", r.histLo }, { "hi", r.histHi }, { "counts", r.histogram } };
    j["logits"] = { { "top", effectsJson(r.logitTop) }, { "bottom", effectsJson(r.logitBottom) } };
    j["top_examples"] = json::array();
    for (const auto &e : r.top)
        j["top_examples"].push_back(exampleJson(e));
    j["quantiles"] = json::array();
    for (size_t b = 0; b < r.bands.size(); ++b) {
        json band = { { "band", b }, { "lo", r.bands[b].lo }, { "hi", r.bands[b].hi },
            { "count", r.bands[b].count }, { "examples", json::array() } };
        for (const auto &e : r.quantiles)
            if (e.band == static_cast<int>(b))
                band["examples"].push_back(exampleJson(e));
        j["quantiles"].push_back(std::move(band));
    }
    return j;
}

json reportsJson(const std::vector<FeatureReport> &reports)
{
    json j = { { "schema", kReportSchemaName }, { "version", kReportSchemaVersion },
        { "generator", std::string("featurescope ") + FEATURESCOPE_VERSION },
        { "features", json::array() } };
    for (const auto &r : reports)
        j["features"].push_back(featureReportJson(r));
    return j;
}

std::vector<json> neuronpediaBatches(const std::vector<FeatureReport> &reports,
    const NeuronpediaOptions &options, std::vector<int64_t> *skipped)
{
    // Group by (model, source), keeping the reports' order inside each group.
    std::vector<std::pair<std::string, std::string>> order;
    std::map<std::pair<std::string, std::string>, std::vector<const FeatureReport *>> groups;
    for (const auto &r : reports) {
        if (r.top.empty() && r.quantiles.empty()) {
            if (skipped)
                skipped->push_back(r.feature);
            continue;
        }
        const std::string model
            = options.modelId.empty() ? lower(fileSafe(r.modelName)) : options.modelId;
        // The SAE's directory (or file stem) names the source set better than its label, which
        // often carries the hook in parentheses.
        std::string set = options.sourceSet;
        if (set.empty()) {
            const std::filesystem::path p(r.saePath);
            const std::string stem
                = p.has_filename() ? p.stem().string() : p.parent_path().filename().string();
            set = lower(fileSafe(stem.empty() || stem == "sae" ? r.saeLabel : stem));
            while (!set.empty() && set.back() == '-')
                set.pop_back();
        }
        const auto key
            = std::make_pair(model, std::to_string(std::max<int64_t>(r.layer, 0)) + "-" + set);
        if (!groups.count(key))
            order.push_back(key);
        groups[key].push_back(&r);
    }
    std::vector<json> batches;
    for (const auto &key : order) {
        const auto &members = groups[key];
        for (size_t start = 0; start < members.size(); start += kNeuronpediaBatch) {
            json batch = { { "modelId", key.first }, { "source", key.second },
                { "features", json::array() } };
            for (size_t i = start; i < std::min(members.size(), start + kNeuronpediaBatch); ++i) {
                const FeatureReport &r = *members[i];
                // The format's limits: ≤ 20 logits per side, explanation text ≤ 512, ≤ 1024 tokens.
                json f = { { "index", r.feature }, { "density", r.density },
                    { "topLogits", effectsJson(r.logitTop, 20) },
                    { "bottomLogits", effectsJson(r.logitBottom, 20) },
                    { "explanations", json::array() }, { "activations", json::array() } };
                if (!r.label.empty())
                    f["explanations"].push_back({ { "text", truncateUtf8(r.label, 512) },
                        { "methodName", "featurescope-manual" } });
                // Our own automatic explanation; one imported from Neuronpedia is not sent back.
                if (!r.explanation.empty() && r.explanationOrigin.rfind("neuronpedia", 0) != 0)
                    f["explanations"].push_back({ { "text", truncateUtf8(r.explanation, 512) },
                        { "methodName", "featurescope-autointerp" } });
                auto addActivation = [&](const ReportExample &e, const ReportBand *band) {
                    const size_t n = std::min<size_t>(e.tokens.size(), 1024);
                    json a = { { "tokens",
                                   std::vector<std::string>(
                                       e.tokens.begin(), e.tokens.begin() + static_cast<long>(n)) },
                        { "values",
                            std::vector<float>(
                                e.values.begin(), e.values.begin() + static_cast<long>(n)) } };
                    if (band) {
                        a["quantileMin"] = band->lo;
                        a["quantileMax"] = band->hi;
                        a["quantileFraction"] = r.count > 0
                            ? static_cast<double>(band->count) / static_cast<double>(r.count)
                            : 0.0;
                    }
                    f["activations"].push_back(std::move(a));
                };
                for (const auto &e : r.top)
                    addActivation(e, nullptr);
                for (const auto &e : r.quantiles)
                    if (e.band >= 0 && static_cast<size_t>(e.band) < r.bands.size())
                        addActivation(e, &r.bands[static_cast<size_t>(e.band)]);
                batch["features"].push_back(std::move(f));
            }
            batches.push_back(std::move(batch));
        }
    }
    return batches;
}

} // namespace fscope::core::report
