#include "core/steer/steering.h"

#include "core/metrics/metrics.h"
#include "core/sae/sae_metrics.h"

#include <ATen/core/grad_mode.h>
#include <algorithm>
#include <cmath>
#include <set>

namespace fscope::core::steer {

Result<EditKind> parseEditKind(const std::string &name)
{
    static const std::pair<const char *, EditKind> kinds[] = { { "add", EditKind::Add },
        { "clamp", EditKind::Clamp }, { "scale", EditKind::Scale }, { "ablate", EditKind::Ablate },
        { "project", EditKind::Project }, { "reconstruct", EditKind::Reconstruct },
        { "reconstruct-error", EditKind::ReconstructWithError } };
    for (const auto &[n, k] : kinds)
        if (name == n)
            return k;
    return Error { "unknown steering mode '" + name
        + "' (add, clamp, scale, ablate, project, reconstruct, reconstruct-error)" };
}

std::string editKindName(EditKind kind)
{
    switch (kind) {
    case EditKind::Add:
        return "add";
    case EditKind::Clamp:
        return "clamp";
    case EditKind::Scale:
        return "scale";
    case EditKind::Ablate:
        return "ablate";
    case EditKind::Project:
        return "project";
    case EditKind::Reconstruct:
        return "reconstruct";
    case EditKind::ReconstructWithError:
        return "reconstruct-error";
    }
    return "?";
}

namespace {

// Sets feature j of the code and returns the change of the decoded activation, in h's frame
// and dtype; everything the SAE does not capture (the error term) is kept.
at::Tensor featureDelta(const sae::Sae &sae, const at::Tensor &h, int64_t j,
    const std::function<at::Tensor(const at::Tensor &)> &newValue)
{
    const auto shape = h.sizes().vec();
    const at::Tensor x = h.reshape({ -1, sae.config().dIn }).to(sae.device(), sae.dtype());
    sae::InputState state;
    const at::Tensor f = sae.encode(x, &state);
    at::Tensor edited = f.clone();
    edited.select(1, j).copy_(newValue(f.select(1, j)));
    const at::Tensor delta = sae.decode(edited, state) - sae.decode(f, state);
    return delta.reshape(shape).to(h.device(), h.scalar_type());
}

} // namespace

namespace {

bool editsThroughSae(const SteeringEdit &e)
{
    return e.kind == EditKind::Clamp || e.kind == EditKind::Scale || e.kind == EditKind::Ablate
        || (e.kind == EditKind::Add && !e.vector.defined()) || e.kind == EditKind::Reconstruct
        || e.kind == EditKind::ReconstructWithError;
}

// A transcoder's or CLT's feature edit (dictionaries_interp.md A; circuit-tracer's
// interventions): the features are read at the input hook and their writes are edited at
// every output hook, so the MLP's own output (the error term) is kept and only the feature's
// contribution changes: y_b += (f_j' - f_j) W_dec_b[j].
Result<std::vector<std::pair<std::string, model::Intervention>>> writerInterventions(
    const SteeringEdit &e)
{
    const auto sae = e.sae;
    const int64_t j = e.feature;
    const double value = e.value;
    const std::vector<std::string> outputs = sae->config().outputHooks();
    std::vector<std::pair<std::string, model::Intervention>> out;
    // A crosscoder's features read every one of its hooks, the last of them after the first
    // has been written: a one-pass forward can add a feature's decoder rows but cannot know
    // its value at the first hook (that would need a clean pass first).
    if (sae->config().readsSeveralHooks() && e.kind != EditKind::Add)
        return Error { "a crosscoder's features read " + std::to_string(outputs.size()) + " hooks ("
            + sae->config().hookName + " first), so a one-pass forward cannot "
            + editKindName(e.kind) + " them; add a feature's decoder directions instead" };
    if (e.kind == EditKind::Reconstruct || e.kind == EditKind::ReconstructWithError) {
        if (outputs.size() > 1)
            return Error { "one layer of a cross-layer transcoder does not reconstruct a hook by "
                           "itself; edit its features instead" };
        if (e.kind == EditKind::ReconstructWithError) // the prediction plus its error: y
            return out;
        for (auto &[hook, edit] : sae::replacementInterventions(sae, at::Tensor()))
            out.emplace_back(hook,
                hook == sae->config().hookName ? std::move(edit)
                                               : model::atPositions(e.positions, std::move(edit)));
        return out;
    }
    if (e.kind == EditKind::Add) {
        for (size_t b = 0; b < outputs.size(); ++b) {
            const at::Tensor row = sae->decoderBlock(static_cast<int64_t>(b))[j] * value;
            out.emplace_back(outputs[b],
                model::atPositions(
                    e.positions, [row](const at::Tensor &h, const model::HookContext &) {
                        return h + row.to(h.device(), h.scalar_type());
                    }));
        }
        return out;
    }
    // Clamp, scale, ablate: f_j at the input hook, kept for the output hooks of this forward.
    const double c = e.kind == EditKind::Ablate ? 0.0 : value;
    const bool scale = e.kind == EditKind::Scale;
    auto code = std::make_shared<at::Tensor>();
    out.emplace_back(
        sae->config().hookName, [sae, j, code](const at::Tensor &h, const model::HookContext &) {
            const at::Tensor x
                = h.reshape({ -1, sae->config().dIn }).to(sae->device(), sae->dtype());
            *code = sae->encode(x).select(1, j).reshape({ h.size(0), h.size(1) });
            return h;
        });
    for (size_t b = 0; b < outputs.size(); ++b) {
        const at::Tensor row = sae->decoderBlock(static_cast<int64_t>(b))[j];
        out.emplace_back(outputs[b],
            model::atPositions(e.positions,
                [row, code, c, scale](const at::Tensor &y, const model::HookContext &) {
                    const at::Tensor fj = *code;
                    const at::Tensor target = scale ? fj * c : at::full_like(fj, c);
                    const at::Tensor delta = (target - fj).unsqueeze(-1) * row;
                    return y + delta.to(y.device(), y.scalar_type());
                }));
    }
    return out;
}

} // namespace

Result<model::Intervention> makeIntervention(const SteeringEdit &e)
{
    if (e.sae && e.sae->config().writesElsewhere() && editsThroughSae(e) && e.hook.empty())
        return Error { "a " + sae::kindName(e.sae->config().kind)
            + " edit reads one hook and writes another: build it with interventionOptions" };
    const bool needsFeature = e.kind == EditKind::Clamp || e.kind == EditKind::Scale
        || e.kind == EditKind::Ablate || (e.kind == EditKind::Add && !e.vector.defined());
    const bool needsSae = needsFeature || e.kind == EditKind::Reconstruct
        || e.kind == EditKind::ReconstructWithError;
    if (needsSae && !e.sae)
        return Error { editKindName(e.kind) + " needs an SAE" };
    if (needsFeature && (e.feature < 0 || e.feature >= e.sae->config().dSae))
        return Error { "feature " + std::to_string(e.feature) + " is not in the SAE ("
            + std::to_string(e.sae ? e.sae->config().dSae : 0) + " features)" };
    if (e.kind == EditKind::Project && !e.vector.defined())
        return Error { "directional ablation needs a vector" };
    if (e.vector.defined() && e.sae && e.vector.numel() != e.sae->config().dIn)
        return Error { "the vector has " + std::to_string(e.vector.numel())
            + " values; the hook has " + std::to_string(e.sae->config().dIn) };

    model::Intervention edit;
    const auto sae = e.sae;
    const int64_t j = e.feature;
    const double value = e.value;
    switch (e.kind) {
    case EditKind::Add:
        if (e.vector.defined()) {
            const at::Tensor v = e.vector.flatten();
            edit = [v, value](const at::Tensor &h, const model::HookContext &) {
                return h + (v.to(h.device(), h.scalar_type()) * value);
            };
        } else {
            edit = [sae, j, value](const at::Tensor &h, const model::HookContext &) {
                return h + sae->decoderDirection(j).to(h.device(), h.scalar_type()) * value;
            };
        }
        break;
    case EditKind::Clamp:
    case EditKind::Ablate: {
        const double c = e.kind == EditKind::Ablate ? 0.0 : value;
        edit = [sae, j, c](const at::Tensor &h, const model::HookContext &) {
            return h + featureDelta(*sae, h, j, [c](const at::Tensor &fj) {
                return at::full_like(fj, c);
            });
        };
        break;
    }
    case EditKind::Scale:
        edit = [sae, j, value](const at::Tensor &h, const model::HookContext &) {
            return h
                + featureDelta(*sae, h, j, [value](const at::Tensor &fj) { return fj * value; });
        };
        break;
    case EditKind::Project: {
        const at::Tensor unit
            = e.vector.flatten().to(at::kFloat) / e.vector.flatten().to(at::kFloat).norm();
        edit = [unit](const at::Tensor &h, const model::HookContext &) {
            const at::Tensor u = unit.to(h.device());
            const at::Tensor hf = h.to(at::kFloat);
            return (hf - (hf.matmul(u)).unsqueeze(-1) * u).to(h.scalar_type());
        };
        break;
    }
    case EditKind::Reconstruct:
        edit = [sae](const at::Tensor &h, const model::HookContext &) {
            const auto shape = h.sizes().vec();
            return sae->reconstruct(h.reshape({ -1, sae->config().dIn }).to(sae->device()))
                .reshape(shape)
                .to(h.device(), h.scalar_type());
        };
        break;
    case EditKind::ReconstructWithError:
        edit = [](const at::Tensor &h, const model::HookContext &) { return h; };
        break;
    }
    return model::atPositions(e.positions, std::move(edit));
}

Result<model::ForwardOptions> interventionOptions(const std::vector<SteeringEdit> &edits)
{
    model::ForwardOptions o;
    for (const SteeringEdit &e : edits) {
        if (e.sae && e.sae->config().writesElsewhere() && editsThroughSae(e) && e.hook.empty()) {
            if ((e.kind != EditKind::Reconstruct && e.kind != EditKind::ReconstructWithError)
                && (e.feature < 0 || e.feature >= e.sae->config().dSae))
                return Error { "feature " + std::to_string(e.feature) + " is not in the "
                    + sae::kindName(e.sae->config().kind) + " ("
                    + std::to_string(e.sae->config().dSae) + " features)" };
            std::vector<std::pair<std::string, model::Intervention>> parts;
            FS_TRY(parts, writerInterventions(e));
            for (auto &[hook, edit] : parts)
                o.interventions.emplace(hook, std::move(edit));
            continue;
        }
        const std::string hook = !e.hook.empty() ? e.hook
            : e.sae                              ? e.sae->config().hookName
                                                 : std::string();
        if (hook.empty())
            return Error { "a steering edit needs a hook (or an SAE that names one)" };
        model::Intervention i;
        FS_TRY(i, makeIntervention(e));
        o.interventions.emplace(hook, std::move(i));
    }
    return o;
}

namespace {

// Log-softmax of the logits at every position of `ids` with the given edits.
Result<at::Tensor> logProbs(const model::Decoder &decoder, const std::vector<int64_t> &ids,
    const model::ForwardOptions &options)
{
    const at::Tensor t = at::tensor(ids, at::kLong).unsqueeze(0).to(decoder.device());
    auto r = decoder.forward({ t }, options);
    if (!r)
        return r.error();
    return at::log_softmax(r->logits[0].to(at::kCPU, at::kDouble), -1);
}

} // namespace

Result<SteerResult> steer(
    const model::Decoder &decoder, const SteerRequest &request, jobs::Progress *progress)
{
    if (request.prompt.empty())
        return Error { "the prompt is empty" };
    model::ForwardOptions steeredHooks;
    FS_TRY(steeredHooks, interventionOptions(request.edits));
    at::NoGradGuard noGrad;
    if (progress)
        progress->begin(2, "generating without steering");
    // The same seed for both runs: with sampling, differences come from the edit alone.
    model::Generation base, steered;
    FS_TRY(base, model::generate(decoder, { request.prompt }, request.generation, {}, nullptr));
    if (progress) {
        progress->advance();
        progress->setMessage("generating with steering");
    }
    FS_TRY(steered,
        model::generate(decoder, { request.prompt }, request.generation, steeredHooks, nullptr));
    if (progress)
        progress->advance();

    SteerResult out;
    out.baseTokens = base.tokens[0];
    out.steeredTokens = steered.tokens[0];
    // Both models read prompt + steered continuation.
    std::vector<int64_t> seq = request.prompt;
    seq.insert(seq.end(), out.steeredTokens.begin(), out.steeredTokens.end());
    at::Tensor lpBase, lpSteered;
    FS_TRY(lpBase, logProbs(decoder, seq, {}));
    FS_TRY(lpSteered, logProbs(decoder, seq, steeredHooks));
    const at::Tensor kl = metrics::klDivergence(lpSteered, lpBase); // [T] KL(steered || base)
    const int64_t P = static_cast<int64_t>(request.prompt.size()),
                  T = static_cast<int64_t>(seq.size());
    for (int64_t t = 0; t < T; ++t)
        out.kl.push_back(kl[t].item<double>());
    // Positions P-1 .. T-2 predict the continuation; with no continuation, the next token only.
    const int64_t last = std::max(P - 1, T - 2);
    double sum = 0;
    for (int64_t t = P - 1; t <= last; ++t)
        sum += out.kl[static_cast<size_t>(t)];
    out.klMean = sum / double(last - P + 2);

    const at::Tensor nextBase = lpBase[P - 1], nextSteered = lpSteered[P - 1];
    std::set<int64_t> shown;
    for (const at::Tensor &lp : { nextBase, nextSteered }) {
        const at::Tensor idx
            = std::get<1>(lp.topk(std::min<int64_t>(request.topTokens, lp.size(0))));
        for (int64_t i = 0; i < idx.size(0); ++i)
            shown.insert(idx[i].item<int64_t>());
    }
    for (int64_t tok : shown)
        out.nextToken.push_back({ tok, std::exp(nextBase[tok].item<double>()),
            std::exp(nextSteered[tok].item<double>()) });
    std::sort(out.nextToken.begin(), out.nextToken.end(),
        [](const auto &a, const auto &b) { return a.steered > b.steered; });
    for (int64_t target : request.targets) {
        if (target < 0 || target >= nextBase.size(0))
            return Error { "target token " + std::to_string(target)
                + " is outside the vocabulary" };
        out.baseTarget.push_back(nextBase[target].item<double>());
        out.steeredTarget.push_back(nextSteered[target].item<double>());
        out.targetLogProbDelta.push_back(out.steeredTarget.back() - out.baseTarget.back());
    }
    // Fluency proxy: perplexity of the steered continuation under the unsteered model.
    if (!out.steeredTokens.empty()) {
        double nll = 0;
        for (int64_t t = P; t < T; ++t)
            nll -= lpBase[t - 1][seq[static_cast<size_t>(t)]].item<double>();
        out.steeredPerplexityUnderBase = std::exp(nll / double(T - P));
    }
    return out;
}

Result<std::vector<AblationEffect>> ablationStudy(const model::Decoder &decoder,
    const std::shared_ptr<const sae::Sae> &sae, const std::vector<int64_t> &prompt, int64_t topN,
    std::optional<int64_t> target, jobs::Progress *progress)
{
    if (prompt.empty())
        return Error { "the prompt is empty" };
    at::NoGradGuard noGrad;
    const std::string &hook = sae->config().hookName;
    model::ForwardOptions capture;
    capture.capture = { hook };
    const at::Tensor ids = at::tensor(prompt, at::kLong).unsqueeze(0).to(decoder.device());
    auto r = decoder.forward({ ids }, capture);
    if (!r)
        return r.error();
    const int64_t P = static_cast<int64_t>(prompt.size());
    const at::Tensor lastH = r->activations.at(hook)[0][P - 1];
    const at::Tensor f
        = sae->encode(lastH.reshape({ 1, -1 }).to(sae->device()))[0].to(at::kCPU, at::kFloat);
    const at::Tensor baseLp = at::log_softmax(r->logits[0][P - 1].to(at::kCPU, at::kDouble), -1);
    auto [values, features] = f.topk(std::min(topN, f.size(0)));
    std::vector<AblationEffect> out;
    if (progress)
        progress->begin(values.size(0), "ablating features one at a time");
    for (int64_t i = 0; i < values.size(0); ++i) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        if (values[i].item<float>() <= 0)
            break;
        SteeringEdit e;
        e.kind = EditKind::Ablate;
        e.sae = sae;
        e.feature = features[i].item<int64_t>();
        e.positions.kind = model::PositionPolicy::Listed;
        e.positions.positions = { P - 1 };
        model::ForwardOptions o;
        FS_TRY(o, interventionOptions({ e }));
        auto ablated = decoder.forward({ ids }, o);
        if (!ablated)
            return ablated.error();
        const at::Tensor lp
            = at::log_softmax(ablated->logits[0][P - 1].to(at::kCPU, at::kDouble), -1);
        AblationEffect effect { e.feature, values[i].item<float>(), 0,
            (lp.exp() * (lp - baseLp)).sum().item<double>() };
        if (target)
            effect.targetLogProbDelta = lp[*target].item<double>() - baseLp[*target].item<double>();
        out.push_back(effect);
        if (progress)
            progress->advance();
    }
    std::sort(out.begin(), out.end(), [&](const AblationEffect &a, const AblationEffect &b) {
        return target ? std::abs(a.targetLogProbDelta) > std::abs(b.targetLogProbDelta)
                      : a.kl > b.kl;
    });
    return out;
}

} // namespace fscope::core::steer

#include "core/store/fingerprint.h"
#include "core/store/result_cache.h"
#include "core/util/device_memory.h"

#include <nlohmann/json.hpp>

namespace fscope::core::steer {

std::string steerCacheKey(const std::string &modelFingerprint, const std::string &saeFingerprint,
    const SteerRequest &r, at::ScalarType dtype)
{
    nlohmann::json edits = nlohmann::json::array();
    for (const auto &e : r.edits) {
        std::vector<float> vector;
        if (e.vector.defined()) {
            const at::Tensor v = e.vector.to(at::kCPU, at::kFloat).contiguous().flatten();
            vector.assign(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
        }
        edits.push_back(
            { { "kind", editKindName(e.kind) }, { "feature", e.feature }, { "value", e.value },
                { "hook", e.hook }, { "vector", vector }, { "positions", int(e.positions.kind) },
                { "prompt_length", e.positions.promptLength }, { "listed", e.positions.positions },
                { "sae", e.sae ? e.sae->config().hookName : std::string() } });
    }
    const auto &g = r.generation;
    const nlohmann::json params = { { "prompt", r.prompt }, { "edits", edits },
        { "targets", r.targets }, { "top", r.topTokens }, { "max_new", g.maxNewTokens },
        { "temperature", g.temperature }, { "top_k", g.topK }, { "top_p", g.topP },
        { "seed", g.seed }, { "stop", g.stopTokens },
        { "dtype", std::string(c10::toString(dtype)) } };
    return store::combineFingerprints(
        { "steer-v2", modelFingerprint, saeFingerprint, params.dump() });
}

std::string steerResultToJson(const SteerResult &r)
{
    nlohmann::json next = nlohmann::json::array();
    for (const auto &t : r.nextToken)
        next.push_back({ t.token, t.base, t.steered });
    return nlohmann::json {
        { "base_ids", r.baseTokens }, { "steered_ids", r.steeredTokens }, { "kl", r.kl },
        { "kl_mean", r.klMean }, { "next", next }, { "target_delta", r.targetLogProbDelta },
        { "base_target", r.baseTarget }, { "steered_target", r.steeredTarget },
        { "ppl", r.steeredPerplexityUnderBase }
    }.dump();
}

Result<SteerResult> steerResultFromJson(const std::string &text)
{
    try {
        const auto j = nlohmann::json::parse(text);
        SteerResult r;
        r.baseTokens = j.at("base_ids").get<std::vector<int64_t>>();
        r.steeredTokens = j.at("steered_ids").get<std::vector<int64_t>>();
        r.kl = j.at("kl").get<std::vector<double>>();
        r.klMean = j.at("kl_mean").get<double>();
        for (const auto &t : j.at("next"))
            r.nextToken.push_back({ t[0].get<int64_t>(), t[1].get<double>(), t[2].get<double>() });
        r.targetLogProbDelta = j.at("target_delta").get<std::vector<double>>();
        r.baseTarget = j.at("base_target").get<std::vector<double>>();
        r.steeredTarget = j.at("steered_target").get<std::vector<double>>();
        r.steeredPerplexityUnderBase = j.at("ppl").get<double>();
        return r;
    } catch (const std::exception &e) {
        return Error { std::string("cached steering result is unreadable: ") + e.what() };
    }
}

Result<CachedSteer> steerCached(store::Database *workspace, const model::Decoder &decoder,
    const std::string &modelFingerprint, const std::string &saeFingerprint,
    const SteerRequest &request)
{
    CachedSteer out;
    std::string key;
    if (workspace) {
        key = steerCacheKey(modelFingerprint, saeFingerprint, request, decoder.dtype());
        std::optional<std::string> hit;
        FS_TRY(hit, store::cachedResult(*workspace, key));
        if (hit) {
            FS_TRY(out.result, steerResultFromJson(*hit));
            out.cached = true;
            return out;
        }
    }
    FS_TRY(out.result, steer(decoder, request));
    if (workspace)
        if (auto s = store::storeResult(*workspace, key, "steer", steerResultToJson(out.result),
                util::deviceLabel(decoder.device(), decoder.dtype()));
            !s)
            return s.error();
    return out;
}

Result<int64_t> singleToken(const tokenize::Tokenizer &tokenizer, const std::string &text)
{
    const auto ids = tokenizer.encode(text).ids;
    if (ids.size() != 1)
        return Error { "the target '" + text + "' is " + std::to_string(ids.size())
            + " tokens; give a single token (e.g. ' Paris')" };
    return ids[0];
}

} // namespace fscope::core::steer
