#pragma once
// One dictionary type for every architecture and kind (sae_config.h): encode (dense or
// sparse), decode, the error term, and per-feature directions, batched on the dictionary's
// device and dtype. Conventions are SAELens': W_enc [d_in, d_sae], W_dec [d_sae, d_out]
// (formats.md 6.5 for the formulas; dictionaries_interp.md A for transcoders and CLTs).

#include "core/sae/sae_config.h"
#include "core/util/result.h"

#include <ATen/ATen.h>

#include <map>

namespace fscope::core::sae {

struct SaeWeights {
    at::Tensor W_enc, b_enc, W_dec, b_dec;
    at::Tensor threshold; // JumpReLU [d_sae]
    at::Tensor b_gate, r_mag, b_mag; // Gated
    // Skip transcoders: y_hat += x W_skip, [d_in, d_out] (the transpose of SAELens' and
    // circuit-tracer's W_skip, the orientation of Gemma Scope 2's affine_skip_connection).
    at::Tensor W_skip;
    // CLTs: one decoder per output hook, [d_sae, hooksOut, d_out]; W_dec is their sum, the
    // feature's total write (what logit effects, decomposition and SAE Match read).
    // Crosscoders keep only W_dec [d_sae, n * d]; decoderBlock() views it per hook.
    at::Tensor W_dec_blocks;
    // SAELens sparsity.safetensors: log10 feature density from training, a prior for views
    // before a corpus is indexed. Optional.
    at::Tensor logDensity;
};

// How an input was normalised, to undo it on the reconstruction.
struct InputState {
    at::Tensor mean; // centering / layer_norm mean
    at::Tensor scale; // multiply to normalise, divide to undo
};

struct SparseCode {
    at::Tensor indices; // [n, k] int64 (TopK) or [nnz, 2] rows/features in the dense case
    at::Tensor values;
};

// Plain matching pursuit of rows x [..., d] over unit atoms [n, d] for k rounds:
// c = r atoms^T, j = argmax |c|, a_j += c_j, r -= c_j atoms_j (ITDA's encoder; coefficients
// are signed and an atom may be chosen again). Returns a [..., n].
at::Tensor matchingPursuit(const at::Tensor &x, const at::Tensor &atoms, int64_t k);

// The encoder's input from a forward pass's captured activations: the input hook's, or a
// crosscoder's hooks concatenated along the last dimension in hooksIn order (SAELens'
// CrosscoderSAE reads [..., n_layers, d_in]; flattened, that is the same row). An error names
// a hook that was not captured.
Result<at::Tensor> dictionaryInput(
    const SaeConfig &config, const std::map<std::string, at::Tensor> &activations);

class Sae {
public:
    Sae(SaeConfig config, SaeWeights weights);

    const SaeConfig &config() const { return m_config; }
    const SaeWeights &weights() const { return m_weights; }
    at::Device device() const { return m_weights.W_dec.device(); }
    at::ScalarType dtype() const { return m_weights.W_dec.scalar_type(); }

    // x [..., d_in] -> f [..., d_sae] (in the SAE dtype); `state` receives how x was
    // normalised, for decode().
    at::Tensor encode(const at::Tensor &x, InputState *state = nullptr) const;
    // f -> x_hat in the input's frame; `state` from the same input undoes normalisation.
    at::Tensor decode(const at::Tensor &features, const InputState &state = {}) const;
    // decode(encode(x)) with normalisation undone, plus the skip term of a skip transcoder:
    // the SAE's x_hat, or a transcoder's prediction of its output hook.
    at::Tensor reconstruct(const at::Tensor &x) const;
    // x - reconstruct(x): what the SAE misses (kept when clamping a feature). Only for a
    // dictionary that reconstructs its input; a transcoder's is outputError.
    at::Tensor errorTerm(const at::Tensor &x) const { return x.to(dtype()) - reconstruct(x); }
    // target - reconstruct(x): a transcoder's error, measured at its output hook.
    at::Tensor outputError(const at::Tensor &x, const at::Tensor &target) const
    {
        return target.to(device(), dtype()) - reconstruct(x);
    }
    // x W_skip, or an undefined tensor without a skip.
    at::Tensor skip(const at::Tensor &x) const;
    // Decoder block `block` (0 .. outputHooks().size() - 1), [d_sae, d_out]: what the features
    // write into that output hook.
    at::Tensor decoderBlock(int64_t block) const;

    // The normalised input the encoder sees (before b_dec subtraction) and its state.
    std::pair<at::Tensor, InputState> normalizeInput(const at::Tensor &x) const;
    at::Tensor preActivations(const at::Tensor &normalized) const;

    at::Tensor decoderDirection(int64_t feature) const { return m_weights.W_dec[feature]; }
    at::Tensor encoderRow(int64_t feature) const { return m_weights.W_enc.select(1, feature); }

    Sae to(at::Device device, at::ScalarType dtype) const;
    // A [d_sae] count of NaN/Inf values per tensor, or an error naming the tensor.
    Status checkFinite() const;

private:
    at::Tensor activate(const at::Tensor &pre, const at::Tensor &normalized) const;
    SaeConfig m_config;
    SaeWeights m_weights;
};

} // namespace fscope::core::sae
