#include "core/interp/scorers.h"

#include "core/interp/parallel.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <random>

namespace fscope::core::interp {

using nlohmann::json;

json messagesJson(const std::vector<ChatMessage> &messages)
{
    json out = json::array();
    for (const auto &m : messages)
        out.push_back({ { "role", m.role }, { "content", m.content } });
    return out;
}

bool ScoreOutcome::record(const Result<ChatReply> &reply, json &exchange)
{
    if (!reply) {
        failedPrompts++;
        transportFailures++;
        error = reply.errorMessage();
        exchange["error"] = reply.errorMessage();
        return false;
    }
    promptTokens += reply->promptTokens;
    completionTokens += reply->completionTokens;
    exchange["answer"] = reply->text;
    return true;
}

std::optional<double> balancedAccuracy(const std::vector<ScoredItem> &items)
{
    int64_t tp = 0, fn = 0, tn = 0, fp = 0;
    for (const auto &i : items) {
        if (i.prediction < 0)
            continue;
        if (i.activating)
            (i.prediction == 1 ? tp : fn)++;
        else
            (i.prediction == 0 ? tn : fp)++;
    }
    if (tp + fn == 0 || tn + fp == 0)
        return std::nullopt;
    return 0.5 * (double(tp) / double(tp + fn) + double(tn) / double(tn + fp));
}

std::optional<std::vector<int>> parseBinaryList(const std::string &reply, size_t n)
{
    // The last bracketed list wins: a judge may think aloud before answering.
    size_t close = reply.rfind(']');
    while (close != std::string::npos) {
        const size_t open = reply.rfind('[', close);
        if (open == std::string::npos)
            break;
        std::vector<int> values;
        bool clean = true;
        for (size_t at = open + 1; at < close; ++at) {
            const char c = reply[at];
            if (c == '0' || c == '1') {
                if (at + 1 < close && std::isdigit(static_cast<unsigned char>(reply[at + 1]))) {
                    clean = false;
                    break;
                }
                values.push_back(c - '0');
            } else if (!(c == ',' || std::isspace(static_cast<unsigned char>(c)))) {
                clean = false;
                break;
            }
        }
        if (clean && values.size() == n)
            return values;
        if (open == 0)
            break;
        close = reply.rfind(']', open - 1);
    }
    return std::nullopt;
}

namespace {

// Marks `count` random tokens of a non-activating text (delphi's fuzzing negatives).
std::vector<bool> randomMarks(const TextExample &e, int64_t count, std::mt19937_64 &rng)
{
    std::vector<size_t> order(e.tokens.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<bool> marks(e.tokens.size(), false);
    for (int64_t i = 0; i < count && i < int64_t(order.size()); ++i)
        marks[order[size_t(i)]] = true;
    return marks;
}

} // namespace

ScoreOutcome scoreClassifier(ClassifierKind kind, const std::string &explanation,
    const std::vector<TextExample> &activating, const std::vector<TextExample> &nonActivating,
    const PromptTemplates &templates, ChatBackend &backend, const ScoreSettings &settings,
    jobs::Progress *progress)
{
    ScoreOutcome out;
    out.scorer = kind == ClassifierKind::Detection ? "detection" : "fuzzing";
    std::mt19937_64 rng(settings.seed ^ (kind == ClassifierKind::Detection ? 0x64u : 0x66u));
    // delphi: n = ceil(mean number of non-zero tokens per activating test example).
    double firing = 0;
    for (const auto &e : activating)
        for (float a : e.activations)
            firing += a > 0 ? 1 : 0;
    const int64_t randomCount = activating.empty()
        ? 1
        : std::max<int64_t>(1, int64_t(std::ceil(firing / double(activating.size()))));
    for (const auto &e : activating) {
        ScoredItem item;
        item.activating = true;
        item.band = e.band;
        item.text = kind == ClassifierKind::Detection
            ? plainText(e)
            : markedText(e, firingTokens(e, settings.markFraction));
        out.items.push_back(std::move(item));
    }
    for (const auto &e : nonActivating) {
        ScoredItem item;
        item.text = kind == ClassifierKind::Detection
            ? plainText(e)
            : markedText(e, randomMarks(e, randomCount, rng));
        out.items.push_back(std::move(item));
    }
    std::shuffle(out.items.begin(), out.items.end(), rng);
    out.extra["random_marks"] = randomCount;

    const PromptTemplate &prompt
        = kind == ClassifierKind::Detection ? templates.detection : templates.fuzzing;
    const int64_t per = std::max<int64_t>(1, settings.perPrompt);
    const int64_t prompts = (int64_t(out.items.size()) + per - 1) / per;
    out.prompts = prompts;
    out.exchanges = json::array();
    std::vector<json> exchanges(static_cast<size_t>(prompts));
    std::mutex mutex;
    parallelFor(prompts, backend.concurrency(), [&](int64_t p) {
        const int64_t from = p * per, to = std::min<int64_t>(from + per, int64_t(out.items.size()));
        std::string texts;
        for (int64_t i = from; i < to; ++i)
            texts += "Text " + std::to_string(i - from + 1) + ": " + out.items[size_t(i)].text
                + (i + 1 < to ? "\n" : "");
        ChatRequest request;
        request.messages = renderPrompt(prompt,
            { { "explanation", explanation }, { "examples", texts },
                { "count", std::to_string(to - from) } });
        request.maxTokens = settings.maxTokens;
        auto reply = backend.complete(request, progress);
        std::lock_guard lock(mutex);
        json exchange = { { "messages", messagesJson(request.messages) } };
        if (out.record(reply, exchange)) {
            // An unreadable answer voids its whole prompt (delphi: None for the batch).
            if (auto values = parseBinaryList(reply->text, size_t(to - from))) {
                for (int64_t i = from; i < to; ++i)
                    out.items[size_t(i)].prediction = (*values)[size_t(i - from)];
            } else {
                out.failedPrompts++;
                out.error = "the judge's answer is not a list of " + std::to_string(to - from)
                    + " zeros and ones";
            }
        }
        exchanges[size_t(p)] = std::move(exchange);
    });
    for (auto &e : exchanges)
        out.exchanges.push_back(std::move(e));
    out.score = balancedAccuracy(out.items);
    return out;
}

std::optional<double> pearson(const std::vector<double> &a, const std::vector<double> &b)
{
    const size_t n = std::min(a.size(), b.size());
    if (n < 2)
        return std::nullopt;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; ++i) {
        ma += a[i];
        mb += b[i];
    }
    ma /= double(n);
    mb /= double(n);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (saa <= 0 || sbb <= 0)
        return std::nullopt;
    return sab / std::sqrt(saa * sbb);
}

namespace {

std::optional<int> levelOf(std::string token)
{
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front())))
        token.erase(token.begin());
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
        token.pop_back();
    if (token.empty() || token.size() > 2)
        return std::nullopt;
    for (char c : token)
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return std::nullopt;
    const int v = std::stoi(token);
    return v <= 10 ? std::optional<int>(v) : std::nullopt;
}

} // namespace

std::vector<double> simulatedLevels(const ChatReply &reply, size_t n, bool *fromLogprobs)
{
    std::vector<double> levels;
    *fromLogprobs = false;
    if (!reply.logprobs.empty() && reply.logprobs.size() == reply.tokens.size()) {
        // Bills et al.: at each prediction, renormalise p over "0".."10" and take sum v p(v).
        bool lineStart = true;
        for (size_t t = 0; t < reply.tokens.size() && levels.size() < n; ++t) {
            const std::string &tok = reply.tokens[t];
            if (lineStart && levelOf(tok)) {
                double mass = 0, ev = 0;
                for (const auto &[alt, lp] : reply.logprobs[t])
                    if (auto v = levelOf(alt)) {
                        mass += std::exp(lp);
                        ev += *v * std::exp(lp);
                    }
                levels.push_back(mass > 0 ? ev / mass : double(*levelOf(tok)));
                lineStart = false;
            }
            if (tok.find('\n') != std::string::npos)
                lineStart = true;
        }
        if (levels.size() == n) {
            *fromLogprobs = true;
            return levels;
        }
        levels.clear();
    }
    size_t at = 0;
    const std::string &text = reply.text;
    while (at <= text.size() && levels.size() < n) {
        const size_t end = std::min(text.find('\n', at), text.size());
        std::string line = text.substr(at, end - at);
        // "7", "3. 7", "token<TAB>7": the last number on the line.
        size_t digits = line.find_last_of("0123456789");
        if (digits != std::string::npos) {
            size_t first = digits;
            while (first > 0 && std::isdigit(static_cast<unsigned char>(line[first - 1])))
                --first;
            if (auto v = levelOf(line.substr(first, digits - first + 1)))
                levels.push_back(*v);
        }
        at = end + 1;
    }
    return levels;
}

ScoreOutcome scoreSimulation(const std::string &explanation,
    const std::vector<TextExample> &activating, const std::vector<TextExample> &nonActivating,
    const PromptTemplates &templates, ChatBackend &backend, const ScoreSettings &settings,
    jobs::Progress *progress)
{
    ScoreOutcome out;
    out.scorer = "simulation";
    std::vector<const TextExample *> texts;
    for (const auto &e : activating)
        texts.push_back(&e);
    for (const auto &e : nonActivating)
        texts.push_back(&e);
    out.prompts = int64_t(texts.size());
    std::vector<std::vector<double>> predicted(texts.size());
    std::vector<json> exchanges(texts.size());
    std::mutex mutex;
    int64_t fromLogprobs = 0;
    parallelFor(int64_t(texts.size()), backend.concurrency(), [&](int64_t i) {
        const TextExample &e = *texts[size_t(i)];
        std::string tokens;
        for (size_t t = 0; t < e.tokens.size(); ++t) {
            std::string tok = e.tokens[t];
            for (char &c : tok)
                if (c == '\n' || c == '\r' || c == '\t')
                    c = ' ';
            tokens += std::to_string(t + 1) + ". " + tok + "\n";
        }
        ChatRequest request;
        request.messages = renderPrompt(templates.simulation,
            { { "explanation", explanation }, { "tokens", tokens },
                { "count", std::to_string(e.tokens.size()) } });
        request.maxTokens
            = std::max<int64_t>(settings.maxTokens, int64_t(e.tokens.size()) * 4 + 16);
        request.topLogprobs = 5;
        auto reply = backend.complete(request, progress);
        std::lock_guard lock(mutex);
        json exchange = { { "messages", messagesJson(request.messages) } };
        if (out.record(reply, exchange)) {
            bool viaLogprobs = false;
            auto levels = simulatedLevels(*reply, e.tokens.size(), &viaLogprobs);
            if (levels.size() == e.tokens.size()) {
                predicted[size_t(i)] = std::move(levels);
                fromLogprobs += viaLogprobs ? 1 : 0;
                exchange["predicted"] = predicted[size_t(i)];
            } else {
                out.failedPrompts++;
                out.error = "the judge gave " + std::to_string(levels.size()) + " levels for "
                    + std::to_string(e.tokens.size()) + " tokens";
            }
        }
        exchanges[size_t(i)] = std::move(exchange);
    });
    std::vector<double> truth, guess;
    for (size_t i = 0; i < texts.size(); ++i) {
        out.exchanges.push_back(std::move(exchanges[i]));
        if (predicted[i].empty())
            continue;
        for (size_t t = 0; t < texts[i]->tokens.size(); ++t) {
            truth.push_back(texts[i]->activations[t]);
            guess.push_back(predicted[i][t]);
        }
    }
    out.score = pearson(guess, truth);
    out.extra["expected_values_from_logprobs"] = fromLogprobs;
    out.extra["tokens"] = truth.size();
    return out;
}

} // namespace fscope::core::interp
