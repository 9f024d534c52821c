#pragma once
// Dictionary files, detected from the path: SAELens SAEs and transcoders (cfg.json +
// sae_weights.safetensors), Gemma Scope (params.npz), Gemma Scope 2, EleutherAI sparsify SAEs
// and transcoders (cfg.json + sae.safetensors), circuit-tracer transcoders and CLTs, ITDA
// (dictionary_io.h); and SAELens output.

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

// `path` may select one source layer of a per-layer folder: "DIR#layer=L".
Result<Sae> loadSae(const std::string &path, const LoadSaeOptions &options = {});

// What a dictionary (or a whole per-layer folder, without loading every layer) is: the kind,
// sizes and every hook it reads and writes. `sae info`.
struct DictionaryInfo {
    SaeConfig config; // of the dictionary, or of a set's first layer
    std::vector<std::string> hooksIn, hooksOut; // over every layer of a set
    int64_t layers = 1; // source layers (per-layer folders)
};
Result<DictionaryInfo> describeDictionary(const std::string &path, const LoadSaeOptions &options);

// Every SAE under `dir` (itself one, or any folder below it that loadSae reads), in natural
// order of their paths (layer_2 before layer_10): e.g. all the layers of a downloaded release.
Result<std::vector<std::string>> findSaes(const std::string &dir);

// d_in matches the hook's width, the hook exists in the model, weights are finite.
Status validateSaeForModel(const Sae &sae, const model::ModelConfig &model);

// Writes cfg.json (SAELens v6 keys) + sae_weights.safetensors into `dir` (created).
Status saveSaeLens(const Sae &sae, const std::string &dir);

} // namespace fscope::core::sae
