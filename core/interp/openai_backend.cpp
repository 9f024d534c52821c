#include "core/interp/openai_backend.h"

#include "core/net/http.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

namespace fscope::core::interp {
namespace {

using nlohmann::json;

// Bounds the requests in flight across every thread of a job.
class Slots {
public:
    explicit Slots(int n)
        : m_free(std::max(1, n))
    {
    }
    void acquire()
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_free > 0; });
        --m_free;
    }
    void release()
    {
        {
            std::lock_guard lock(m_mutex);
            ++m_free;
        }
        m_cv.notify_one();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_free;
};

// Sleeps `seconds` in short steps so a cancelled job stops waiting at once.
bool sleepUnlessCancelled(double seconds, jobs::Progress *progress)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
        if (progress && progress->cancelled())
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// The server's own error text, short (never the request: it could echo a header).
std::string serverMessage(const std::string &body)
{
    try {
        const json j = json::parse(body);
        if (j.contains("error")) {
            const json &e = j["error"];
            if (e.is_string())
                return e.get<std::string>();
            if (e.is_object() && e.contains("message") && e["message"].is_string())
                return e["message"].get<std::string>();
        }
    } catch (const json::exception &) {
    }
    return body.substr(0, 200);
}

Result<ChatReply> parseReply(const std::string &body)
{
    json j;
    try {
        j = json::parse(body);
    } catch (const json::exception &) {
        return Error { "the server's answer is not JSON" };
    }
    if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array()
        || j["choices"].empty())
        return Error { "the server's answer has no choices" };
    const json &choice = j["choices"][0];
    if (!choice.is_object() || !choice.contains("message") || !choice["message"].is_object())
        return Error { "the server's answer has no message" };
    const json &message = choice["message"];
    ChatReply reply;
    if (message.contains("content") && message["content"].is_string())
        reply.text = message["content"].get<std::string>();
    else
        return Error { "the server's answer has no text content" };
    if (j.contains("usage") && j["usage"].is_object()) {
        const json &u = j["usage"];
        reply.promptTokens = u.value("prompt_tokens", int64_t { 0 });
        reply.completionTokens = u.value("completion_tokens", int64_t { 0 });
    }
    // OpenAI's shape: choices[0].logprobs.content[i] = {token, logprob, top_logprobs[]}.
    if (choice.contains("logprobs") && choice["logprobs"].is_object()
        && choice["logprobs"].contains("content") && choice["logprobs"]["content"].is_array()) {
        for (const json &t : choice["logprobs"]["content"]) {
            if (!t.is_object() || !t.contains("token") || !t["token"].is_string())
                continue;
            reply.tokens.push_back(t["token"].get<std::string>());
            TokenAlternatives alternatives;
            if (t.contains("top_logprobs") && t["top_logprobs"].is_array())
                for (const json &a : t["top_logprobs"])
                    if (a.is_object() && a.contains("token") && a["token"].is_string()
                        && a.contains("logprob") && a["logprob"].is_number())
                        alternatives.emplace_back(
                            a["token"].get<std::string>(), a["logprob"].get<double>());
            if (alternatives.empty() && t.contains("logprob") && t["logprob"].is_number())
                alternatives.emplace_back(reply.tokens.back(), t["logprob"].get<double>());
            reply.logprobs.push_back(std::move(alternatives));
        }
    }
    return reply;
}

class OpenAiBackend final : public ChatBackend {
public:
    explicit OpenAiBackend(OpenAiSettings settings)
        : m_settings(std::move(settings))
        , m_slots(m_settings.concurrency)
    {
        while (!m_settings.endpoint.empty() && m_settings.endpoint.back() == '/')
            m_settings.endpoint.pop_back();
    }

    Result<ChatReply> complete(const ChatRequest &request, jobs::Progress *progress) override
    {
        json body = { { "model", m_settings.model }, { "messages", json::array() },
            { "max_tokens", request.maxTokens }, { "temperature", request.temperature } };
        for (const ChatMessage &m : request.messages)
            body["messages"].push_back({ { "role", m.role }, { "content", m.content } });
        if (request.topLogprobs > 0) {
            body["logprobs"] = true;
            body["top_logprobs"] = request.topLogprobs;
        }
        net::HttpRequest http;
        http.method = "POST";
        http.url = m_settings.endpoint + "/chat/completions";
        http.body = body.dump();
        http.headers = { "Content-Type: application/json", "Accept: application/json", "Expect:" };
        if (const char *key = std::getenv(m_settings.apiKeyEnv.c_str()); key && *key)
            http.headers.push_back(std::string("Authorization: Bearer ") + key);
        http.totalTimeoutSeconds = m_settings.timeoutSeconds;
        http.lowSpeedSeconds = m_settings.timeoutSeconds;
        http.onBytes = [progress](int64_t) { return !(progress && progress->cancelled()); };

        std::string lastProblem;
        double wait = m_settings.backoffSeconds;
        for (int attempt = 0; attempt <= m_settings.retries; ++attempt) {
            if (progress && progress->cancelled())
                return Error { "cancelled" };
            m_slots.acquire();
            auto response = net::httpRequest(http);
            m_slots.release();
            double retryAfter = -1;
            if (!response) {
                if (response.errorMessage() == "cancelled")
                    return response.error();
                lastProblem = response.errorMessage();
            } else if (response->status == 200) {
                auto reply = parseReply(response->body);
                if (reply)
                    return reply;
                lastProblem = http.url + ": " + reply.errorMessage();
            } else {
                lastProblem = http.url + ": HTTP " + std::to_string(response->status) + " ("
                    + serverMessage(response->body) + ")";
                const long s = response->status;
                if (s != 429 && s != 408 && s < 500) // the request itself is wrong: no retry
                    return Error { lastProblem };
                retryAfter = parseRetryAfter(
                    response->header("retry-after"), static_cast<double>(std::time(nullptr)));
            }
            if (attempt == m_settings.retries)
                break;
            const double pause
                = std::min(retryAfter >= 0 ? retryAfter : wait, m_settings.maxBackoffSeconds);
            if (!sleepUnlessCancelled(pause, progress))
                return Error { "cancelled" };
            wait *= 2;
        }
        return Error { lastProblem + " after " + std::to_string(m_settings.retries + 1)
            + " attempts" };
    }

    std::string identity() const override
    {
        return "openai:" + m_settings.model + "@" + m_settings.endpoint;
    }
    std::string modelName() const override { return m_settings.model; }
    int concurrency() const override { return std::max(1, m_settings.concurrency); }

private:
    OpenAiSettings m_settings;
    Slots m_slots;
};

} // namespace

double parseRetryAfter(const std::string &value, double now)
{
    if (value.empty())
        return -1;
    char *end = nullptr;
    const double seconds = std::strtod(value.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(seconds))
        return std::max(0.0, seconds);
    // An HTTP date (RFC 9110 IMF-fixdate): "Wed, 21 Oct 2015 07:28:00 GMT".
    std::tm tm {};
    if (const char *rest = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        rest && *rest == '\0')
        return std::max(0.0, static_cast<double>(timegm(&tm)) - now);
    return -1;
}

Result<std::unique_ptr<ChatBackend>> makeOpenAiBackend(const OpenAiSettings &settings)
{
    if (!net::httpAvailable())
        return Error { "this build has no HTTP client (rebuild with libcurl installed)" };
    if (settings.endpoint.rfind("http://", 0) != 0 && settings.endpoint.rfind("https://", 0) != 0)
        return Error { "the endpoint '" + settings.endpoint
            + "' is not an http:// or https:// URL (e.g. http://127.0.0.1:8080/v1)" };
    if (settings.model.empty())
        return Error { "name the server's model (--llm NAME)" };
    return std::unique_ptr<ChatBackend>(std::make_unique<OpenAiBackend>(settings));
}

} // namespace fscope::core::interp
