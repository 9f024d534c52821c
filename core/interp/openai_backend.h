#pragma once
// A chat-completions client for any OpenAI-compatible server (llama.cpp's server, vLLM,
// Ollama, LM Studio, hosted APIs), over libcurl. The key is read from an environment variable
// at each request and goes only into the Authorization header: never into a result, an error
// message or the workspace. Transient failures (connection errors, timeouts, HTTP 429 and 5xx,
// an unreadable answer) are retried with exponential backoff, honouring Retry-After.

#include "core/interp/chat_backend.h"

#include <memory>

namespace fscope::core::interp {

struct OpenAiSettings {
    std::string endpoint; // base URL, e.g. http://127.0.0.1:8080/v1 (/chat/completions is added)
    std::string model;
    std::string apiKeyEnv = "OPENAI_API_KEY"; // unset or empty variable: no Authorization header
    int concurrency = 4; // requests in flight at once
    long timeoutSeconds = 120; // per request
    int retries = 4; // after the first attempt
    double backoffSeconds = 1.0; // the first wait, doubled after each failure
    double maxBackoffSeconds = 60; // also caps a server's Retry-After
};

Result<std::unique_ptr<ChatBackend>> makeOpenAiBackend(const OpenAiSettings &settings);

// Seconds a Retry-After header asks for (delta-seconds or an HTTP date); negative when absent
// or unreadable. `now` is the current Unix time (for dates).
double parseRetryAfter(const std::string &value, double now);

} // namespace fscope::core::interp
