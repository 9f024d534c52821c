#pragma once
// The demo model's trainer-side network: a small Llama (RMSNorm, rotary attention, SwiGLU,
// tied embeddings) written with differentiable ATen ops and stored under Hugging Face's
// LlamaForCausalLM tensor names, so the saved directory loads in Featurescope's decoder (and
// in transformers) unchanged. The builder checks that both forwards give the same loss.

#include "core/util/result.h"

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

namespace fscope::demo {

using core::fileError;
using core::Result;
using core::Status;

struct TinyLlamaShape {
    int64_t vocab = 4096;
    int64_t hidden = 128;
    int64_t layers = 4;
    int64_t heads = 4;
    int64_t intermediate = 384;
    int64_t maxPositions = 256;
    double ropeTheta = 10000;
    double rmsEps = 1e-5;
    int64_t bos = 1, eos = 2;
};

class TinyLlama {
public:
    TinyLlama(const TinyLlamaShape &shape, uint64_t seed, at::Device device);

    // Mean next-token cross-entropy over ids [batch, tokens] (nats).
    at::Tensor loss(const at::Tensor &ids) const;

    // Every trainable tensor with its HF name; `decays` says which get weight decay (matrices).
    const std::vector<std::pair<std::string, at::Tensor>> &parameters() const { return m_params; }
    std::vector<bool> decays() const;

    // config.json + model.safetensors (weights converted to `dtype`).
    Status save(const std::string &dir, at::ScalarType dtype) const;

private:
    const at::Tensor &p(const std::string &name) const;
    TinyLlamaShape m_shape;
    std::vector<std::pair<std::string, at::Tensor>> m_params;
};

} // namespace fscope::demo
