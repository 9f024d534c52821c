#pragma once
// The one interface every auto-interpretation backend speaks: a chat completion (messages in,
// text and token counts out, optionally the top log-probabilities of each generated token).
// An OpenAI-compatible server and the in-process model both implement it, so the explainer and
// the scorers never know which one answers.

#include "core/jobs/progress.h"
#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fscope::core::interp {

struct ChatMessage {
    std::string role; // system, user or assistant
    std::string content;
};

struct ChatRequest {
    std::vector<ChatMessage> messages;
    int64_t maxTokens = 256;
    double temperature = 0;
    int topLogprobs = 0; // > 0: ask for this many alternatives per generated token
};

// The alternatives at one generated position, most likely first (natural-log probabilities).
using TokenAlternatives = std::vector<std::pair<std::string, double>>;

struct ChatReply {
    std::string text;
    int64_t promptTokens = 0, completionTokens = 0;
    std::vector<std::string> tokens; // the generated tokens, when logprobs were returned
    std::vector<TokenAlternatives> logprobs; // empty when the backend gives none
};

class ChatBackend {
public:
    virtual ~ChatBackend() = default;
    // Safe to call from several threads at once; the backend bounds what runs in parallel.
    // `progress` is polled for cancellation (may be null).
    virtual Result<ChatReply> complete(const ChatRequest &request, jobs::Progress *progress) = 0;
    // What answers, for cache keys and the stored record: "openai:MODEL@ENDPOINT" or
    // "local:MODEL_DIR". Never holds a secret.
    virtual std::string identity() const = 0;
    // The model's name alone, shown beside explanations.
    virtual std::string modelName() const = 0;
    // How many requests the backend runs at once (the job keeps that many busy).
    virtual int concurrency() const = 0;
};

} // namespace fscope::core::interp
