#include "core/model/model_config.h"

#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

namespace fscope::core::model {

using nlohmann::json;

std::string ModelConfig::familyName() const
{
    switch (family) {
    case Family::Gpt2:
        return "gpt2";
    case Family::Gemma2:
        return "gemma2";
    case Family::Gemma3:
        return "gemma3";
    case Family::Llama:
        return "llama";
    case Family::Mistral:
        return "mistral";
    case Family::Qwen2:
        return "qwen2";
    case Family::Qwen3:
        return "qwen3";
    }
    return "?";
}

namespace {

constexpr int64_t kMaxVocabSize = int64_t(1) << 24;
constexpr int64_t kMaxModelWidth = int64_t(1) << 17;
constexpr int64_t kMaxIntermediate = int64_t(1) << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxHeads = 4096;

template <typename T> T get(const json &j, const char *key, T fallback)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    if constexpr (std::is_same_v<T, int64_t>)
        return jsonInt64(*it); // 3e35 is an error, not undefined behaviour
    else
        return it->get<T>();
}

int64_t firstId(const json &j, const char *key)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return -1;
    if (it->is_array())
        return it->empty() ? -1 : jsonInt64((*it)[0]);
    return jsonInt64(*it);
}

void readRope(const json &j, ModelConfig &c)
{
    // transformers v5 moved rope_theta and rope_scaling into rope_parameters; Gemma 3 keeps one
    // set per layer type there ({"full_attention": {...}, "sliding_attention": {...}}).
    const json *params = nullptr;
    if (auto it = j.find("rope_parameters"); it != j.end() && it->is_object()) {
        params = &*it;
        if (auto full = it->find("full_attention"); full != it->end() && full->is_object()) {
            if (auto local = it->find("sliding_attention");
                local != it->end() && local->is_object())
                c.ropeLocalTheta = get<double>(*local, "rope_theta", 10000.0);
            params = &*full;
        }
    } else if (auto s = j.find("rope_scaling"); s != j.end() && s->is_object())
        params = &*s;
    c.ropeTheta = get<double>(j, "rope_theta", 10000.0);
    if (!params)
        return;
    c.ropeTheta = get<double>(*params, "rope_theta", c.ropeTheta);
    c.ropeScaling.type
        = get<std::string>(*params, "rope_type", get<std::string>(*params, "type", "default"));
    c.ropeScaling.factor = get<double>(*params, "factor", 1.0);
    c.ropeScaling.lowFreqFactor = get<double>(*params, "low_freq_factor", 1.0);
    c.ropeScaling.highFreqFactor = get<double>(*params, "high_freq_factor", 4.0);
    c.ropeScaling.originalMaxPositions
        = get<int64_t>(*params, "original_max_position_embeddings", 8192);
}

} // namespace

Result<ModelConfig> parseModelConfig(const std::string &jsonText, const std::string &file)
{
    json j;
    FS_TRY(j, parseJson(jsonText, file));
    if (!j.is_object())
        return fileError(file, "not a JSON object");
    ModelConfig c;
    try {
        c.modelType = get<std::string>(j, "model_type", "");
        if (c.modelType == "gpt2") {
            c.family = Family::Gpt2;
            c.vocabSize = get<int64_t>(j, "vocab_size", 50257);
            c.hidden = get<int64_t>(j, "n_embd", 768);
            c.layers = get<int64_t>(j, "n_layer", 12);
            c.heads = get<int64_t>(j, "n_head", 12);
            c.kvHeads = c.heads;
            // Sizes checked below; no division or product here may trap on a hostile value.
            c.headDim = c.heads > 0 ? c.hidden / c.heads : 0;
            c.intermediate = get<int64_t>(
                j, "n_inner", c.hidden > 0 && c.hidden <= INT64_MAX / 4 ? 4 * c.hidden : 0);
            c.maxPositions = get<int64_t>(j, "n_positions", 1024);
            c.normEps = get<double>(j, "layer_norm_epsilon", 1e-5);
            c.norm = NormKind::LayerNorm;
            c.mlp = MlpKind::GeluNew;
            c.learnedPositions = true;
            c.qkvBias = c.outputBias = c.mlpBias = true;
            c.attentionScale = get<bool>(j, "scale_attn_weights", true)
                ? 1.0 / std::sqrt(double(c.headDim))
                : 1.0;
            c.tiedEmbeddings = get<bool>(j, "tie_word_embeddings", true);
            const std::string act = get<std::string>(j, "activation_function", "gelu_new");
            if (act != "gelu_new")
                return fileError(
                    file, "GPT-2 activation '" + act + "' is not supported (gelu_new only)");
            if (get<bool>(j, "scale_attn_by_inverse_layer_idx", false))
                return fileError(file, "scale_attn_by_inverse_layer_idx is not supported");
        } else if (c.modelType == "gemma2" || c.modelType == "gemma3_text"
            || c.modelType == "gemma3" || c.modelType == "llama" || c.modelType == "mistral"
            || c.modelType == "qwen2" || c.modelType == "qwen3") {
            // Gemma 3's multimodal checkpoints nest the language model's keys in text_config
            // (sparse: what is absent takes Gemma 3's defaults).
            if (c.modelType == "gemma3") {
                if (!j.contains("text_config") || !j["text_config"].is_object())
                    return fileError(file, "a gemma3 config needs its text_config");
                json text = j["text_config"];
                for (const char *k : { "bos_token_id", "eos_token_id" })
                    if (!text.contains(k) && j.contains(k))
                        text[k] = j[k];
                j = std::move(text);
            }
            const std::map<std::string, Family> families = { { "gemma2", Family::Gemma2 },
                { "gemma3_text", Family::Gemma3 }, { "gemma3", Family::Gemma3 },
                { "llama", Family::Llama }, { "mistral", Family::Mistral },
                { "qwen2", Family::Qwen2 }, { "qwen3", Family::Qwen3 } };
            c.family = families.at(c.modelType);
            const bool gemma3 = c.family == Family::Gemma3;
            // Gemma 3's defaults are Gemma3TextConfig's (transformers 4.50).
            c.vocabSize = get<int64_t>(j, "vocab_size", gemma3 ? 262208 : 0);
            c.hidden = get<int64_t>(j, "hidden_size", gemma3 ? 2304 : 0);
            c.layers = get<int64_t>(j, "num_hidden_layers", gemma3 ? 26 : 0);
            c.heads = get<int64_t>(j, "num_attention_heads", gemma3 ? 8 : 0);
            c.kvHeads = get<int64_t>(j, "num_key_value_heads", gemma3 ? 4 : c.heads);
            c.headDim = get<int64_t>(
                j, "head_dim", gemma3 ? 256 : (c.heads > 0 ? c.hidden / c.heads : 0));
            c.intermediate = get<int64_t>(j, "intermediate_size", gemma3 ? 9216 : 0);
            c.maxPositions = get<int64_t>(j, "max_position_embeddings", 8192);
            c.normEps = get<double>(j, "rms_norm_eps", 1e-6);
            readRope(j, c);
            c.attentionScale = 1.0 / std::sqrt(double(c.headDim));
            if (c.family == Family::Gemma2 || gemma3) {
                c.norm = NormKind::RmsNormPlusOne;
                c.mlp = MlpKind::GatedGeluTanh;
                c.scaleEmbeddings = true;
                c.sandwichNorms = true;
                c.attentionScale
                    = 1.0 / std::sqrt(get<double>(j, "query_pre_attn_scalar", double(c.headDim)));
                c.attnSoftcap = get<double>(j, "attn_logit_softcapping", 0.0);
                c.finalSoftcap = get<double>(j, "final_logit_softcapping", 0.0);
                c.slidingWindow = get<int64_t>(j, "sliding_window", 4096);
                c.tiedEmbeddings = get<bool>(j, "tie_word_embeddings", true);
                c.qkvBias = c.outputBias = get<bool>(j, "attention_bias", false);
                // HF Gemma 2: layer i is sliding when (i + 1) % 2, i.e. layers 0, 2, 4, ...;
                // Gemma 3: global every `sliding_window_pattern`-th layer (5:1), with its own
                // RoPE base on the sliding layers, QK-norm, and no softcapping.
                const int64_t pattern = gemma3 ? get<int64_t>(j, "sliding_window_pattern", 6) : 2;
                for (int64_t i = 0; i < c.layers; ++i)
                    c.slidingLayers.push_back(pattern > 0 && (i + 1) % pattern != 0);
                if (gemma3) {
                    c.qkNorm = true;
                    if (c.ropeLocalTheta == 0)
                        c.ropeLocalTheta = get<double>(j, "rope_local_base_freq", 10000.0);
                    if (!j.contains("rope_theta") && !j.contains("rope_parameters"))
                        c.ropeTheta = 1e6;
                }
                const std::string act = get<std::string>(
                    j, "hidden_activation", get<std::string>(j, "hidden_act", "gelu_pytorch_tanh"));
                if (act != "gelu_pytorch_tanh")
                    return fileError(
                        file, "activation '" + act + "' is not supported (gelu_pytorch_tanh only)");
            } else {
                c.norm = NormKind::RmsNorm;
                c.mlp = MlpKind::GatedSilu;
                c.tiedEmbeddings = get<bool>(j, "tie_word_embeddings", false);
                if (c.family == Family::Llama || c.family == Family::Mistral) {
                    c.qkvBias = c.outputBias = get<bool>(j, "attention_bias", false);
                    c.mlpBias = get<bool>(j, "mlp_bias", false);
                    // Mistral: a non-null sliding_window applies to every layer.
                    if (c.family == Family::Mistral) {
                        c.slidingWindow = get<int64_t>(j, "sliding_window", 0);
                        c.slidingLayers.assign(
                            size_t(std::max<int64_t>(c.layers, 0)), c.slidingWindow > 0);
                    }
                } else if (c.family == Family::Qwen3) {
                    // Qwen 3: no q/k/v biases (attention_bias), a norm of each q/k head.
                    c.qkvBias = c.outputBias = get<bool>(j, "attention_bias", false);
                    c.qkNorm = true;
                    if (get<bool>(j, "use_sliding_window", false)) {
                        c.slidingWindow = get<int64_t>(j, "sliding_window", 4096);
                        const int64_t from = get<int64_t>(j, "max_window_layers", c.layers);
                        for (int64_t i = 0; i < c.layers; ++i)
                            c.slidingLayers.push_back(i >= from);
                    }
                } else {
                    c.qkvBias = true; // Qwen2: q/k/v biased, o_proj not
                    if (get<bool>(j, "use_sliding_window", false)) {
                        c.slidingWindow = get<int64_t>(j, "sliding_window", 4096);
                        const int64_t from = get<int64_t>(j, "max_window_layers", c.layers);
                        for (int64_t i = 0; i < c.layers; ++i)
                            c.slidingLayers.push_back(i >= from);
                    }
                }
                const std::string act = get<std::string>(j, "hidden_act", "silu");
                if (act != "silu")
                    return fileError(file, "activation '" + act + "' is not supported (silu only)");
            }
            if (auto lt = j.find("layer_types"); lt != j.end() && lt->is_array()) {
                c.slidingLayers.clear();
                for (const auto &t : *lt)
                    c.slidingLayers.push_back(t.get<std::string>() == "sliding_attention");
            }
        } else {
            return fileError(file,
                "model_type '" + c.modelType
                    + "' is not supported (gpt2, gemma2, gemma3, gemma3_text, llama, mistral, "
                      "qwen2, qwen3)");
        }
        if (c.slidingLayers.empty())
            c.slidingLayers.assign(static_cast<size_t>(std::max<int64_t>(c.layers, 0)), false);
        c.bosTokenId = firstId(j, "bos_token_id");
        c.eosTokenId = firstId(j, "eos_token_id");
    } catch (const json::exception &e) {
        return fileError(file, std::string("unexpected value type (") + e.what() + ")");
    }
    if (c.vocabSize <= 0 || c.hidden <= 0 || c.layers <= 0 || c.heads <= 0 || c.kvHeads <= 0
        || c.headDim <= 0 || c.intermediate <= 0 || c.heads % c.kvHeads != 0)
        return fileError(file,
            "inconsistent sizes (vocab, hidden, layers, heads, kv heads, head "
            "dim and intermediate must be positive; heads a multiple of kv heads)");
    // Past these no published model goes (the largest vocabularies are about 262k, the widest
    // residual streams 16k, the deepest stacks 126 layers), and every buffer the decoder sizes
    // from them stays addressable: a config claiming more is refused before anything is
    // allocated, with the limit named.
    for (const auto &[name, value, limit] :
        { std::tuple { "vocab_size", c.vocabSize, kMaxVocabSize },
            { "hidden size", c.hidden, kMaxModelWidth }, { "layers", c.layers, kMaxLayers },
            { "attention heads", c.heads, kMaxHeads }, { "head dim", c.headDim, kMaxModelWidth },
            { "intermediate size", c.intermediate, kMaxIntermediate } })
        if (value > limit)
            return fileError(file,
                std::string(name) + " " + std::to_string(value) + " is past the limit of "
                    + std::to_string(limit) + " this reads; refused");
    if (static_cast<int64_t>(c.slidingLayers.size()) != c.layers)
        return fileError(file,
            "layer_types has " + std::to_string(c.slidingLayers.size()) + " entries for "
                + std::to_string(c.layers) + " layers");
    const std::string &rope = c.ropeScaling.type;
    if (!c.learnedPositions && rope != "default" && rope != "linear" && rope != "llama3")
        return fileError(
            file, "RoPE scaling '" + rope + "' is not supported (default, linear, llama3)");
    return c;
}

Result<ModelConfig> readModelConfig(const std::string &modelDir)
{
    const std::string path = modelDir + "/config.json";
    std::ifstream in(path);
    if (!in)
        return fileError(path, "cannot open (is this a Hugging Face model directory?)");
    std::string text;
    FS_TRY(text, readTextFile(path, kMaxJsonFileBytes));
    return parseModelConfig(text, path);
}

} // namespace fscope::core::model
