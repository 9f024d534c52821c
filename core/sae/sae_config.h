#pragma once
// What an SAE is, independent of the file it came from (SAELens, Gemma Scope, sparsify):
// architecture, sizes, the hook it reads, and how inputs are preprocessed
// (reference: formats.md section 6).

#include <cstdint>
#include <string>

namespace fscope::core::sae {

enum class Architecture { Relu, JumpRelu, TopK, Gated, AbsTopK };
enum class Normalization { None, ConstantNormRescale, LayerNorm };

struct SaeConfig {
    Architecture architecture = Architecture::Relu;
    int64_t dIn = 0;
    int64_t dSae = 0;
    int64_t k = 0; // TopK / AbsTopK
    bool rescaleActsByDecoderNorm = false;
    bool applyBDecToInput = true;
    Normalization normalization = Normalization::None;
    bool centerInput = false; // TransformerLens center_writing_weights: x - mean_d(x)
    std::string hookName; // "blocks.12.hook_resid_post"
    std::string modelName;
    std::string dtype = "float32";
    bool prependBos = true;
    std::string sourceFormat; // "saelens", "gemma-scope", "sparsify"
    std::string sourcePath;
};

std::string architectureName(Architecture a); // SAELens spelling: "standard", "jumprelu", ...
std::string normalizationName(Normalization n);

} // namespace fscope::core::sae
