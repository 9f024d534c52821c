// featurescope-cli steer / sweep / ablation: generate with and without an SAE-feature edit and
// compare (KL, target log-probs, fluency), over one strength or a range, or rank the prompt's
// active features by the effect of ablating each.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/analysis/index_store.h"
#include "core/analysis/steering.h"
#include "core/model/model_locator.h"
#include "core/sae/sae_io.h"
#include "core/store/fingerprint.h"
#include "core/store/statement.h"
#include "core/tokenize/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace fscope::cli {

using nlohmann::json;

namespace {

const std::set<std::string> kValued = {"model", "sae", "hook", "feature", "strength", "strength-max", "prompt", "max-tokens",
                                       "mode", "positions", "target", "temperature", "top-k", "top-p", "seed", "device",
                                       "dtype", "workspace", "strengths", "top"};

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
    FS_TRY(l.decoder, core::model::Decoder::load(l.modelPath, {o.value("device", "auto"), o.value("dtype", "auto")}));
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
        FS_TRY(id, core::analysis::singleToken(*l.tokenizer, t));
        l.targets.push_back(id);
    }
    return l;
}

core::Result<core::model::PositionPolicy> positions(const Options &o, int64_t promptLength)
{
    core::model::PositionPolicy p;
    p.promptLength = promptLength;
    const std::string v = o.value("positions", "all");
    if (v == "all")
        p.kind = core::model::PositionPolicy::All;
    else if (v == "prompt")
        p.kind = core::model::PositionPolicy::PromptOnly;
    else if (v == "generated")
        p.kind = core::model::PositionPolicy::GeneratedOnly;
    else {
        p.kind = core::model::PositionPolicy::Listed;
        size_t at = 0;
        while (at < v.size()) {
            const size_t comma = v.find(',', at);
            const std::string item = v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
            if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
                return core::Error{"--positions takes all, prompt, generated or a list like 3,4,7"};
            p.positions.push_back(std::stoll(item));
            at = comma == std::string::npos ? v.size() : comma + 1;
        }
    }
    return p;
}

// The feature's max activation from the workspace's newest finished index of this SAE.
core::Result<double> featureMax(core::store::Database &db, const core::sae::Sae &sae, int64_t feature)
{
    core::store::Statement st;
    FS_TRY(st, core::store::Statement::prepare(db, "SELECT f.max FROM feature_stats f JOIN feature_indexes i ON i.id = f.index_id "
                                                   "JOIN artifacts a ON a.id = i.sae_id WHERE a.fingerprint = ?1 AND i.status = 'done' "
                                                   "AND f.feature = ?2 ORDER BY i.id DESC LIMIT 1"));
    st.bind(0, core::analysis::fingerprintSae(sae)).bind(1, feature);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return core::fileError(db.path(), "no index of this SAE: --strength-max needs the feature's max activation (run index first)");
    return st.real(0);
}

std::string text(const Loaded &l, const std::vector<int64_t> &ids)
{
    return l.tokenizer->decode(ids);
}

json resultJson(const Loaded &l, const core::analysis::SteerResult &r)
{
    json next = json::array();
    for (const auto &t : r.nextToken)
        next.push_back({{"token", core::tokenize::sanitizeUtf8(l.tokenizer->tokenBytes(t.token))}, {"id", t.token}, {"base", t.base}, {"steered", t.steered}});
    json targets = json::array();
    for (size_t i = 0; i < l.targets.size(); ++i)
        targets.push_back({{"token", core::tokenize::sanitizeUtf8(l.tokenizer->tokenBytes(l.targets[i]))}, {"id", l.targets[i]},
                           {"base_logprob", r.baseTarget[i]}, {"steered_logprob", r.steeredTarget[i]}, {"delta", r.targetLogProbDelta[i]}});
    return {{"base", text(l, r.baseTokens)}, {"steered", text(l, r.steeredTokens)}, {"base_ids", r.baseTokens},
            {"steered_ids", r.steeredTokens}, {"kl_mean", r.klMean}, {"kl", r.kl}, {"next_token", next}, {"targets", targets},
            {"steered_perplexity_under_base", r.steeredPerplexityUnderBase}};
}

struct SteerSetup {
    core::analysis::SteerRequest request;
    std::unique_ptr<core::store::Database> workspace;
    std::string modelFingerprint, saeFingerprint;
};

core::Result<SteerSetup> setup(const Options &o, const Loaded &l)
{
    SteerSetup s;
    s.request.prompt = l.prompt;
    s.request.targets = l.targets;
    s.request.generation.maxNewTokens = o.integer("max-tokens", 20);
    s.request.generation.temperature = o.number("temperature", 0);
    s.request.generation.topK = o.integer("top-k", 0);
    s.request.generation.topP = o.number("top-p", 1.0);
    s.request.generation.seed = static_cast<uint64_t>(o.integer("seed", 0));
    core::analysis::SteeringEdit e;
    FS_TRY(e.kind, core::analysis::parseEditKind(o.value("mode", "add")));
    e.sae = l.sae;
    e.feature = o.integer("feature", -1);
    FS_TRY(e.positions, positions(o, static_cast<int64_t>(l.prompt.size())));
    s.request.edits.push_back(e);
    if (o.has("workspace")) {
        FS_TRY(s.workspace, core::store::Database::open(workspacePath(o.value("workspace"))));
        FS_TRY(s.modelFingerprint, core::analysis::fingerprintModel(l.modelPath));
        s.saeFingerprint = core::analysis::fingerprintSae(*l.sae);
    }
    return s;
}

// One steering run at `strength`, from the workspace cache when it has it.
core::Result<json> runOne(const Loaded &l, SteerSetup &s, double strength)
{
    s.request.edits[0].value = strength;
    core::analysis::CachedSteer r;
    FS_TRY(r, core::analysis::steerCached(s.workspace.get(), *l.decoder, s.modelFingerprint, s.saeFingerprint, s.request));
    json j = resultJson(l, r.result);
    j["strength"] = strength;
    j["cached"] = r.cached;
    return j;
}

core::Result<double> strength(const Options &o, const Loaded &l, SteerSetup &s)
{
    if (o.has("strength-max")) {
        if (!s.workspace)
            return core::Error{"--strength-max needs --workspace (the feature's max activation comes from its index)"};
        double max = 0;
        FS_TRY(max, featureMax(*s.workspace, *l.sae, o.integer("feature", -1)));
        return o.number("strength-max", 1) * max;
    }
    return o.number("strength", 0);
}

} // namespace

int runSteer(const Args &args)
{
    const Options o(args, kValued, {"json"});
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !o.has("sae") || !o.has("prompt") || (!o.has("feature") && o.value("mode") != "reconstruct"))
        return fail("usage: featurescope-cli steer --model M --sae S --feature F (--strength A | --strength-max K --workspace W) "
                    "--prompt TEXT [--max-tokens 20] [--mode add|clamp|scale|ablate] [--positions all|prompt|generated|3,4] "
                    "[--target TOKEN ...] [--temperature T --seed S] [--json]");
    auto l = load(o);
    if (!l)
        return fail(l.errorMessage());
    auto s = setup(o, *l);
    if (!s)
        return fail(s.errorMessage());
    auto a = strength(o, *l, *s);
    if (!a)
        return fail(a.errorMessage());
    auto j = runOne(*l, *s, *a);
    if (!j)
        return fail(j.errorMessage());
    if (o.has("json")) {
        std::printf("%s\n", j->dump().c_str());
        return 0;
    }
    std::printf("prompt : %s\n", o.value("prompt").c_str());
    std::printf("base   : %s\n", (*j)["base"].get<std::string>().c_str());
    std::printf("steered: %s\n", (*j)["steered"].get<std::string>().c_str());
    std::printf("%s feature %lld by %g: mean KL(steered || base) %.4f nats; steered text perplexity under the base model %.2f%s\n",
                o.value("mode", "add").c_str(), o.integer("feature", -1), *a, (*j)["kl_mean"].get<double>(),
                (*j)["steered_perplexity_under_base"].get<double>(), (*j)["cached"].get<bool>() ? " (cached)" : "");
    std::printf("next token      base    steered\n");
    int shown = 0;
    for (const auto &t : (*j)["next_token"]) {
        if (shown++ == 10)
            break;
        std::printf("  %-12s %6.3f  %6.3f\n", t["token"].get<std::string>().c_str(), t["base"].get<double>(), t["steered"].get<double>());
    }
    for (const auto &t : (*j)["targets"])
        std::printf("target %s: log-prob %+.3f -> %+.3f (%+.3f)\n", t["token"].get<std::string>().c_str(), t["base_logprob"].get<double>(),
                    t["steered_logprob"].get<double>(), t["delta"].get<double>());
    return 0;
}

int runSweep(const Args &args)
{
    const Options o(args, kValued, {"json"});
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !o.has("sae") || !o.has("prompt") || !o.has("feature") || !o.has("strengths"))
        return fail("usage: featurescope-cli sweep --model M --sae S --feature F --prompt TEXT --strengths FROM:TO:COUNT|A,B,C "
                    "[--mode add|clamp|scale] [--target TOKEN ...] [--max-tokens N] [--workspace W] [--json]");
    std::vector<double> strengths;
    const std::string spec = o.value("strengths");
    if (std::count(spec.begin(), spec.end(), ':') == 2) {
        const double from = std::stod(spec.substr(0, spec.find(':')));
        const std::string rest = spec.substr(spec.find(':') + 1);
        const double to = std::stod(rest.substr(0, rest.find(':')));
        const long long count = std::stoll(rest.substr(rest.find(':') + 1));
        if (count < 2 || count > 1000)
            return fail("--strengths FROM:TO:COUNT needs 2 <= COUNT <= 1000");
        for (long long i = 0; i < count; ++i)
            strengths.push_back(from + (to - from) * double(i) / double(count - 1));
    } else {
        size_t at = 0;
        while (at <= spec.size()) {
            const size_t comma = spec.find(',', at);
            strengths.push_back(std::stod(spec.substr(at, comma - at)));
            if (comma == std::string::npos)
                break;
            at = comma + 1;
        }
    }
    auto l = load(o);
    if (!l)
        return fail(l.errorMessage());
    auto s = setup(o, *l);
    if (!s)
        return fail(s.errorMessage());
    json points = json::array();
    for (double a : strengths) {
        auto j = runOne(*l, *s, a);
        if (!j)
            return fail(j.errorMessage());
        points.push_back(*j);
        if (!o.has("json"))
            std::printf("strength %+8.3f  KL %.4f  ppl %7.2f  %s\n", a, (*j)["kl_mean"].get<double>(),
                        (*j)["steered_perplexity_under_base"].get<double>(), (*j)["steered"].get<std::string>().c_str());
    }
    if (o.has("json"))
        std::printf("%s\n", json{{"feature", o.integer("feature", -1)}, {"mode", o.value("mode", "add")}, {"points", points}}.dump().c_str());
    return 0;
}

int runAblation(const Args &args)
{
    const Options o(args, kValued, {"json"});
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !o.has("sae") || !o.has("prompt"))
        return fail("usage: featurescope-cli ablation --model M --sae S --prompt TEXT [--top 20] [--target TOKEN] [--json]");
    auto l = load(o);
    if (!l)
        return fail(l.errorMessage());
    std::optional<int64_t> target;
    if (!l->targets.empty())
        target = l->targets[0];
    auto effects = core::analysis::ablationStudy(*l->decoder, l->sae, l->prompt, o.integer("top", 20), target);
    if (!effects)
        return fail(effects.errorMessage());
    json out = json::array();
    for (const auto &e : *effects)
        out.push_back({{"feature", e.feature}, {"activation", e.activation}, {"target_logprob_delta", e.targetLogProbDelta}, {"kl", e.kl}});
    if (o.has("json")) {
        std::printf("%s\n", json{{"ranked_by", target ? "target" : "kl"}, {"effects", out}}.dump().c_str());
        return 0;
    }
    std::printf("feature  activation  %s\n", target ? "d log p(target)   KL" : "KL");
    for (const auto &e : *effects)
        std::printf("%7lld  %10.3f  %+14.4f  %.5f\n", static_cast<long long>(e.feature), e.activation, e.targetLogProbDelta, e.kl);
    return 0;
}

} // namespace fscope::cli
