#pragma once
// Text generation with the KV cache: greedy or sampled (temperature, top-k, top-p) with a seed,
// stop tokens, a batch of prompts (left-padded). Interventions given in the options apply to
// the prompt and to every generated token (never skipped under the cache):
// HookContext.positionOffset is the cache column of the activation's first token, so with one
// prompt of length P the prompt is columns [0, P) and generated token n sits at column P + n.

#include "core/jobs/progress.h"
#include "core/model/decoder.h"

namespace fscope::core::model {

struct GenerateOptions {
    int64_t maxNewTokens = 32;
    double temperature = 0; // 0 = greedy
    int64_t topK = 0; // 0 = off
    double topP = 1.0; // 1 = off
    uint64_t seed = 0;
    std::vector<int64_t> stopTokens;
};

struct Generation {
    std::vector<std::vector<int64_t>> tokens; // generated ids per prompt (stop token included)
    at::Tensor firstLogits; // [batch, vocab] float32: the next-token logits after the prompt
};

// Prompts may differ in length. Deterministic for a given seed, on any device.
Result<Generation> generate(const Decoder &decoder,
    const std::vector<std::vector<int64_t>> &prompts, const GenerateOptions &options,
    const ForwardOptions &hooks = {}, jobs::Progress *progress = nullptr);

// Picks the next token from float32 logits [vocab] with the options' sampling rule.
int64_t sampleToken(
    const at::Tensor &logits, const GenerateOptions &options, at::Generator &generator);

} // namespace fscope::core::model
