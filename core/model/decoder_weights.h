#pragma once
// The decoder's tensors, loaded by family from HF weight names (formats.md 2.2, 3.2, 4).
// Linear weights are stored as HF does, [out, in]; GPT-2's Conv1D [in, out] are transposed on
// load so one code path serves every family.

#include "core/io/checkpoint.h"
#include "core/model/decoder.h"

namespace fscope::core::model {

struct Norm {
    at::Tensor weight, bias; // bias only for LayerNorm
};

struct LayerWeights {
    Norm inputNorm, postAttentionNorm, preMlpNorm, postMlpNorm;
    Norm qNorm, kNorm; // Gemma 3, Qwen 3: per head, [headDim]
    at::Tensor q, k, v, o, qBias, kBias, vBias, oBias;
    // q, k and v stacked [q rows; k rows; v rows] for one GEMM (set by fuseAttention).
    at::Tensor qkv, qkvBias;
    at::Tensor up, upBias, gate, down, downBias; // GPT-2: up = c_fc, down = c_proj
};

struct Decoder::Weights {
    at::Tensor embed; // [vocab, hidden]
    at::Tensor positions; // GPT-2 wpe [maxPositions, hidden]
    std::vector<LayerWeights> layers;
    Norm finalNorm;
    at::Tensor lmHead; // [vocab, hidden]
};

// Stacks each layer's q/k/v into one matrix (one GEMM instead of three, as GPT-2's c_attn),
// then drops the separate ones.
void fuseAttention(Decoder::Weights &weights);

Result<std::unique_ptr<Decoder::Weights>> loadDecoderWeights(const io::Checkpoint &checkpoint,
    const ModelConfig &config, at::Device device, at::ScalarType dtype);

} // namespace fscope::core::model
