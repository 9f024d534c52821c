#pragma once
// Rotary position embeddings, rotate-half convention (HF modeling_llama / modeling_gemma2),
// with the linear and Llama 3 frequency scalings (HF modeling_rope_utils.py).

#include "core/model/model_config.h"

#include <ATen/ATen.h>

namespace fscope::core::model {

// inv_freq[i] = 1 / theta^(2i / headDim), scaled as the config says; float32 [headDim / 2].
at::Tensor ropeInverseFrequencies(const ModelConfig &config);

// cos and sin for positions [batch, tokens], each [batch, 1, tokens, headDim] in `dtype`.
std::pair<at::Tensor, at::Tensor> ropeCosSin(
    const at::Tensor &invFreq, const at::Tensor &positions, at::ScalarType dtype);

// x * cos + rotate_half(x) * sin for x [batch, heads, tokens, headDim].
at::Tensor applyRope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin);

} // namespace fscope::core::model
