#include "core/model/decoder_weights.h"

#include "core/io/torch_tensor.h"

namespace fscope::core::model {

namespace {

// Looks tensors up by HF name, checks shapes, and moves them to the model's device and dtype.
class WeightReader {
public:
    WeightReader(
        const io::Checkpoint &c, at::Device device, at::ScalarType dtype, std::string prefix)
        : m_checkpoint(c)
        , m_device(device)
        , m_dtype(dtype)
        , m_prefix(std::move(prefix))
    {
    }

    bool has(const std::string &name) const
    {
        return m_checkpoint.find(m_prefix + name) != nullptr;
    }

    // `dtype` overrides the model dtype (norm weights that HF applies in float32).
    Result<at::Tensor> take(const std::string &name, std::vector<int64_t> shape,
        std::optional<at::ScalarType> dtype = std::nullopt) const
    {
        auto t = io::loadTensor(m_checkpoint, m_prefix + name);
        if (!t)
            return fileError(m_checkpoint.path(), "missing weight '" + m_prefix + name + "'");
        if (t->sizes().vec() != shape)
            return fileError(m_checkpoint.path(),
                "weight '" + m_prefix + name + "' has shape " + io::formatShape(t->sizes().vec())
                    + ", the config implies " + io::formatShape(shape));
        if (!at::isFloatingType(t->scalar_type()))
            return fileError(
                m_checkpoint.path(), "weight '" + m_prefix + name + "' is not floating point");
        // A fresh, aligned copy: BLAS runs ~12% slower on weights left in the 8-byte-aligned
        // file mapping (bench forward).
        at::Tensor out = t->to(m_device, dtype.value_or(m_dtype));
        return out.data_ptr() == t->data_ptr() ? out.clone() : out;
    }

private:
    const io::Checkpoint &m_checkpoint;
    at::Device m_device;
    at::ScalarType m_dtype;
    std::string m_prefix;
};

Result<std::unique_ptr<Decoder::Weights>> loadGpt2(
    const io::Checkpoint &checkpoint, const ModelConfig &c, at::Device device, at::ScalarType dtype)
{
    // Some GPT-2 variants store "transformer."-prefixed names.
    const bool prefixed = checkpoint.find("transformer.wte.weight") != nullptr;
    WeightReader w(checkpoint, device, dtype, prefixed ? "transformer." : "");
    auto weights = std::make_unique<Decoder::Weights>();
    const int64_t d = c.hidden, f = c.intermediate;
    const auto f32 = at::kFloat;
    FS_TRY(weights->embed, w.take("wte.weight", { c.vocabSize, d }));
    FS_TRY(weights->positions, w.take("wpe.weight", { c.maxPositions, d }));
    for (int64_t l = 0; l < c.layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        LayerWeights L;
        FS_TRY(L.inputNorm.weight, w.take(p + "ln_1.weight", { d }, f32));
        FS_TRY(L.inputNorm.bias, w.take(p + "ln_1.bias", { d }, f32));
        at::Tensor qkv, qkvBias;
        // Conv1D stores [in, out]: transpose to the [out, in] of every other family.
        FS_TRY(qkv, w.take(p + "attn.c_attn.weight", { d, 3 * d }));
        FS_TRY(qkvBias, w.take(p + "attn.c_attn.bias", { 3 * d }));
        L.qkv = qkv.t().contiguous(); // already the fused [q; k; v] the forward uses
        L.qkvBias = qkvBias;
        FS_TRY(L.o, w.take(p + "attn.c_proj.weight", { d, d }));
        L.o = L.o.t().contiguous();
        FS_TRY(L.oBias, w.take(p + "attn.c_proj.bias", { d }));
        FS_TRY(L.preMlpNorm.weight, w.take(p + "ln_2.weight", { d }, f32));
        FS_TRY(L.preMlpNorm.bias, w.take(p + "ln_2.bias", { d }, f32));
        FS_TRY(L.up, w.take(p + "mlp.c_fc.weight", { d, f }));
        L.up = L.up.t().contiguous();
        FS_TRY(L.upBias, w.take(p + "mlp.c_fc.bias", { f }));
        FS_TRY(L.down, w.take(p + "mlp.c_proj.weight", { f, d }));
        L.down = L.down.t().contiguous();
        FS_TRY(L.downBias, w.take(p + "mlp.c_proj.bias", { d }));
        weights->layers.push_back(std::move(L));
    }
    FS_TRY(weights->finalNorm.weight, w.take("ln_f.weight", { d }, f32));
    FS_TRY(weights->finalNorm.bias, w.take("ln_f.bias", { d }, f32));
    weights->lmHead = weights->embed;
    if (!c.tiedEmbeddings && checkpoint.find("lm_head.weight"))
        FS_TRY(weights->lmHead,
            WeightReader(checkpoint, device, dtype, "").take("lm_head.weight", { c.vocabSize, d }));
    return weights;
}

Result<std::unique_ptr<Decoder::Weights>> loadLlamaLike(
    const io::Checkpoint &checkpoint, const ModelConfig &c, at::Device device, at::ScalarType dtype)
{
    WeightReader w(checkpoint, device, dtype, "");
    auto weights = std::make_unique<Decoder::Weights>();
    const int64_t d = c.hidden, f = c.intermediate, qd = c.heads * c.headDim,
                  kvd = c.kvHeads * c.headDim;
    const bool gemma = c.family == Family::Gemma2 || c.family == Family::Gemma3;
    // The language model inside a multimodal checkpoint (Gemma 3 4B+): the Hub's files name it
    // "language_model.model.*", transformers' own saves "model.language_model.*".
    std::string model = "model.", head = "lm_head.weight";
    for (const char *prefix : { "language_model.model.", "model.language_model." })
        if (w.has(std::string(prefix) + "embed_tokens.weight")) {
            model = prefix;
            if (w.has("language_model.lm_head.weight"))
                head = "language_model.lm_head.weight";
        }
    // Gemma's (1 + w) norm runs in float32 (HF Gemma2RMSNorm); Llama's multiplies in the dtype.
    const auto normType = gemma ? at::kFloat : dtype;
    FS_TRY(weights->embed, w.take(model + "embed_tokens.weight", { c.vocabSize, d }));
    for (int64_t l = 0; l < c.layers; ++l) {
        const std::string p = model + "layers." + std::to_string(l) + ".";
        LayerWeights L;
        FS_TRY(L.inputNorm.weight, w.take(p + "input_layernorm.weight", { d }, normType));
        FS_TRY(L.q, w.take(p + "self_attn.q_proj.weight", { qd, d }));
        FS_TRY(L.k, w.take(p + "self_attn.k_proj.weight", { kvd, d }));
        FS_TRY(L.v, w.take(p + "self_attn.v_proj.weight", { kvd, d }));
        FS_TRY(L.o, w.take(p + "self_attn.o_proj.weight", { d, qd }));
        if (c.qkvBias) {
            FS_TRY(L.qBias, w.take(p + "self_attn.q_proj.bias", { qd }));
            FS_TRY(L.kBias, w.take(p + "self_attn.k_proj.bias", { kvd }));
            FS_TRY(L.vBias, w.take(p + "self_attn.v_proj.bias", { kvd }));
        }
        if (c.outputBias)
            FS_TRY(L.oBias, w.take(p + "self_attn.o_proj.bias", { d }));
        if (c.qkNorm) {
            FS_TRY(L.qNorm.weight, w.take(p + "self_attn.q_norm.weight", { c.headDim }, normType));
            FS_TRY(L.kNorm.weight, w.take(p + "self_attn.k_norm.weight", { c.headDim }, normType));
        }
        if (gemma) {
            // Gemma 2's "post_attention_layernorm" normalises the attention output; its MLP
            // has its own pre and post norms.
            FS_TRY(L.postAttentionNorm.weight,
                w.take(p + "post_attention_layernorm.weight", { d }, normType));
            FS_TRY(L.preMlpNorm.weight,
                w.take(p + "pre_feedforward_layernorm.weight", { d }, normType));
            FS_TRY(L.postMlpNorm.weight,
                w.take(p + "post_feedforward_layernorm.weight", { d }, normType));
        } else {
            // In Llama/Qwen the same name is the pre-MLP norm.
            FS_TRY(L.preMlpNorm.weight,
                w.take(p + "post_attention_layernorm.weight", { d }, normType));
        }
        FS_TRY(L.gate, w.take(p + "mlp.gate_proj.weight", { f, d }));
        FS_TRY(L.up, w.take(p + "mlp.up_proj.weight", { f, d }));
        FS_TRY(L.down, w.take(p + "mlp.down_proj.weight", { d, f }));
        if (c.mlpBias) {
            FS_TRY(L.upBias, w.take(p + "mlp.up_proj.bias", { f }));
            FS_TRY(L.downBias, w.take(p + "mlp.down_proj.bias", { d }));
        }
        weights->layers.push_back(std::move(L));
    }
    FS_TRY(weights->finalNorm.weight, w.take(model + "norm.weight", { d }, normType));
    if (c.tiedEmbeddings || !w.has(head))
        weights->lmHead = weights->embed;
    else
        FS_TRY(weights->lmHead, w.take(head, { c.vocabSize, d }));
    if (!c.tiedEmbeddings && !w.has(head))
        return fileError(
            checkpoint.path(), "lm_head.weight is missing and tie_word_embeddings is false");
    return weights;
}

} // namespace

void fuseAttention(Decoder::Weights &weights)
{
    for (LayerWeights &L : weights.layers) {
        if (L.qkv.defined())
            continue; // GPT-2's c_attn comes fused
        L.qkv = at::cat({ L.q, L.k, L.v }, 0);
        if (L.qBias.defined())
            L.qkvBias = at::cat({ L.qBias, L.kBias, L.vBias }, 0);
        L.q = L.k = L.v = L.qBias = L.kBias = L.vBias = at::Tensor();
    }
}

Result<std::unique_ptr<Decoder::Weights>> loadDecoderWeights(const io::Checkpoint &checkpoint,
    const ModelConfig &config, at::Device device, at::ScalarType dtype)
{
    try {
        auto weights = config.family == Family::Gpt2
            ? loadGpt2(checkpoint, config, device, dtype)
            : loadLlamaLike(checkpoint, config, device, dtype);
        if (weights)
            fuseAttention(**weights);
        return weights;
    } catch (const c10::Error &e) {
        return fileError(
            checkpoint.path(), std::string("cannot load weights: ") + e.what_without_backtrace());
    }
}

} // namespace fscope::core::model
