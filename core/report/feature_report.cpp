#include "core/report/feature_report.h"

#include "core/jobs/progress.h"
#include "core/store/feature_lists.h"
#include "core/store/index_store.h"
#include "core/store/interp_store.h"
#include "core/tokenize/tokenizer.h"

#include <cstdio>
#include <filesystem>
#include <map>

namespace fscope::core::report {

struct TokenNamer::State {
    std::unique_ptr<tokenize::Tokenizer> tokenizer;
};

TokenNamer::TokenNamer(const std::string &modelPath)
    : m_state(std::make_unique<State>())
{
    if (auto t = tokenize::loadTokenizer(modelPath))
        m_state->tokenizer = std::move(t).value();
}

TokenNamer::~TokenNamer() = default;

std::string TokenNamer::operator()(int32_t id) const
{
    const auto *tok = m_state->tokenizer.get();
    if (!tok)
        return "#" + std::to_string(id);
    if (tok->bosId() && *tok->bosId() == id)
        return "<bos>";
    if (tok->eosId() && *tok->eosId() == id)
        return "<eos>";
    return tokenize::sanitizeUtf8(tok->tokenBytes(id));
}

std::string displayToken(const std::string &token)
{
    std::string out;
    out.reserve(token.size());
    for (char c : token) {
        if (c == '\n')
            out += "\u21b5";
        else if (c == '\t')
            out += "\u2192";
        else if (c != '\r')
            out += c;
    }
    return out;
}

std::string formatNumber(const char *printfFormat, double value)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, printfFormat, value);
    return buf;
}

std::string fileSafe(const std::string &text)
{
    std::string out;
    for (char c : text) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '-' || c == '_' || c == '.';
        out += keep ? c : '-';
    }
    return out.empty() ? std::string("feature") : out;
}

namespace {

ReportExample toReport(const store::ExampleView &e, const TokenNamer &names)
{
    ReportExample r;
    r.rank = e.rank;
    r.band = e.kind == 1 ? e.band : -1;
    r.value = e.value;
    r.context = e.context;
    r.maxPos = e.maxPos;
    r.tokens.reserve(e.ids.size());
    for (int32_t id : e.ids)
        r.tokens.push_back(names(id));
    r.values = e.activations;
    return r;
}

TokenEffects toReport(const store::TokenValues &list, const TokenNamer &names)
{
    TokenEffects out;
    for (const auto &[id, v] : list)
        out.emplace_back(names(id), v);
    return out;
}

} // namespace

Result<std::vector<FeatureReport>> buildFeatureReports(store::Database &db, int64_t indexId,
    const std::vector<int64_t> &features, jobs::Progress *progress)
{
    store::IndexInfo info;
    FS_TRY(info, store::indexInfo(db, indexId));
    std::vector<store::FeatureList> lists;
    FS_TRY(lists, store::featureLists(db));
    std::map<int64_t, std::string> listNames;
    for (const auto &l : lists)
        listNames[l.id] = l.name;
    const TokenNamer names(info.modelPath);
    if (progress)
        progress->begin(static_cast<int64_t>(features.size()),
            "Reading " + std::to_string(features.size()) + " features");

    std::vector<FeatureReport> reports;
    reports.reserve(features.size());
    for (int64_t feature : features) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        if (feature < 0 || feature >= info.dSae)
            return Error { "feature " + std::to_string(feature) + " is outside " + info.saeLabel
                + " (0.." + std::to_string(info.dSae - 1) + ")" };
        store::FeatureDashboard d;
        FS_TRY(d, store::loadFeatureDashboard(db, indexId, feature));
        FeatureReport r;
        r.indexId = indexId;
        r.saeId = info.saeId;
        r.modelPath = info.modelPath;
        r.modelName = std::filesystem::path(info.modelPath).filename().string();
        if (r.modelName.empty())
            r.modelName = std::filesystem::path(info.modelPath).parent_path().filename().string();
        r.saeLabel = info.saeLabel;
        r.saePath = info.saePath;
        r.hook = info.hook;
        r.corpusLabel = info.corpusLabel;
        r.layer = info.layer;
        r.dSae = info.dSae;
        r.indexedTokens = info.tokens;
        r.feature = feature;
        r.label = d.label;
        r.notes = d.notes;
        std::optional<store::FeatureExplanation> explained;
        FS_TRY(explained, store::latestExplanation(db, info.saeId, feature));
        if (explained) {
            r.explanation = explained->explanation.explanation;
            r.explanationOrigin = explained->explanation.origin;
            r.explanationModel = explained->explanation.llm;
            for (const auto &s : explained->scores)
                if (s.score)
                    r.scores.emplace_back(s.scorer, *s.score);
        }
        std::vector<int64_t> holding;
        FS_TRY(holding, store::listsContaining(db, info.saeId, feature));
        for (int64_t id : holding)
            r.lists.push_back(listNames[id]);
        r.count = d.count;
        r.density = d.density;
        r.mean = d.mean;
        r.max = d.max;
        r.histLo = d.histLo;
        r.histHi = d.histHi;
        r.histogram = d.histogram;
        for (const auto &b : d.bands)
            r.bands.push_back({ b.lo, b.hi, b.count });
        r.logitTop = toReport(d.logitTop, names);
        r.logitBottom = toReport(d.logitBottom, names);
        for (const auto &e : d.top)
            r.top.push_back(toReport(e, names));
        for (const auto &e : d.quantiles)
            r.quantiles.push_back(toReport(e, names));
        reports.push_back(std::move(r));
        if (progress)
            progress->advance();
    }
    return reports;
}

} // namespace fscope::core::report
