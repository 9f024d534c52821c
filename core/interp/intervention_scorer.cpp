#include "core/interp/intervention_scorer.h"

#include "core/interp/parallel.h"
#include "core/steer/steering.h"

#include <cctype>
#include <mutex>
#include <random>

namespace fscope::core::interp {

using nlohmann::json;

Result<std::vector<InterventionSample>> interventionSamples(const model::Decoder &decoder,
    const tokenize::Tokenizer &tokenizer, const std::shared_ptr<const sae::Sae> &sae,
    int64_t feature, double featureMax, const std::vector<std::vector<int32_t>> &prompts,
    const InterventionSettings &settings, jobs::Progress *progress)
{
    std::vector<InterventionSample> out;
    for (const auto &p : prompts) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        steer::SteerRequest request;
        // SAE work reads prompts with BOS first (the SAELens convention).
        if (const auto bos = tokenizer.bosId())
            request.prompt.push_back(*bos);
        for (size_t t = 0; t < p.size() && int64_t(t) < settings.promptTokens; ++t)
            request.prompt.push_back(p[t]);
        request.generation.maxNewTokens = settings.newTokens;
        request.generation.temperature = 0;
        steer::SteeringEdit edit;
        edit.kind = steer::EditKind::Add;
        edit.sae = sae;
        edit.feature = feature;
        edit.value = settings.strength * featureMax;
        request.edits.push_back(edit);
        request.topTokens = 1;
        auto r = steer::steer(decoder, request);
        if (!r)
            return r.error();
        std::vector<int64_t> promptOnly(
            request.prompt.begin() + (tokenizer.bosId() ? 1 : 0), request.prompt.end());
        out.push_back({ tokenizer.decode(promptOnly), tokenizer.decode(r->baseTokens),
            tokenizer.decode(r->steeredTokens) });
    }
    return out;
}

namespace {

// "A" or "B" as the judge's whole answer, or its last standalone letter.
std::optional<char> parseChoice(const std::string &reply)
{
    for (size_t i = reply.size(); i-- > 0;) {
        const char c = char(std::toupper(static_cast<unsigned char>(reply[i])));
        if (c != 'A' && c != 'B')
            continue;
        const bool leftOk = i == 0 || !std::isalnum(static_cast<unsigned char>(reply[i - 1]));
        const bool rightOk
            = i + 1 >= reply.size() || !std::isalnum(static_cast<unsigned char>(reply[i + 1]));
        if (leftOk && rightOk)
            return c;
    }
    return std::nullopt;
}

} // namespace

ScoreOutcome scoreIntervention(const std::string &explanation,
    const std::vector<InterventionSample> &samples, const PromptTemplates &templates,
    ChatBackend &backend, const ScoreSettings &settings, jobs::Progress *progress)
{
    ScoreOutcome out;
    out.scorer = "intervention";
    std::mt19937_64 rng(settings.seed ^ 0x69u);
    std::vector<const InterventionSample *> used;
    std::vector<bool> steeredFirst;
    for (const auto &s : samples)
        if (s.base != s.steered) {
            used.push_back(&s);
            steeredFirst.push_back((rng() & 1) != 0);
        }
    out.extra["unchanged"] = samples.size() - used.size();
    out.prompts = int64_t(used.size());
    std::vector<int> correct(used.size(), -1);
    std::vector<json> exchanges(used.size());
    std::mutex mutex;
    parallelFor(int64_t(used.size()), backend.concurrency(), [&](int64_t i) {
        const InterventionSample &s = *used[size_t(i)];
        const bool first = steeredFirst[size_t(i)];
        ChatRequest request;
        request.messages = renderPrompt(templates.intervention,
            { { "explanation", explanation }, { "prompt", s.prompt },
                { "first", first ? s.steered : s.base },
                { "second", first ? s.base : s.steered } });
        request.maxTokens = 8;
        auto reply = backend.complete(request, progress);
        std::lock_guard lock(mutex);
        json exchange
            = { { "messages", messagesJson(request.messages) }, { "steered", first ? "A" : "B" } };
        if (out.record(reply, exchange)) {
            if (auto c = parseChoice(reply->text))
                correct[size_t(i)] = (*c == 'A') == first ? 1 : 0;
            else {
                out.failedPrompts++;
                out.error = "the judge's answer is neither A nor B";
            }
        }
        exchanges[size_t(i)] = std::move(exchange);
    });
    int64_t answered = 0, right = 0;
    for (size_t i = 0; i < used.size(); ++i) {
        out.exchanges.push_back(std::move(exchanges[i]));
        if (correct[i] >= 0) {
            ++answered;
            right += correct[i];
        }
    }
    if (answered > 0)
        out.score = double(right) / double(answered);
    return out;
}

} // namespace fscope::core::interp
