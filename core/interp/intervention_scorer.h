#pragma once
// The intervention score (Paulo et al. 2024, section 3.3.5; delphi's intervention scorer): an
// explanation of an output feature should predict what the model writes when the feature is
// strengthened. The model continues a few neutral prompts from the corpus twice, without and
// with the feature added at every position (our steering engine, strength in multiples of the
// feature's max activation); the judge sees both continuations in a random order and says
// which one the explanation predicts. Score: the share of prompts where it picks the steered
// one (0.5 is chance). Activation-based scores miss features that act on the output.

#include "core/interp/chat_backend.h"
#include "core/interp/prompt_templates.h"
#include "core/interp/scorers.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/tokenize/tokenizer.h"

#include <memory>

namespace fscope::core::interp {

struct InterventionSettings {
    int64_t prompts = 3;
    int64_t promptTokens = 8; // tokens of each corpus window used as the prompt
    int64_t newTokens = 12;
    double strength = 5; // times the feature's max activation
};

struct InterventionSample {
    std::string prompt, base, steered;
};

// Model work (the job's own thread): the continuations of each prompt.
Result<std::vector<InterventionSample>> interventionSamples(const model::Decoder &decoder,
    const tokenize::Tokenizer &tokenizer, const std::shared_ptr<const sae::Sae> &sae,
    int64_t feature, double featureMax, const std::vector<std::vector<int32_t>> &prompts,
    const InterventionSettings &settings, jobs::Progress *progress);

// The judge's part. Prompts whose two continuations are identical are left out.
ScoreOutcome scoreIntervention(const std::string &explanation,
    const std::vector<InterventionSample> &samples, const PromptTemplates &templates,
    ChatBackend &backend, const ScoreSettings &settings, jobs::Progress *progress);

} // namespace fscope::core::interp
