#pragma once
// What a dictionary is, independent of the file it came from (SAELens, Gemma Scope 1 and 2,
// sparsify, circuit-tracer, ITDA): its kind, architecture, sizes, the hook it reads and the
// hooks it writes, and how inputs are preprocessed (reference: formats.md section 6,
// dictionaries_interp.md A and B).
//
// Every kind encodes one activation row from its input hook into d_sae features, so the
// indexer, dashboards, prompt inspector and SAE Match treat them alike. They differ in where
// the decoder writes:
//   sae              reconstructs its input hook: x_hat = f W_dec + b_dec
//   transcoder       predicts another hook (MLP in -> MLP out): y_hat = f W_dec + b_dec
//   skip-transcoder  the same plus a linear skip from the raw input: + x W_skip
//   clt              one source layer of a cross-layer transcoder: one decoder block per
//                    later layer's output hook (hooksOut), W_dec their sum
//   crosscoder       one dictionary over several hooks (hooksIn, usually layers): it encodes
//                    their activations concatenated and decodes into each of them, so d_in
//                    is the hooks' total width and W_dec_blocks holds one block per hook
//   itda             atoms taken from activations, encoded by matching pursuit (signed)

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::sae {

enum class Architecture { Relu, JumpRelu, TopK, Gated, AbsTopK, MatchingPursuit };
enum class DictionaryKind { Sae, Transcoder, SkipTranscoder, Clt, Crosscoder, Itda };
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
    std::string hookName; // the input hook, "blocks.12.hook_resid_post"
    // A crosscoder's input hooks, in the order their activations are concatenated (hookName
    // is the first); empty: hookName alone.
    std::vector<std::string> hooksIn;
    DictionaryKind kind = DictionaryKind::Sae;
    int64_t dOut = 0; // decoder width; 0: the same as d_in
    // Where the decoder writes, one hook per decoder block (a CLT's later layers); empty: the
    // input hook (an SAE reconstructs what it reads).
    std::vector<std::string> hooksOut;
    std::string modelName;
    std::string dtype = "float32";
    bool prependBos = true;
    std::string sourceFormat; // "saelens", "gemma-scope", "sparsify"
    std::string sourcePath;

    int64_t decoderWidth() const { return dOut > 0 ? dOut : dIn; }
    std::vector<std::string> inputHooks() const
    {
        return hooksIn.empty() ? std::vector<std::string> { hookName } : hooksIn;
    }
    // The width of one input hook (d_in, or a crosscoder's d_in over its hooks).
    int64_t hookWidth() const
    {
        return hooksIn.empty() ? dIn : dIn / static_cast<int64_t>(hooksIn.size());
    }
    bool readsSeveralHooks() const { return hooksIn.size() > 1; }
    // The hook the first decoder block writes (the input hook for an SAE).
    const std::string &outputHook() const { return hooksOut.empty() ? hookName : hooksOut[0]; }
    std::vector<std::string> outputHooks() const
    {
        return hooksOut.empty() ? std::vector<std::string> { hookName } : hooksOut;
    }
    // True where the decoder writes somewhere other than the input (transcoders, CLTs): edits
    // and reconstruction errors then live at the output hooks.
    bool writesElsewhere() const { return outputHook() != hookName || hooksOut.size() > 1; }
};

std::string architectureName(Architecture a); // SAELens spelling: "standard", "jumprelu", ...
std::string kindName(DictionaryKind k); // "sae", "transcoder", "skip-transcoder", "clt", ...
std::string normalizationName(Normalization n);

} // namespace fscope::core::sae
