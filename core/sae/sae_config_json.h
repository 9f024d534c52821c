#pragma once
// The dictionary formats' configs read into SaeConfig, apart from their weights: SAELens'
// cfg.json (SAEs and transcoders), sparsify's cfg.json and Gemma Scope 2's config.json, and the
// hooks Gemma Scope's release paths name. Nothing here needs LibTorch, so the same code is what
// the loaders run and what the config fuzzer exercises. The loaders then read the weights and
// check their shapes against these sizes; hook names are checked there too (parseHookName).

#include "core/sae/sae_config.h"
#include "core/util/result.h"

#include <nlohmann/json.hpp>

#include <string>

namespace fscope::core::sae {

struct SaeLensConfig {
    SaeConfig config; // sizes, architecture, hooks, preprocessing
    // normalize_activations 'expected_average_only_in': the dataset's scaling factor (in
    // activation_scaler.json) is folded into the weights.
    bool datasetScaled = false;
};
// A SAELens cfg.json (not a crosscoder's; isSaeLensCrosscoder tells them apart).
Result<SaeLensConfig> parseSaeLensConfig(const nlohmann::json &cfg, const std::string &cfgFile);

struct SparsifyConfig {
    SaeConfig config; // architecture TopK; k 0 means sparsify's default (32)
    bool skipConnection = false;
};
// A sparsify cfg.json in the folder `folder` ("layers.6", "layers.6.mlp", "embed_tokens"),
// whose name says the hook.
Result<SparsifyConfig> parseSparsifyConfig(
    const nlohmann::json &cfg, const std::string &cfgFile, const std::string &folder);

struct GemmaScope2Config {
    std::string modelName;
    std::string hookIn, hookOut; // the hooks the module paths name; empty when none is named
    bool distinctOutput = false; // hf_hook_point_out names another module (a transcoder)
};
Result<GemmaScope2Config> parseGemmaScope2Config(
    const nlohmann::json &cfg, const std::string &cfgFile);

// A Hugging Face module path ("model.layers.12.post_feedforward_layernorm.output") as the hook
// it captures ("blocks.12.hook_mlp_out"); empty when no hook point corresponds.
std::string hookFromModulePath(const std::string &module);

// The hook a Gemma Scope release path names (".../gemma-scope-2b-pt-res/layer_12/...": the
// residual stream after layer 12); empty when the path names no layer.
std::string gemmaScopeHook(const std::string &path);

} // namespace fscope::core::sae
