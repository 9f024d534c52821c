#include "core/match/match_series.h"

#include "core/model/hooks.h"
#include "core/sae/sae_io.h"
#include "core/store/fingerprint.h"
#include "core/store/index_store.h"
#include "core/store/result_cache.h"
#include "core/store/sha256.h"
#include "core/util/device_memory.h"
#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

namespace fscope::core::match {
namespace {

std::string hookLabel(const std::string &hook)
{
    const auto parsed = model::parseHookName(hook);
    if (!parsed || parsed->layer < 0)
        return hook;
    std::string point = parsed->point;
    if (point.rfind("hook_", 0) == 0)
        point = point.substr(5);
    return "L" + std::to_string(parsed->layer) + " " + point;
}

nlohmann::json evaluationJson(const SpliceEvaluation &e)
{
    nlohmann::json schemes = nlohmann::json::array();
    for (const auto &s : e.scores)
        schemes.push_back({ { "name", s.name }, { "explained_variance", s.explainedVariance },
            { "delta_ce", s.deltaCe }, { "kl", s.kl }, { "matching_score", s.matchingScore },
            { "tokens", s.tokens }, { "predictions", s.predictions } });
    return { { "base_ce", e.baseCe }, { "tokens", e.tokens }, { "states", e.states },
        { "schemes", schemes } };
}

SpliceEvaluation evaluationFromJson(const nlohmann::json &j)
{
    SpliceEvaluation e;
    e.baseCe = j.at("base_ce").get<double>();
    e.tokens = j.at("tokens").get<int64_t>();
    e.states = j.value("states", int64_t { 0 });
    for (const auto &s : j.at("schemes"))
        e.scores.push_back({ s.at("name").get<std::string>(),
            s.at("explained_variance").get<double>(), s.at("delta_ce").get<double>(),
            s.at("kl").get<double>(), s.at("matching_score").get<double>(),
            s.value("tokens", int64_t { 0 }), s.value("predictions", int64_t { 0 }) });
    return e;
}

nlohmann::json linkToJson(const MatchLink &l)
{
    nlohmann::json j = nlohmann::json::parse(matchResultToJson(l.result));
    j["from"] = l.from;
    j["to"] = l.to;
    j["hook_a"] = l.hookA;
    j["hook_b"] = l.hookB;
    if (l.evaluation)
        j["evaluation"] = evaluationJson(*l.evaluation);
    if (l.overlap)
        j["context_overlap"] = { { "index_a", l.overlap->indexA }, { "index_b", l.overlap->indexB },
            { "pairs", l.overlap->pairs }, { "matched", l.overlap->matched },
            { "good", l.overlap->good }, { "weak", l.overlap->weak },
            { "unmatched", l.overlap->unmatched } };
    if (l.composed)
        j["composed"] = { { "agreement", l.composed->agreement },
            { "composed_total_cost", l.composed->composedTotal },
            { "direct_total_cost", l.composed->directTotal }, { "paired", l.composed->paired } };
    return j;
}

// Throws nlohmann's exceptions on a missing or mistyped key (the callers name the source).
Result<MatchLink> linkFromJson(const nlohmann::json &lj)
{
    MatchLink l;
    l.from = lj.at("from").get<int64_t>();
    l.to = lj.at("to").get<int64_t>();
    l.hookA = lj.at("hook_a").get<std::string>();
    l.hookB = lj.at("hook_b").get<std::string>();
    FS_TRY(l.result, matchResultFromJson(lj.dump()));
    if (lj.contains("evaluation"))
        l.evaluation = evaluationFromJson(lj.at("evaluation"));
    if (lj.contains("context_overlap")) {
        const auto &o = lj.at("context_overlap");
        l.overlap = ContextOverlap { o.at("index_a").get<int64_t>(), o.at("index_b").get<int64_t>(),
            o.at("pairs").get<int64_t>(), o.at("matched").get<double>(), o.at("good").get<double>(),
            o.at("weak").get<double>(), o.at("unmatched").get<double>() };
    }
    if (lj.contains("composed")) {
        const auto &c = lj.at("composed");
        l.composed = ComposedComparison { c.at("agreement").get<double>(),
            c.at("composed_total_cost").get<double>(), c.at("direct_total_cost").get<double>(),
            c.at("paired").get<int64_t>() };
    }
    return l;
}

} // namespace

Result<std::vector<std::string>> orderByLayer(const std::vector<std::string> &paths)
{
    std::vector<std::pair<int64_t, std::string>> keyed;
    for (const auto &p : paths) {
        sae::LoadSaeOptions weightsOnly;
        weightsOnly.requireHook = false;
        auto s = sae::loadSae(p, weightsOnly);
        if (!s.ok())
            return s.error();
        const auto parsed = model::parseHookName(s->config().hookName);
        keyed.emplace_back(parsed ? parsed->layer : -1, p);
    }
    std::stable_sort(keyed.begin(), keyed.end());
    std::vector<std::string> out;
    for (auto &k : keyed)
        out.push_back(k.second);
    return out;
}

Result<std::vector<std::string>> saeDirectories(const std::string &dir)
{
    std::vector<std::string> found;
    FS_TRY(found, sae::findSaes(dir));
    if (found.size() < 2)
        return fileError(
            dir, "holds " + std::to_string(found.size()) + " SAE; matching needs two or more");
    return orderByLayer(found);
}

namespace {

// Every SAE of the series read once before any solve: a bad SAE fails early, and the hooks,
// labels, widths (and fingerprints, for the cache key) come from this one pass.
Result<MatchSeries> inspectSeries(
    const MatchSeriesRequest &request, std::vector<std::string> *fingerprints)
{
    const int64_t count = int64_t(request.saePaths.size());
    if (count < 2)
        return Error { "match: give at least two SAEs" };
    if (request.skip < 1 || request.skip >= count)
        return Error { "match: --skip " + std::to_string(request.skip) + " needs more than "
            + std::to_string(request.skip) + " SAEs" };
    MatchSeries out;
    out.saePaths = request.saePaths;
    out.folded = request.options.fold;
    int64_t dIn = 0;
    // The hooks matter only for the hidden-state evaluation (it runs the model).
    sae::LoadSaeOptions load;
    load.requireHook = request.decoder != nullptr;
    for (int64_t k = 0; k < count; ++k) {
        auto s = sae::loadSae(request.saePaths[k], load);
        if (!s.ok())
            return s.error();
        out.hooks.push_back(s->config().hookName);
        out.labels.push_back(s->config().hookName.empty()
                ? std::filesystem::path(request.saePaths[k]).filename().string()
                : hookLabel(s->config().hookName));
        out.widths.push_back(s->config().dSae);
        if (k == 0)
            dIn = s->config().dIn;
        if (s->config().dIn != dIn)
            return fileError(request.saePaths[k],
                "reads " + std::to_string(s->config().dIn) + " dimensions but "
                    + request.saePaths[0] + " reads " + std::to_string(dIn));
        if (fingerprints)
            fingerprints->push_back(store::fingerprintSae(*s));
    }
    return out;
}

// The links of an inspected series. With skip 1, link l's B is link l + 1's A: it is kept
// instead of being read again.
// Matches each adjacent pair once, composes them along every skip link and compares.
Status compareWithComposed(
    const MatchSeriesRequest &request, MatchSeries &out, jobs::Progress *progress)
{
    sae::LoadSaeOptions lo;
    lo.device = request.device;
    lo.requireHook = request.decoder != nullptr;
    const int64_t layers = int64_t(request.saePaths.size());
    std::vector<std::vector<int64_t>> adjacent(size_t(layers - 1));
    if (progress)
        progress->begin(layers - 1, "Matching adjacent layers to compose");
    std::vector<MatchParameters> params(static_cast<size_t>(layers));
    std::optional<sae::Sae> previous;
    for (int64_t t = 0; t < layers; ++t) {
        if (progress && progress->cancelled())
            return Error { "match: cancelled" };
        sae::Sae current = { {}, {} };
        FS_TRY(current, sae::loadSae(request.saePaths[t], lo));
        params[size_t(t)] = matchParameters(current, request.options.fold);
        if (previous) {
            MatchResult r;
            FS_TRY(r, matchSaes(*previous, current, request.options));
            adjacent[size_t(t - 1)] = r.permutation();
            if (progress)
                progress->advance();
        }
        previous = std::move(current);
    }
    for (auto &link : out.links) {
        std::vector<int64_t> composed = adjacent[size_t(link.from)];
        for (int64_t t = link.from + 1; t < link.to; ++t)
            composed = composePermutations(composed, adjacent[size_t(t)]);
        const std::vector<int64_t> direct = link.result.permutation();
        ComposedComparison c;
        c.directTotal = link.result.totalCost;
        // Folded-decoder MSE of the composed pairs, the quantity the direct total sums.
        const at::Tensor a = params[size_t(link.from)].decoder.to(at::kCPU, at::kFloat);
        const at::Tensor b = params[size_t(link.to)].decoder.to(at::kCPU, at::kFloat);
        std::vector<int64_t> rows, cols;
        int64_t same = 0;
        for (size_t i = 0; i < composed.size(); ++i) {
            if (composed[i] < 0)
                continue;
            rows.push_back(int64_t(i));
            cols.push_back(composed[i]);
            same += i < direct.size() && direct[i] == composed[i];
        }
        c.paired = int64_t(rows.size());
        if (!rows.empty()) {
            const at::Tensor ia = at::tensor(rows, at::kLong), ib = at::tensor(cols, at::kLong);
            const at::Tensor diff = a.index_select(0, ia) - b.index_select(0, ib);
            c.composedTotal = (diff * diff).sum().item<double>() / double(a.size(1));
            c.agreement = double(same) / double(rows.size());
        }
        link.composed = c;
    }
    return {};
}

// Where finished links are kept: the workspace, under a key of the two SAEs' fingerprints and
// what a link's result depends on (not the series around it).
struct LinkCache {
    store::Database *db = nullptr;
    std::vector<std::string> fingerprints; // one per SAE path
    std::vector<std::string> parts; // options and evaluation inputs
    std::string device;

    std::string key(int64_t from, int64_t to) const
    {
        std::vector<std::string> all
            = { "match-link-v1", fingerprints[size_t(from)], fingerprints[size_t(to)] };
        all.insert(all.end(), parts.begin(), parts.end());
        return store::combineFingerprints(all);
    }
};

// A link an earlier run stored, placed at this series' positions; none when absent or
// unreadable (it is then computed again and stored over).
Result<std::optional<MatchLink>> cachedLink(
    const LinkCache &cache, int64_t from, int64_t to, const MatchSeries &out)
{
    std::optional<std::string> hit;
    FS_TRY(hit, store::cachedResult(*cache.db, cache.key(from, to)));
    if (!hit)
        return std::optional<MatchLink> {};
    try {
        auto j = parseJson(*hit, "cached link");
        if (!j)
            return std::optional<MatchLink> {};
        auto link = linkFromJson(*j);
        if (!link)
            return std::optional<MatchLink> {};
        link->from = from;
        link->to = to;
        link->hookA = out.hooks[size_t(from)];
        link->hookB = out.hooks[size_t(to)];
        return std::optional<MatchLink>(std::move(link).value());
    } catch (const std::exception &) {
        return std::optional<MatchLink> {};
    }
}

Status runLinks(const MatchSeriesRequest &request, MatchSeries &out, jobs::Progress *progress,
    const LinkCache *cache = nullptr)
{
    const auto t0 = std::chrono::steady_clock::now();
    sae::LoadSaeOptions lo;
    lo.device = request.device;
    lo.requireHook = request.decoder != nullptr;
    auto load
        = [&](int64_t k) -> Result<sae::Sae> { return sae::loadSae(request.saePaths[k], lo); };
    const int64_t links = int64_t(request.saePaths.size()) - request.skip;
    if (progress)
        progress->begin(links, "Matching SAEs");
    std::optional<sae::Sae> previousB;
    for (int64_t l = 0; l < links; ++l) {
        if (progress && progress->cancelled())
            return Error { "match: cancelled" };
        if (cache) {
            std::optional<MatchLink> done;
            FS_TRY(done, cachedLink(*cache, l, l + request.skip, out));
            if (done) {
                out.links.push_back(std::move(*done));
                ++out.linksFromCache;
                previousB.reset();
                if (progress)
                    progress->advance();
                continue;
            }
        }
        std::optional<sae::Sae> a;
        if (request.skip == 1 && previousB) {
            a = std::move(previousB);
        } else {
            sae::Sae loaded = { {}, {} };
            FS_TRY(loaded, load(l));
            a = std::move(loaded);
        }
        sae::Sae b = { {}, {} };
        FS_TRY(b, load(l + request.skip));
        if (progress)
            progress->setMessage(
                "Matching " + out.labels[l] + " to " + out.labels[l + request.skip]);
        MatchLink link;
        link.from = l;
        link.to = l + request.skip;
        link.hookA = out.hooks[l];
        link.hookB = out.hooks[l + request.skip];
        FS_TRY(link.result, matchSaes(*a, b, request.options));
        if (request.decoder && request.contexts.defined()) {
            std::vector<int64_t> unfolded;
            if (request.options.fold) {
                MatchOptions o = request.options;
                o.fold = false;
                MatchResult r;
                FS_TRY(r, matchSaes(*a, b, o));
                unfolded = r.permutation();
            }
            const auto schemes = standardSchemes(
                request.options.fold ? link.result.permutation() : std::vector<int64_t> {},
                request.options.fold ? unfolded : link.result.permutation(), a->config().dSae);
            SpliceEvaluation e;
            FS_TRY(e,
                evaluateSplices(
                    *request.decoder, *a, b, request.contexts, schemes, request.specialTokens));
            link.evaluation = std::move(e);
        }
        // Stored before the next link starts: a kill loses at most the link in progress.
        if (cache)
            if (auto st = store::storeResult(*cache->db, cache->key(l, l + request.skip),
                    "match-link", linkToJson(link).dump(), cache->device);
                !st)
                return st;
        out.links.push_back(std::move(link));
        previousB = std::move(b);
        if (progress)
            progress->advance();
    }
    if (request.skip > 1 && request.compareComposed)
        if (auto st = compareWithComposed(request, out, progress); !st)
            return st;
    if (request.skip == 1) {
        std::vector<MatchResult> results;
        for (const auto &l : out.links)
            results.push_back(l.result);
        out.chainLengths = chainLengthHistogram(results);
    }
    out.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return {};
}

} // namespace

Result<MatchSeries> runMatchSeries(const MatchSeriesRequest &request, jobs::Progress *progress)
{
    const auto t0 = std::chrono::steady_clock::now();
    MatchSeries out;
    FS_TRY(out, inspectSeries(request, nullptr));
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (auto s = runLinks(request, out, progress); !s)
        return s.error();
    return out;
}

Result<MatchSeries> runMatchSeriesCached(
    store::Database *workspace, const MatchSeriesRequest &request, jobs::Progress *progress)
{
    if (!workspace)
        return runMatchSeries(request, progress);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> fingerprints;
    MatchSeries series;
    FS_TRY(series, inspectSeries(request, &fingerprints));
    series.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // What one link's result depends on besides its two SAEs.
    LinkCache links;
    links.db = workspace;
    links.fingerprints = fingerprints;
    const auto &o = request.options;
    const std::string costs = std::to_string(o.fold) + "|" + matchCostName(o.cost) + "|"
        + std::to_string(o.goodThreshold);
    // Exact solvers agree on the optimum; the approximate one is a different result.
    const std::string approximate = o.solver == MatchSolver::Approximate ? "|approximate" : "";
    links.parts.push_back(costs + approximate);
    if (request.decoder && request.contexts.defined()) {
        const at::Tensor ids = request.contexts.to(at::kCPU, at::kLong).contiguous();
        links.parts.push_back(request.modelFingerprint);
        std::string special = "special";
        for (int64_t t : request.specialTokens)
            special += ":" + std::to_string(t);
        links.parts.push_back(special);
        links.parts.push_back(
            store::sha256Hex(std::string_view(
                static_cast<const char *>(ids.data_ptr()), size_t(ids.numel()) * 8))
            + "|" + std::to_string(ids.size(0)) + "x" + std::to_string(ids.size(1)));
    }
    const auto device = model::resolveDevice(request.device);
    links.device = device.ok() ? util::deviceLabel(*device, at::kFloat) : request.device;
    // v2: special tokens excluded from the hidden-state evaluation (earlier results counted them).
    std::vector<std::string> parts = { "match-series-v2" };
    parts.insert(parts.end(), fingerprints.begin(), fingerprints.end());
    parts.push_back(costs + "|" + std::to_string(request.skip)
        + (request.compareComposed && request.skip > 1 ? "|composed" : "") + approximate);
    parts.insert(parts.end(), links.parts.begin() + 1, links.parts.end());
    const std::string key = store::combineFingerprints(parts);
    std::optional<std::string> hit;
    FS_TRY(hit, store::cachedResult(*workspace, key));
    if (hit) {
        auto stored = matchSeriesFromJson(*hit);
        if (stored.ok()) {
            stored->cached = true;
            if (auto s = addContextOverlap(*workspace, *stored); !s)
                return s.error();
            return stored;
        }
    }
    if (auto s = runLinks(request, series, progress, &links); !s)
        return s.error();
    if (auto s
        = store::storeResult(*workspace, key, "match", matchSeriesToJson(series), links.device);
        !s)
        return s.error();
    if (auto s = addContextOverlap(*workspace, series); !s)
        return s.error();
    return series;
}

namespace {

double jaccard(const std::vector<int64_t> &a, const std::vector<int64_t> &b)
{
    std::vector<int64_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    const double uni = double(a.size() + b.size() - both.size());
    return uni > 0 ? double(both.size()) / uni : 0.0;
}

} // namespace

Status addContextOverlap(store::Database &db, MatchSeries &series)
{
    std::vector<store::IndexInfo> indexes;
    FS_TRY(indexes, store::listIndexes(db));
    // (SAE path, corpus) -> newest finished index.
    std::map<std::pair<std::string, int64_t>, int64_t> byPath;
    for (const auto &i : indexes)
        if (i.status == "done" && !byPath.count({ i.saePath, i.corpusId }))
            byPath[{ i.saePath, i.corpusId }] = i.id;
    for (auto &link : series.links) {
        const std::string &pa = series.saePaths[size_t(link.from)],
                          &pb = series.saePaths[size_t(link.to)];
        for (const auto &[key, idA] : byPath) {
            if (key.first != pa)
                continue;
            const auto itB = byPath.find({ pb, key.second });
            if (itB == byPath.end())
                continue;
            std::map<int64_t, std::vector<int64_t>> ca, cb;
            FS_TRY(ca, store::topExampleContexts(db, idA));
            FS_TRY(cb, store::topExampleContexts(db, itB->second));
            ContextOverlap o;
            o.indexA = idA;
            o.indexB = itB->second;
            int64_t good = 0, weak = 0, unmatched = 0;
            for (const auto &p : link.result.pairs) {
                const auto a = ca.find(p.a);
                if (a == ca.end())
                    continue;
                if (const auto same = cb.find(p.a); same != cb.end()) {
                    o.unmatched += jaccard(a->second, same->second);
                    ++unmatched;
                }
                const auto b = cb.find(p.b);
                if (p.b < 0 || b == cb.end())
                    continue;
                const double j = jaccard(a->second, b->second);
                o.matched += j;
                ++o.pairs;
                (p.good ? o.good : o.weak) += j;
                ++(p.good ? good : weak);
            }
            if (o.pairs)
                o.matched /= double(o.pairs);
            if (good)
                o.good /= double(good);
            if (weak)
                o.weak /= double(weak);
            if (unmatched)
                o.unmatched /= double(unmatched);
            link.overlap = o;
            break;
        }
    }
    return {};
}

std::string matchSeriesToJson(const MatchSeries &s)
{
    nlohmann::json links = nlohmann::json::array();
    for (const auto &l : s.links)
        links.push_back(linkToJson(l));
    return nlohmann::json {
        { "saes", s.saePaths }, { "hooks", s.hooks }, { "labels", s.labels },
        { "widths", s.widths }, { "links", links }, { "chain_lengths", s.chainLengths },
        { "folded", s.folded }, { "seconds", s.seconds }
    }.dump();
}

Result<MatchSeries> matchSeriesFromJson(const std::string &text)
{
    try {
        nlohmann::json j;
        FS_TRY(j, parseJson(text, "match series"));
        MatchSeries s;
        s.saePaths = j.at("saes").get<std::vector<std::string>>();
        s.hooks = j.at("hooks").get<std::vector<std::string>>();
        s.labels = j.at("labels").get<std::vector<std::string>>();
        s.widths = j.at("widths").get<std::vector<int64_t>>();
        s.chainLengths = j.at("chain_lengths").get<std::vector<int64_t>>();
        s.folded = j.at("folded").get<bool>();
        s.seconds = j.at("seconds").get<double>();
        for (const auto &lj : j.at("links")) {
            MatchLink l;
            FS_TRY(l, linkFromJson(lj));
            s.links.push_back(std::move(l));
        }
        return s;
    } catch (const std::exception &e) {
        return Error { std::string("match series: ") + e.what() };
    }
}

} // namespace fscope::core::match
