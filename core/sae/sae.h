#pragma once
// One SAE type for every architecture: encode (dense or sparse), decode, the error term, and
// per-feature directions, batched on the SAE's device and dtype. Conventions are SAELens':
// W_enc [d_in, d_sae], W_dec [d_sae, d_in] (formats.md 6.5 for the formulas).

#include "core/sae/sae_config.h"
#include "core/util/result.h"

#include <ATen/ATen.h>

namespace fscope::core::sae {

struct SaeWeights {
    at::Tensor W_enc, b_enc, W_dec, b_dec;
    at::Tensor threshold; // JumpReLU [d_sae]
    at::Tensor b_gate, r_mag, b_mag; // Gated
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
    // decode(encode(x)) with normalisation undone.
    at::Tensor reconstruct(const at::Tensor &x) const;
    // x - reconstruct(x): what the SAE misses (kept when clamping a feature).
    at::Tensor errorTerm(const at::Tensor &x) const { return x.to(dtype()) - reconstruct(x); }

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
