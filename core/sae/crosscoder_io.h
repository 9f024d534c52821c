#pragma once
// Crosscoders as SAELens writes them (SAELens PR #475, CrosscoderSAE): cfg.json names its
// hooks in `hook_names` and gives d_in per hook; sae_weights.safetensors holds
// W_enc [n, d_in, d_sae], b_enc [d_sae], W_dec [d_sae, n, d_in], b_dec [n, d_in]
// (dictionaries_interp.md A6). Encoding is f = act(sum_l (x_l - b_dec_l) W_enc[l] + b_enc) and
// decoding x_hat_l = f W_dec[:, l, :] + b_dec[l]: flattened over (n, d_in), a standard SAE on
// the hooks' activations concatenated, which is how a crosscoder is held here.

#include "core/sae/sae.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace fscope::core::sae {

// True when a SAELens cfg.json describes a crosscoder (it lists hook_names).
bool isSaeLensCrosscoder(const nlohmann::json &cfg);

// Reads the crosscoder in `dir` whose cfg.json is `cfg`.
Result<Sae> loadSaeLensCrosscoder(const std::string &dir, const nlohmann::json &cfg);

// Writes a crosscoder back in the same form (cfg.json + sae_weights.safetensors).
Status saveSaeLensCrosscoder(const Sae &sae, const std::string &dir);

} // namespace fscope::core::sae
