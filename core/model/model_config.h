#pragma once
// The knobs of our one generic decoder, read from a Hugging Face config.json. GPT-2, Gemma 2,
// Gemma 3 (text, also inside the multimodal checkpoints), Llama (incl. Llama 3 RoPE scaling),
// Mistral, Qwen 2 and Qwen 3 are settings of the same code (reference: formats.md sections 2-4,
// ecosystem2.md section B, the families' HF modeling files).

#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::model {

enum class Family { Gpt2, Gemma2, Gemma3, Llama, Mistral, Qwen2, Qwen3 };
enum class NormKind { LayerNorm, RmsNorm, RmsNormPlusOne };
enum class MlpKind { GeluNew, GatedGeluTanh, GatedSilu };

struct RopeScaling {
    std::string type = "default"; // default | linear | llama3
    double factor = 1.0;
    double lowFreqFactor = 1.0;
    double highFreqFactor = 4.0;
    int64_t originalMaxPositions = 8192;
};

struct ModelConfig {
    Family family = Family::Gpt2;
    std::string modelType; // config.json "model_type"
    int64_t vocabSize = 0;
    int64_t hidden = 0;
    int64_t layers = 0;
    int64_t heads = 0;
    int64_t kvHeads = 0;
    int64_t headDim = 0;
    int64_t intermediate = 0;
    int64_t maxPositions = 0;
    double normEps = 1e-5;
    NormKind norm = NormKind::LayerNorm;
    MlpKind mlp = MlpKind::GeluNew;
    bool learnedPositions = false; // GPT-2 wpe; otherwise RoPE
    double ropeTheta = 10000.0;
    RopeScaling ropeScaling;
    // Gemma 3: the sliding layers' own RoPE base, unscaled (rope_local_base_freq); 0 = the
    // sliding layers use the global RoPE.
    double ropeLocalTheta = 0;
    // Gemma 3, Qwen 3: an RMSNorm of each query and key head (the model's norm kind) before RoPE.
    bool qkNorm = false;
    bool scaleEmbeddings = false; // Gemma: x sqrt(hidden) in the activation dtype
    bool sandwichNorms = false; // Gemma 2: post-attention and post-feedforward norms
    double attentionScale = 0; // multiplier of q k^T
    double attnSoftcap = 0; // 0 = off
    double finalSoftcap = 0;
    int64_t slidingWindow = 0; // 0 = none
    std::vector<bool> slidingLayers; // per layer
    bool qkvBias = false;
    bool outputBias = false; // attention output projection
    bool mlpBias = false;
    bool tiedEmbeddings = true;
    int64_t bosTokenId = -1;
    int64_t eosTokenId = -1;

    std::string familyName() const;
};

Result<ModelConfig> parseModelConfig(const std::string &jsonText, const std::string &fileName);
Result<ModelConfig> readModelConfig(const std::string &modelDir);

} // namespace fscope::core::model
