#include "core/sae/crosscoder_io.h"

#include "core/io/torch_tensor.h"
#include "core/model/hooks.h"
#include "core/sae/tensor_set.h"
#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace fscope::core::sae {

namespace {

const json &hookNamesOf(const json &cfg)
{
    static const json none;
    if (cfg.contains("hook_names"))
        return cfg["hook_names"];
    if (cfg.contains("metadata") && cfg["metadata"].is_object()
        && cfg["metadata"].contains("hook_names"))
        return cfg["metadata"]["hook_names"];
    return none;
}

Result<Architecture> architectureOf(const std::string &file, const json &cfg, int64_t &k)
{
    const std::string arch = cfg.value("architecture", "standard");
    if (cfg.contains("k") && cfg["k"].is_number())
        k = jsonInt64(cfg["k"]);
    if (arch == "standard")
        return Architecture::Relu;
    if (arch == "jumprelu")
        return Architecture::JumpRelu;
    if (arch == "topk")
        return Architecture::TopK;
    return fileError(
        file, "crosscoder architecture '" + arch + "' is not supported (standard, jumprelu, topk)");
}

} // namespace

bool isSaeLensCrosscoder(const json &cfg)
{
    return hookNamesOf(cfg).is_array();
}

Result<Sae> loadSaeLensCrosscoder(const std::string &dirName, const json &j)
{
    const fs::path dir(dirName);
    const std::string cfgFile = (dir / "cfg.json").string();
    const json meta = j.value("metadata", json::object());
    SaeConfig c;
    c.kind = DictionaryKind::Crosscoder;
    c.sourceFormat = "saelens";
    c.sourcePath = dir.string();
    try {
        for (const json &h : hookNamesOf(j)) {
            if (!h.is_string())
                return fileError(cfgFile, "hook_names must be a list of hook names");
            c.hooksIn.push_back(h.get<std::string>());
        }
        const int64_t n = static_cast<int64_t>(c.hooksIn.size());
        if (n < 1)
            return fileError(cfgFile, "hook_names is empty");
        for (const std::string &h : c.hooksIn) {
            const auto parsed = model::parseHookName(h);
            if (!parsed)
                return fileError(cfgFile, "hook_names holds '" + h + "', not a known hook point");
            if (parsed->point == "attn.hook_z") // CrosscoderSAE raises for hook_z as well
                return fileError(cfgFile, "a crosscoder over attn.hook_z is not supported");
        }
        const int64_t d = jsonInt64(j.at("d_in"));
        c.dSae = jsonInt64(j.at("d_sae"));
        if (d <= 0 || c.dSae <= 0)
            return fileError(cfgFile,
                "d_in " + std::to_string(d) + " and d_sae " + std::to_string(c.dSae)
                    + " must be positive");
        c.dIn = n * d; // d_in is per hook; the dictionary reads them concatenated
        c.hookName = c.hooksIn.front();
        c.hooksOut = c.hooksIn;
        FS_TRY(c.architecture, architectureOf(cfgFile, j, c.k));
        if (c.architecture == Architecture::TopK && c.k <= 0)
            return fileError(cfgFile, "a TopK crosscoder needs k > 0");
        c.rescaleActsByDecoderNorm = j.value("rescale_acts_by_decoder_norm", false);
        c.applyBDecToInput = j.value("apply_b_dec_to_input", true);
        c.modelName = meta.value("model_name", j.value("model_name", std::string()));
        c.prependBos = meta.value("prepend_bos", j.value("prepend_bos", true));
        c.dtype = j.value("dtype", std::string("float32"));
        // Normalising or centring the concatenated row is not the same as doing it per hook,
        // and the format does not say which it means: only the folded dataset factor is read.
        std::string norm = "none";
        if (j.contains("normalize_activations")) {
            const json &v = j["normalize_activations"];
            norm = v.is_boolean() ? (v.get<bool>() ? "expected_average_only_in" : "none")
                                  : v.get<std::string>();
        }
        if (norm != "none" && norm != "expected_average_only_in")
            return fileError(cfgFile,
                "normalize_activations '" + norm
                    + "' is not supported for a crosscoder (per hook or over the "
                      "concatenation is not said)");
        const json kwargs = meta.value("model_from_pretrained_kwargs",
            j.value("model_from_pretrained_kwargs", json::object()));
        if (kwargs.is_object() && kwargs.value("center_writing_weights", false))
            return fileError(cfgFile, "center_writing_weights is not supported for a crosscoder");

        TensorSet w;
        FS_TRY(w, readSafetensors((dir / "sae_weights.safetensors").string()));
        SaeWeights weights;
        FS_TRY(weights.W_enc, w.take("W_enc", { n, d, c.dSae }));
        FS_TRY(weights.W_dec, w.take("W_dec", { c.dSae, n, d }));
        FS_TRY(weights.b_dec, w.take("b_dec", { n, d }));
        FS_TRY(weights.b_enc, w.take("b_enc", { c.dSae }));
        if (c.architecture == Architecture::JumpRelu)
            FS_TRY(weights.threshold, w.take("threshold", { c.dSae }));
        if (norm == "expected_average_only_in") {
            // CrosscoderSAE.fold_activation_norm_scaling_factor: one factor per hook.
            auto scaler = readJsonFile((dir / "activation_scaler.json").string());
            if (!scaler)
                return fileError(cfgFile,
                    "normalize_activations 'expected_average_only_in' needs its scaling "
                    "factors (activation_scaler.json missing)");
            const json factor = scaler->value("scaling_factor", json(1.0));
            std::vector<double> s;
            if (factor.is_array())
                for (const json &v : factor)
                    s.push_back(v.get<double>());
            else
                s.assign(static_cast<size_t>(n), factor.get<double>());
            if (static_cast<int64_t>(s.size()) != n)
                return fileError((dir / "activation_scaler.json").string(),
                    std::to_string(s.size()) + " scaling factors for " + std::to_string(n)
                        + " hooks");
            const at::Tensor f = at::tensor(s, at::kDouble).to(weights.W_enc.scalar_type());
            weights.W_enc = weights.W_enc * f.view({ n, 1, 1 });
            weights.W_dec = weights.W_dec / f.view({ 1, n, 1 });
            weights.b_dec = weights.b_dec / f.view({ n, 1 });
        }
        // Flattened over (n, d_in), hook-major: row l * d + i is hook l's coordinate i.
        weights.W_enc = weights.W_enc.reshape({ n * d, c.dSae }).contiguous();
        weights.W_dec = weights.W_dec.reshape({ c.dSae, n * d }).contiguous();
        weights.b_dec = weights.b_dec.reshape({ n * d }).contiguous();
        return Sae(c, weights);
    } catch (const json::exception &e) {
        return fileError(cfgFile, std::string("missing or mistyped key (") + e.what() + ")");
    }
}

Status saveSaeLensCrosscoder(const Sae &sae, const std::string &dirName)
{
    const SaeConfig &c = sae.config();
    const SaeWeights &w = sae.weights();
    if (c.kind != DictionaryKind::Crosscoder || c.hooksIn.empty())
        return fileError(dirName, "not a crosscoder");
    if (c.architecture != Architecture::Relu && c.architecture != Architecture::JumpRelu
        && c.architecture != Architecture::TopK)
        return fileError(
            dirName, "a " + architectureName(c.architecture) + " crosscoder has no SAELens form");
    std::error_code ec;
    fs::create_directories(dirName, ec);
    if (ec)
        return fileError(dirName, "cannot create directory: " + ec.message());
    const int64_t n = static_cast<int64_t>(c.hooksIn.size()), d = c.hookWidth();
    json cfg = { { "d_in", d }, { "d_sae", c.dSae },
        { "architecture", architectureName(c.architecture) }, { "hook_names", c.hooksIn },
        { "apply_b_dec_to_input", c.applyBDecToInput }, { "normalize_activations", "none" },
        { "dtype", c.dtype }, { "device", "cpu" }, { "reshape_activations", "none" },
        { "metadata",
            { { "sae_lens_version", "6.0.0" }, { "hook_names", c.hooksIn },
                { "model_name", c.modelName }, { "prepend_bos", c.prependBos } } } };
    if (c.architecture == Architecture::TopK) {
        cfg["k"] = c.k;
        cfg["rescale_acts_by_decoder_norm"] = c.rescaleActsByDecoderNorm;
    }
    io::NamedTensors tensors = { { "W_enc", w.W_enc.reshape({ n, d, c.dSae }).contiguous() },
        { "b_enc", w.b_enc }, { "W_dec", w.W_dec.reshape({ c.dSae, n, d }).contiguous() },
        { "b_dec", w.b_dec.reshape({ n, d }).contiguous() } };
    if (w.threshold.defined())
        tensors.emplace_back("threshold", w.threshold);
    const fs::path dir(dirName);
    if (auto s = io::writeSafetensors((dir / "sae_weights.safetensors").string(), tensors); !s)
        return s;
    std::ofstream out(dir / "cfg.json");
    out << cfg.dump(2) << "\n";
    if (!out)
        return fileError((dir / "cfg.json").string(), "write failed");
    return {};
}

} // namespace fscope::core::sae
