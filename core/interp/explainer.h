#pragma once
// The explainer: one prompt per feature built from its stored examples, as delphi's
// DefaultExplainer builds it (examples with the firing tokens marked <<...>>, optionally each
// example's firing tokens with their 0-10 levels, and the tokens the feature promotes), and the
// explanation read back from the "[EXPLANATION]:" line of the answer.

#include "core/interp/prompt_templates.h"
#include "core/interp/text_example.h"

namespace fscope::core::interp {

struct ExplainerSettings {
    int64_t topExamples = 20; // the strongest examples shown
    int64_t bandExamples = 1; // plus this many from each quantile band (kept out of scoring)
    double markFraction = 0.3;
    bool showActivations = false; // delphi's activations=True
    int64_t logitTokens = 10; // promoted tokens listed (0: none)
    int64_t maxTokens = 300;
    double temperature = 0;
};

// `latentMax`: the feature's max activation (for the levels); `promoted`: token texts from
// the dashboard's top logit effects.
std::vector<ChatMessage> explainerPrompt(const std::vector<TextExample> &examples, float latentMax,
    const std::vector<std::string> &promoted, const PromptTemplates &templates,
    const ExplainerSettings &settings);

// The text after the last "[EXPLANATION]:" (one line, trimmed). An answer without the tag is
// accepted when it is a single short line; anything else is an error.
Result<std::string> parseExplanation(const std::string &answer);

} // namespace fscope::core::interp
