#pragma once
// Streams hook activations from a model over token contexts for SAE training: forwards a few
// contexts at a time (stopping after the hook's layer), drops special tokens, shuffles within a
// bounded buffer, and cycles through the contexts as often as the trainer asks.

#include "core/model/decoder.h"
#include "core/sae/sae_trainer.h"

#include <set>

namespace fscope::core::sae {

struct ActivationStreamOptions {
    std::string hookName;
    std::set<int64_t> specialTokens;
    int64_t contextsPerForward = 8;
    int64_t bufferTokens = 1 << 16;
    uint64_t seed = 0;
};

// The decoder and contexts must outlive the returned source.
ActivationSource activationsFromModel(const model::Decoder &decoder,
    const std::vector<std::vector<int64_t>> &contexts, const ActivationStreamOptions &options);

} // namespace fscope::core::sae
