#include "core/sae/sae_config_json.h"

#include "core/util/json_file.h"

#include <map>
#include <regex>

using nlohmann::json;

namespace fscope::core::sae {

Result<SaeLensConfig> parseSaeLensConfig(const json &j, const std::string &cfgFile)
{
    if (!j.is_object())
        return fileError(cfgFile, "not a JSON object");
    SaeLensConfig out;
    SaeConfig &c = out.config;
    c.sourceFormat = "saelens";
    try {
        const json meta = j.value("metadata", json::object());
        if (!meta.is_object())
            return fileError(cfgFile, "metadata is not an object");
        c.dIn = jsonInt64(j.at("d_in"));
        c.dSae = jsonInt64(j.at("d_sae"));
        if (c.dIn <= 0 || c.dSae <= 0)
            return fileError(cfgFile,
                "d_in " + std::to_string(c.dIn) + " and d_sae " + std::to_string(c.dSae)
                    + " must be positive");
        std::string arch = j.value("architecture", "standard");
        // Transcoders (SAELens saes/transcoder.py): the architecture names the kind; d_out and
        // hook_name_out say where the decoder writes.
        const bool transcoder = arch.find("transcoder") != std::string::npos;
        if (transcoder) {
            c.kind = arch.find("skip") != std::string::npos ? DictionaryKind::SkipTranscoder
                                                            : DictionaryKind::Transcoder;
            arch = arch.rfind("jumprelu", 0) == 0 ? "jumprelu" : "standard";
            c.dOut = j.contains("d_out") ? jsonInt64(j["d_out"]) : c.dIn;
            if (c.dOut <= 0)
                return fileError(cfgFile, "d_out " + std::to_string(c.dOut) + " must be positive");
            const std::string hookOut = meta.value("hook_name_out", j.value("hook_name_out", ""));
            if (hookOut.empty())
                return fileError(cfgFile,
                    "a transcoder config must name its output hook (metadata.hook_name_out)");
            c.hooksOut = { hookOut };
        }
        // Pre-6.0 configs name TopK through the activation function.
        const std::string fn
            = j.value("activation_fn_str", j.value("activation_fn", std::string()));
        if (fn == "topk") {
            arch = "topk";
            const json kwargs = j.value("activation_fn_kwargs", json::object());
            c.k = kwargs.is_object() && kwargs.contains("k") ? jsonInt64(kwargs["k"]) : 0;
        }
        if (arch == "standard")
            c.architecture = Architecture::Relu;
        else if (arch == "jumprelu" || arch == "batchtopk") // BatchTopK is saved as JumpReLU
            c.architecture = Architecture::JumpRelu;
        else if (arch == "topk")
            c.architecture = Architecture::TopK;
        else if (arch == "abstopk")
            c.architecture = Architecture::AbsTopK;
        else if (arch == "gated")
            c.architecture = Architecture::Gated;
        else
            return fileError(cfgFile, "architecture '" + arch + "' is not supported");
        if (j.contains("k") && j["k"].is_number_integer())
            c.k = jsonInt64(j["k"]);
        c.rescaleActsByDecoderNorm = j.value("rescale_acts_by_decoder_norm", false);
        c.applyBDecToInput = j.value("apply_b_dec_to_input", !transcoder);
        if (transcoder && c.applyBDecToInput)
            return fileError(cfgFile,
                "apply_b_dec_to_input must be false for a transcoder (b_dec lives in the output "
                "space)");
        c.hookName
            = meta.value("hook_name", j.value("hook_name", j.value("hook_point", std::string())));
        c.modelName = meta.value("model_name", j.value("model_name", std::string()));
        c.prependBos = meta.value("prepend_bos", j.value("prepend_bos", true));
        c.dtype = j.value("dtype", std::string("float32"));
        const json kwargs = meta.value("model_from_pretrained_kwargs",
            j.value("model_from_pretrained_kwargs", json::object()));
        c.centerInput = kwargs.is_object() && kwargs.value("center_writing_weights", false);
        std::string norm = "none";
        if (j.contains("normalize_activations")) {
            const json &n = j["normalize_activations"];
            norm = n.is_boolean() ? (n.get<bool>() ? "expected_average_only_in" : "none")
                                  : n.get<std::string>();
        }
        if (norm == "constant_norm_rescale")
            c.normalization = Normalization::ConstantNormRescale;
        else if (norm == "layer_norm")
            c.normalization = Normalization::LayerNorm;
        else if (norm != "none" && norm != "expected_average_only_in")
            return fileError(cfgFile, "normalize_activations '" + norm + "' is not supported");
        out.datasetScaled = norm == "expected_average_only_in";
        if ((c.architecture == Architecture::TopK || c.architecture == Architecture::AbsTopK)
            && (c.k <= 0 || c.k > c.dSae))
            return fileError(cfgFile,
                "a TopK SAE needs k in 1.." + std::to_string(c.dSae) + " (k is "
                    + std::to_string(c.k) + ")");
    } catch (const json::exception &e) {
        return fileError(cfgFile, std::string("missing or mistyped key (") + e.what() + ")");
    }
    return out;
}

Result<SparsifyConfig> parseSparsifyConfig(
    const json &cfg, const std::string &cfgFile, const std::string &folder)
{
    if (!cfg.is_object())
        return fileError(cfgFile, "not a JSON object");
    SparsifyConfig out;
    SaeConfig &c = out.config;
    try {
        const std::string activation = cfg.value("activation", std::string("topk"));
        if (activation != "topk")
            return fileError(
                cfgFile, "sparsify activation '" + activation + "' is not supported (topk only)");
        // sparsify transcoders (config.py: transcode, skip_connection) read a module's input and
        // predict its output; their encoder reads x directly (no b_dec subtraction).
        const bool transcode = cfg.value("transcode", false);
        out.skipConnection = cfg.value("skip_connection", false);
        c.architecture = Architecture::TopK;
        c.k = cfg.contains("k") ? jsonInt64(cfg["k"]) : 32;
        if (c.k <= 0)
            return fileError(cfgFile, "k " + std::to_string(c.k) + " must be positive");
        c.applyBDecToInput = !transcode; // sparsify subtracts b_dec for SAEs only
        c.sourceFormat = "sparsify";
        std::smatch m;
        if (std::regex_match(folder, m, std::regex(R"(layers\.(\d{1,6}))"))) {
            c.hookName
                = "blocks." + m[1].str() + (transcode ? ".hook_resid_pre" : ".hook_resid_post");
            if (transcode)
                c.hooksOut = { "blocks." + m[1].str() + ".hook_resid_post" };
        } else if (std::regex_match(folder, m, std::regex(R"(layers\.(\d{1,6})\.mlp)"))) {
            c.hookName = "blocks." + m[1].str() + (transcode ? ".mlp.hook_in" : ".hook_mlp_out");
            if (transcode)
                c.hooksOut = { "blocks." + m[1].str() + ".hook_mlp_out" };
        } else if (folder == "embed_tokens") {
            c.hookName = "hook_embed";
        }
        if (transcode)
            c.kind
                = out.skipConnection ? DictionaryKind::SkipTranscoder : DictionaryKind::Transcoder;
        else if (out.skipConnection)
            return fileError(
                cfgFile, "skip_connection without transcode is not a sparsify layout this reads");
    } catch (const json::exception &e) {
        return fileError(cfgFile, std::string("missing or mistyped key (") + e.what() + ")");
    }
    return out;
}

Result<GemmaScope2Config> parseGemmaScope2Config(const json &cfg, const std::string &cfgFile)
{
    if (!cfg.is_object())
        return fileError(cfgFile, "not a JSON object");
    GemmaScope2Config out;
    try {
        const std::string arch = cfg.value("architecture", std::string("jump_relu"));
        if (arch != "jump_relu" && arch != "jumprelu")
            return fileError(cfgFile, "architecture '" + arch + "' is not supported (jump_relu)");
        out.modelName = cfg.value("model_name", std::string());
        const std::string in = cfg.value("hf_hook_point_in", std::string());
        const std::string outPoint = cfg.value("hf_hook_point_out", in);
        out.hookIn = hookFromModulePath(in);
        out.hookOut = hookFromModulePath(outPoint);
        out.distinctOutput = in != outPoint;
        if (!in.empty() && out.hookIn.empty())
            return fileError(cfgFile, "hf_hook_point_in '" + in + "' is not a hook this reads");
        if (!outPoint.empty() && out.hookOut.empty())
            return fileError(
                cfgFile, "hf_hook_point_out '" + outPoint + "' is not a hook this reads");
    } catch (const json::exception &e) {
        return fileError(cfgFile, std::string("missing or mistyped key (") + e.what() + ")");
    }
    return out;
}

std::string hookFromModulePath(const std::string &module)
{
    // Gemma 3's multimodal checkpoints nest the text model under language_model.
    std::string m = std::regex_replace(module, std::regex(R"(^model\.language_model\.)"), "model.");
    std::smatch g;
    if (!std::regex_match(m, g, std::regex(R"(^model\.layers\.(\d{1,6})\.(.+)$)")))
        return {};
    const std::string block = "blocks." + g[1].str() + ".";
    static const std::map<std::string, std::string> points = {
        { "input", "hook_resid_pre" },
        { "output", "hook_resid_post" },
        { "pre_feedforward_layernorm.output", "mlp.hook_in" },
        { "post_attention_layernorm.output", "mlp.hook_in" }, // Llama / Qwen: the pre-MLP norm
        { "post_feedforward_layernorm.output", "hook_mlp_out" },
        { "mlp.output", "hook_mlp_out" },
        { "mlp.input", "mlp.hook_in" },
        { "self_attn.o_proj.input", "attn.hook_z" },
        { "mlp.down_proj.input", "mlp.hook_post" },
    };
    const auto it = points.find(g[2].str());
    return it == points.end() ? std::string() : block + it->second;
}

// Gemma Scope release paths:
// ".../gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82/params.npz".
std::string gemmaScopeHook(const std::string &path)
{
    std::smatch m;
    if (!std::regex_search(path, m, std::regex(R"(layer_(\d{1,6}))")))
        return {};
    const std::string layer = m[1].str();
    if (path.find("transcoder") != std::string::npos) // MLP in -> MLP out
        return "blocks." + layer + ".mlp.hook_in";
    if (path.find("-mlp") != std::string::npos)
        return "blocks." + layer + ".hook_mlp_out";
    if (path.find("-att") != std::string::npos)
        return "blocks." + layer + ".attn.hook_z";
    return "blocks." + layer + ".hook_resid_post";
}

} // namespace fscope::core::sae
