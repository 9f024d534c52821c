#include "app/demo/tiny_llama.h"

#include "core/io/torch_tensor.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace fscope::demo {

namespace {

// Llama's RMSNorm, in float32: x * rsqrt(mean(x^2) + eps) * w (transformers' LlamaRMSNorm).
at::Tensor rmsNorm(const at::Tensor &x, const at::Tensor &w, double eps)
{
    return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * w;
}

// transformers' rotate_half convention: the two halves of each head, not interleaved pairs.
at::Tensor rotateHalf(const at::Tensor &x)
{
    const int64_t h = x.size(-1) / 2;
    return at::cat({ -x.narrow(-1, h, h), x.narrow(-1, 0, h) }, -1);
}

} // namespace

TinyLlama::TinyLlama(const TinyLlamaShape &s, uint64_t seed, at::Device device)
    : m_shape(s)
{
    at::manual_seed(seed);
    const auto o = at::TensorOptions().dtype(at::kFloat).device(device);
    // GPT-2-style initialisation: N(0, 0.02), output projections scaled by 1/sqrt(2 * layers).
    const double std = 0.02, outStd = 0.02 / std::sqrt(2.0 * double(s.layers));
    auto add = [&](const std::string &name, at::Tensor t) {
        m_params.emplace_back(name, t.set_requires_grad(true));
    };
    add("model.embed_tokens.weight", at::randn({ s.vocab, s.hidden }, o) * std);
    for (int64_t l = 0; l < s.layers; ++l) {
        const std::string pre = "model.layers." + std::to_string(l) + ".";
        add(pre + "input_layernorm.weight", at::ones({ s.hidden }, o));
        for (const char *n : { "q_proj", "k_proj", "v_proj" })
            add(pre + "self_attn." + n + ".weight", at::randn({ s.hidden, s.hidden }, o) * std);
        add(pre + "self_attn.o_proj.weight", at::randn({ s.hidden, s.hidden }, o) * outStd);
        add(pre + "post_attention_layernorm.weight", at::ones({ s.hidden }, o));
        add(pre + "mlp.gate_proj.weight", at::randn({ s.intermediate, s.hidden }, o) * std);
        add(pre + "mlp.up_proj.weight", at::randn({ s.intermediate, s.hidden }, o) * std);
        add(pre + "mlp.down_proj.weight", at::randn({ s.hidden, s.intermediate }, o) * outStd);
    }
    add("model.norm.weight", at::ones({ s.hidden }, o));
}

const at::Tensor &TinyLlama::p(const std::string &name) const
{
    for (const auto &[n, t] : m_params)
        if (n == name)
            return t;
    throw std::out_of_range(name);
}

std::vector<bool> TinyLlama::decays() const
{
    std::vector<bool> d;
    for (const auto &[n, t] : m_params)
        d.push_back(t.dim() == 2);
    return d;
}

at::Tensor TinyLlama::loss(const at::Tensor &ids) const
{
    const auto &s = m_shape;
    const int64_t B = ids.size(0), T = ids.size(1), hd = s.hidden / s.heads;
    const auto dev = ids.device();
    // RoPE tables [T, hd]: inv_freq = theta^(-2i/hd), angles duplicated over both halves.
    const at::Tensor invFreq = at::pow(s.ropeTheta,
        -at::arange(0, hd, 2, at::TensorOptions().dtype(at::kFloat).device(dev)) / double(hd));
    const at::Tensor angles = at::outer(at::arange(T, invFreq.options()), invFreq);
    const at::Tensor emb = at::cat({ angles, angles }, -1);
    const at::Tensor cos = emb.cos(), sin = emb.sin();
    const at::Tensor causal
        = at::ones({ T, T }, at::TensorOptions().dtype(at::kBool).device(dev)).triu(1);

    at::Tensor x = at::embedding(p("model.embed_tokens.weight"), ids);
    for (int64_t l = 0; l < s.layers; ++l) {
        const std::string pre = "model.layers." + std::to_string(l) + ".";
        const at::Tensor h = rmsNorm(x, p(pre + "input_layernorm.weight"), s.rmsEps);
        auto heads = [&](const char *proj) {
            return at::linear(h, p(pre + "self_attn." + proj + ".weight"))
                .view({ B, T, s.heads, hd })
                .transpose(1, 2);
        };
        at::Tensor q = heads("q_proj"), k = heads("k_proj"), v = heads("v_proj");
        q = q * cos + rotateHalf(q) * sin;
        k = k * cos + rotateHalf(k) * sin;
        at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(hd));
        scores = scores.masked_fill(causal, -std::numeric_limits<float>::infinity());
        const at::Tensor attn
            = at::matmul(at::softmax(scores, -1), v).transpose(1, 2).reshape({ B, T, s.hidden });
        x = x + at::linear(attn, p(pre + "self_attn.o_proj.weight"));
        const at::Tensor m = rmsNorm(x, p(pre + "post_attention_layernorm.weight"), s.rmsEps);
        const at::Tensor act = at::silu(at::linear(m, p(pre + "mlp.gate_proj.weight")))
            * at::linear(m, p(pre + "mlp.up_proj.weight"));
        x = x + at::linear(act, p(pre + "mlp.down_proj.weight"));
    }
    x = rmsNorm(x, p("model.norm.weight"), s.rmsEps);
    const at::Tensor logits = at::linear(x.narrow(1, 0, T - 1), p("model.embed_tokens.weight"));
    return at::cross_entropy_loss(
        logits.reshape({ -1, s.vocab }), ids.narrow(1, 1, T - 1).reshape({ -1 }));
}

Status TinyLlama::save(const std::string &dir, at::ScalarType dtype) const
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    const auto &s = m_shape;
    const nlohmann::json config = { { "architectures", { "LlamaForCausalLM" } },
        { "model_type", "llama" }, { "vocab_size", s.vocab }, { "hidden_size", s.hidden },
        { "intermediate_size", s.intermediate }, { "num_hidden_layers", s.layers },
        { "num_attention_heads", s.heads }, { "num_key_value_heads", s.heads },
        { "head_dim", s.hidden / s.heads }, { "max_position_embeddings", s.maxPositions },
        { "rms_norm_eps", s.rmsEps }, { "rope_theta", s.ropeTheta }, { "hidden_act", "silu" },
        { "tie_word_embeddings", true }, { "attention_bias", false }, { "mlp_bias", false },
        { "bos_token_id", s.bos }, { "eos_token_id", s.eos },
        { "torch_dtype",
            dtype == at::kHalf           ? "float16"
                : dtype == at::kBFloat16 ? "bfloat16"
                                         : "float32" } };
    {
        std::ofstream out(fs::path(dir) / "config.json");
        out << config.dump(2) << '\n';
        if (!out)
            return fileError(dir + "/config.json", "cannot write");
    }
    core::io::NamedTensors tensors;
    for (const auto &[n, t] : m_params)
        tensors.emplace_back(n, t.detach().to(at::kCPU, dtype).contiguous());
    return core::io::writeSafetensors(
        (fs::path(dir) / "model.safetensors").string(), tensors, { { "format", "pt" } });
}

} // namespace fscope::demo
