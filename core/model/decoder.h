#pragma once
// One generic decoder-only transformer in LibTorch: GPT-2, Gemma 2/3, Llama, Mistral and Qwen
// 2/3 are settings of ModelConfig. Reproduces Hugging Face transformers' eager forward for the same
// weights, exposes TransformerLens hook points, and keeps a KV cache for generation.

#include "core/io/checkpoint.h"
#include "core/model/hooks.h"
#include "core/model/model_config.h"

#include <memory>
#include <vector>

namespace fscope::core::model {

struct LoadOptions {
    std::string device = "auto"; // auto | cuda | cpu
    std::string dtype = "auto"; // auto | bf16 | f16 | f32
};

// Keys and values of every layer so far, after RoPE: [batch, kvHeads, past, headDim].
struct KvCache {
    std::vector<at::Tensor> keys, values;
    at::Tensor keyMask; // [batch, past] bool, false for padding; undefined = all valid
    int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
};

struct ForwardInputs {
    ForwardInputs(at::Tensor ids_, at::Tensor positions_ = {}, at::Tensor keyMask_ = {})
        : ids(std::move(ids_))
        , positions(std::move(positions_))
        , keyMask(std::move(keyMask_))
    {
    }
    at::Tensor ids; // [batch, tokens] int64
    at::Tensor positions; // optional [batch, tokens]; default past .. past + tokens - 1
    at::Tensor keyMask; // optional [batch, tokens] bool, false for (left) padding
};

class Decoder {
public:
    // `path`: a model directory (config.json + safetensors, sharded or not).
    static Result<std::unique_ptr<Decoder>> load(
        const std::string &path, const LoadOptions &options = {});
    ~Decoder();

    const ModelConfig &config() const { return m_config; }
    const std::string &path() const { return m_path; }
    at::Device device() const { return m_device; }
    at::ScalarType dtype() const { return m_dtype; }
    // Bytes of every weight tensor (what the model holds on its device).
    int64_t parameterBytes() const;

    // Runs the model over `inputs`; with a cache, attends to and extends it.
    Result<ForwardResult> forward(const ForwardInputs &inputs, const ForwardOptions &options = {},
        KvCache *cache = nullptr) const;

    // The unembedding [vocab, hidden] (for logit effects).
    at::Tensor unembedding() const;
    // The final norm's effective per-channel scale [hidden]: LayerNorm and Llama RMSNorm w,
    // Gemma's RMSNorm 1 + w (float32).
    at::Tensor finalNormScale() const;

    struct Weights; // defined in decoder_weights.h

private:
    Decoder() = default;
    ForwardResult run(
        const ForwardInputs &inputs, const ForwardOptions &options, KvCache *cache) const;

    ModelConfig m_config;
    std::string m_path;
    at::Device m_device = at::kCPU;
    at::ScalarType m_dtype = at::kFloat;
    std::unique_ptr<Weights> m_weights;
    at::Tensor m_invFreq;
    at::Tensor m_localInvFreq; // Gemma 3's sliding layers (undefined: they use m_invFreq)
};

// "auto" -> cuda when available else cpu; errors name the bad value.
Result<at::Device> resolveDevice(const std::string &device);
// Whether this build and machine have a CUDA device.
bool cudaAvailable();
// "auto" -> bf16 on CUDA with bf16 support, else f32.
Result<at::ScalarType> resolveDtype(const std::string &dtype, at::Device device);

} // namespace fscope::core::model
