#pragma once
// SAE files: SAELens (cfg.json + sae_weights.safetensors), Gemma Scope (params.npz) and
// EleutherAI sparsify (cfg.json + sae.safetensors), detected from the path; and SAELens output.

#include "core/model/model_config.h"
#include "core/sae/sae.h"

namespace fscope::core::sae {

struct LoadSaeOptions {
    std::string hookName; // overrides the file's (Gemma Scope paths may not say)
    std::string device = "cpu"; // cpu | cuda | auto
    // The hook matters only where a model runs: work on the weights alone (encode, match,
    // decompose a vector) accepts an SAE whose hook is unknown.
    bool requireHook = true;
};

Result<Sae> loadSae(const std::string &path, const LoadSaeOptions &options = {});

// Every SAE under `dir` (itself one, or any folder below it that loadSae reads), in natural
// order of their paths (layer_2 before layer_10): e.g. all the layers of a downloaded release.
Result<std::vector<std::string>> findSaes(const std::string &dir);

// d_in matches the hook's width, the hook exists in the model, weights are finite.
Status validateSaeForModel(const Sae &sae, const model::ModelConfig &model);

// Writes cfg.json (SAELens v6 keys) + sae_weights.safetensors into `dir` (created).
Status saveSaeLens(const Sae &sae, const std::string &dir);

} // namespace fscope::core::sae
