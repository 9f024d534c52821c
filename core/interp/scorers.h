#pragma once
// The scorers of an explanation, with delphi's definitions (EleutherAI delphi, scorers/
// classifier and log/result_analysis; Paulo et al. 2024, "Automatically interpreting millions of
// features in large language models"):
// - detection: the judge sees the explanation and shuffled activating and non-activating texts,
//   unmarked, five to a prompt, and answers 1/0 per text; balanced accuracy.
// - fuzzing: activating texts with their firing tokens marked and non-activating texts with as
//   many random tokens marked (ceil of the mean firing count); the judge says whether the marks
//   fit the explanation; balanced accuracy.
// - simulation (Bills et al. 2023): the judge predicts a 0-10 level per token; the expected level
//   from the log-probabilities when the backend returns them (else the stated level) is
//   correlated (Pearson, pooled over all texts) with the true activations.
// - intervention: see intervention_scorer.h.

#include "core/interp/chat_backend.h"
#include "core/interp/prompt_templates.h"
#include "core/interp/text_example.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace fscope::core::interp {

struct ScoreSettings {
    int64_t perPrompt = 5; // texts per judge prompt (delphi: 5)
    double markFraction = 0.3; // firing tokens: above this share of the example's max
    int64_t maxTokens = 200;
    uint64_t seed = 0;
};

// One text as the judge saw it, and what it answered.
struct ScoredItem {
    bool activating = false;
    int band = -1; // quantile band of an activating text
    std::string text; // as shown (marked for fuzzing)
    int prediction = -1; // 1, 0, or -1 when the judge's answer could not be read
};

// Everything a score is made of, kept in the workspace.
struct ScoreOutcome {
    std::string scorer;
    std::optional<double> score; // none when no answer could be read
    std::vector<ScoredItem> items;
    int64_t prompts = 0, failedPrompts = 0;
    int64_t transportFailures = 0; // no answer at all (an unreadable answer is not one)
    int64_t promptTokens = 0, completionTokens = 0;
    nlohmann::json exchanges = nlohmann::json::array(); // [{messages, answer}] per prompt
    nlohmann::json extra = nlohmann::json::object(); // scorer-specific numbers
    std::string error; // the last failure, when some prompts failed

    // Records one judge request in `exchange` and the counts: a transport failure, or the
    // answer and its tokens. True when there is an answer to read.
    bool record(const Result<ChatReply> &reply, nlohmann::json &exchange);
};

// (TPR + TNR) / 2 over the items with a prediction; delphi calls it "accuracy". None when
// either class has no answered item.
std::optional<double> balancedAccuracy(const std::vector<ScoredItem> &items);

// The last [..] list of `n` 0/1 numbers in a reply.
std::optional<std::vector<int>> parseBinaryList(const std::string &reply, size_t n);

enum class ClassifierKind { Detection, Fuzzing };

// Detection or fuzzing of `explanation` on the activating and non-activating texts.
ScoreOutcome scoreClassifier(ClassifierKind kind, const std::string &explanation,
    const std::vector<TextExample> &activating, const std::vector<TextExample> &nonActivating,
    const PromptTemplates &templates, ChatBackend &backend, const ScoreSettings &settings,
    jobs::Progress *progress);

// Simulation: one prompt per text; texts with any activation and without.
ScoreOutcome scoreSimulation(const std::string &explanation,
    const std::vector<TextExample> &activating, const std::vector<TextExample> &nonActivating,
    const PromptTemplates &templates, ChatBackend &backend, const ScoreSettings &settings,
    jobs::Progress *progress);

// Pearson correlation; none when either side is constant.
std::optional<double> pearson(const std::vector<double> &a, const std::vector<double> &b);

// The judge's expected level at each line of a simulation reply: from the log-probabilities of
// the first token of each line when present (renormalised over "0".."10"), else the number.
std::vector<double> simulatedLevels(const ChatReply &reply, size_t n, bool *fromLogprobs);

nlohmann::json messagesJson(const std::vector<ChatMessage> &messages);

} // namespace fscope::core::interp
