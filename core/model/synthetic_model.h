#pragma once
// GPT-2-shaped models with seeded random weights, written as a Hugging Face directory
// (config.json + model.safetensors): the benchmarks' stand-in for a real checkpoint and the
// tests' way to plant known behaviour (override any tensor by its HF name).

#include "core/util/result.h"

#include <ATen/ATen.h>

#include <map>
#include <string>

namespace fscope::core::model {

struct Gpt2Shape {
    int64_t vocab = 50257;
    int64_t hidden = 768;
    int64_t layers = 12;
    int64_t heads = 12;
    int64_t positions = 1024;
    int64_t bos = 50256;
};

// Weights ~ N(0, 0.02) (GPT-2's initialisation), LayerNorm weights 1 and biases 0.
Status writeRandomGpt2(const std::string &dir, const Gpt2Shape &shape, uint64_t seed,
    const std::map<std::string, at::Tensor> &overrides = {});

} // namespace fscope::core::model
