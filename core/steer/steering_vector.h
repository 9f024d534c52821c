#pragma once
// Steering vectors: contrastive activation addition from prompt pairs (Rimsky et al. 2024,
// nrimsky/CAA: the mean over pairs of a_L(prompt + positive)[t] - a_L(prompt + negative)[t];
// reference/steering.md 4), loading and saving them (.npy, .safetensors), the activations a
// decomposition compares them with, and re-steering with a rebuilt vector.

#include "core/model/decoder.h"
#include "core/steer/contrast_pairs.h"
#include "core/tokenize/tokenizer.h"

#include <set>
#include <string>
#include <vector>

namespace fscope::core::steer {

// Where a pair's activation is read: the last token, the first completion token (CAA's
// answer token), or the mean over the completion's tokens.
enum class ReadPosition { Last, Answer, CompletionMean };
Result<ReadPosition> parseReadPosition(const std::string &name); // last|answer|mean

struct CaaVector {
    at::Tensor vector; // [d] float32: mean(positives - negatives)
    at::Tensor positives, negatives; // [pairs, d] float32, the activations read
};
Result<CaaVector> buildCaaVector(const model::Decoder &decoder,
    const tokenize::Tokenizer &tokenizer, const std::vector<ContrastPair> &pairs,
    const std::string &hook, ReadPosition position);

// A [d] vector from .npy or .safetensors (the only tensor, or one named "vector" /
// "steering_vector"); [1, d] is accepted. Pickles are refused.
Result<at::Tensor> loadSteeringVector(const std::string &path);
Status saveSteeringVector(const std::string &path, const at::Tensor &vector); // by extension

// Activations at `hook` for [batch, T] contexts at the counted positions only (special tokens,
// separators inside contexts too, dropped; core/metrics): [counted tokens, d].
Result<at::Tensor> hookActivations(const model::Decoder &decoder, const at::Tensor &contexts,
    const std::string &hook, const std::set<int64_t> &specialTokens);

// Steering with v and with its rebuild v_hat (added at every position of `prompt`, times
// `strength`) compared: mean KL(p_vhat || p_v) of the next-token distributions, and both
// runs' KL from the unsteered model. Target: log-prob change of a token at the last position.
struct ResteerComparison {
    double klRebuiltVsOriginal = 0;
    double klOriginalVsBase = 0, klRebuiltVsBase = 0;
    double targetDeltaOriginal = 0, targetDeltaRebuilt = 0; // log p_steered - log p_base
};
Result<ResteerComparison> compareResteer(const model::Decoder &decoder, const std::string &hook,
    const std::vector<int64_t> &prompt, const at::Tensor &original, const at::Tensor &rebuilt,
    double strength, int64_t target = -1);

} // namespace fscope::core::steer
