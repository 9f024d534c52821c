#pragma once
// One prompt through the model and an SAE: its tokens, the top features of every token and of
// the whole prompt, and each of those features' activation on every token (for heatmaps).
// Plain data out, so views never touch tensors.

#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/tokenize/tokenizer.h"

#include <map>

namespace fscope::core::analysis {

struct FeatureActivation {
    int64_t feature = 0;
    float value = 0;
};

struct PromptAnalysis {
    std::vector<int64_t> ids;
    std::vector<std::string> tokens; // display text of each token
    std::vector<bool> special; // BOS/EOS: not analysed
    std::vector<std::vector<FeatureActivation>> perToken; // top features of each token
    std::vector<FeatureActivation> prompt; // top features by max over tokens
    std::map<int64_t, std::vector<float>> activations; // feature -> value per token
};

// Runs the prompt (with the tokenizer's BOS policy) up to the SAE's hook and encodes it.
Result<PromptAnalysis> analyzePrompt(const model::Decoder &decoder,
    const tokenize::Tokenizer &tokenizer, const sae::Sae &sae, const std::string &text,
    int64_t topPerToken = 8, int64_t topPrompt = 32);
// The same for token ids (`special`: not analysed, e.g. BOS); `tokens` is left empty.
Result<PromptAnalysis> analyzeIds(const model::Decoder &decoder, const sae::Sae &sae,
    const std::vector<int64_t> &ids, const std::vector<bool> &special, int64_t topPerToken = 8,
    int64_t topPrompt = 32);

} // namespace fscope::core::analysis
