#include "core/sae/sae_io.h"

#include "core/io/npz_tensor.h"
#include "core/model/decoder.h"
#include "core/model/hooks.h"
#include "core/sae/crosscoder_io.h"
#include "core/sae/dictionary_io.h"
#include "core/sae/sae_config_json.h"
#include "core/sae/tensor_set.h"

#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;
using nlohmann::json;

namespace fscope::core::sae {

namespace {

Result<Sae> loadSaeLens(const fs::path &dir)
{
    auto cfgDoc = readJsonFile((dir / "cfg.json").string());
    if (!cfgDoc)
        return cfgDoc.error();
    const json &j = *cfgDoc;
    if (isSaeLensCrosscoder(j))
        return loadSaeLensCrosscoder(dir.string(), j);
    const std::string cfgFile = (dir / "cfg.json").string();
    SaeLensConfig parsed;
    FS_TRY(parsed, parseSaeLensConfig(j, cfgFile));
    SaeConfig c = parsed.config;
    c.sourcePath = dir.string();
    TensorSet w;
    FS_TRY(w, readSafetensors((dir / "sae_weights.safetensors").string()));
    SaeWeights weights;
    FS_TRY(weights.W_enc, w.take("W_enc", { c.dIn, c.dSae }));
    FS_TRY(weights.W_dec, w.take("W_dec", { c.dSae, c.decoderWidth() }));
    FS_TRY(weights.b_dec, w.take("b_dec", { c.decoderWidth() }));
    if (c.kind == DictionaryKind::SkipTranscoder) {
        // SAELens stores W_skip [d_out, d_in] and adds x @ W_skip^T.
        FS_TRY(weights.W_skip, w.take("W_skip", { c.decoderWidth(), c.dIn }));
        weights.W_skip = weights.W_skip.t().contiguous();
    }
    if (c.architecture == Architecture::Gated) {
        FS_TRY(weights.b_gate, w.take("b_gate", { c.dSae }));
        FS_TRY(weights.r_mag, w.take("r_mag", { c.dSae }));
        FS_TRY(weights.b_mag, w.take("b_mag", { c.dSae }));
    } else {
        FS_TRY(weights.b_enc, w.take("b_enc", { c.dSae }));
    }
    if (c.architecture == Architecture::JumpRelu) {
        FS_TRY(weights.threshold, w.take("threshold", { c.dSae }, false));
        if (!weights.threshold.defined()) { // older SAELens training checkpoints
            at::Tensor log;
            FS_TRY(log, w.take("log_threshold", { c.dSae }));
            weights.threshold = log.exp();
        }
    }
    std::error_code ec;
    if (fs::exists(dir / "sparsity.safetensors", ec)) {
        TensorSet sparsity;
        FS_TRY(sparsity, readSafetensors((dir / "sparsity.safetensors").string()));
        FS_TRY(weights.logDensity, sparsity.take("sparsity", { c.dSae }));
    }
    if (parsed.datasetScaled) {
        // SAELens folds the dataset scaling factor s into the weights (x' = s x).
        auto scaler = readJsonFile((dir / "activation_scaler.json").string());
        if (!scaler)
            return fileError(cfgFile,
                "normalize_activations 'expected_average_only_in' needs its "
                "scaling factor (activation_scaler.json missing)");
        const double s = scaler->value("scaling_factor", 1.0);
        weights.W_enc = weights.W_enc * s;
        weights.W_dec = weights.W_dec / s;
        weights.b_dec = weights.b_dec / s;
    }
    return Sae(c, weights);
}

Result<Sae> loadGemmaScope(const fs::path &file)
{
    auto arrays = io::loadNpz(file.string());
    if (!arrays)
        return arrays.error();
    TensorSet w { file.string(), std::move(arrays).value() };
    const at::Tensor *enc = w.find("W_enc");
    if (!enc || enc->dim() != 2)
        return fileError(file.string(), "missing tensor 'W_enc' (not a Gemma Scope params.npz?)");
    SaeConfig c;
    c.architecture = Architecture::JumpRelu;
    c.dIn = enc->size(0);
    c.dSae = enc->size(1);
    c.applyBDecToInput = false; // Gemma Scope encodes x directly
    c.hookName = gemmaScopeHook(fs::absolute(file).string());
    // gemma-scope-2b-pt-transcoders: reads the MLP's input, writes its output (the output of
    // post_feedforward_layernorm; dictionaries_interp.md A2).
    if (c.hookName.find(".mlp.hook_in") != std::string::npos) {
        c.kind = DictionaryKind::Transcoder;
        c.hooksOut = { c.hookName.substr(0, c.hookName.find(".mlp.hook_in")) + ".hook_mlp_out" };
    }
    c.sourceFormat = "gemma-scope";
    c.sourcePath = file.string();
    SaeWeights weights;
    FS_TRY(weights.W_enc, w.take("W_enc", { c.dIn, c.dSae }));
    FS_TRY(weights.W_dec, w.take("W_dec", { c.dSae, c.dIn }));
    FS_TRY(weights.b_enc, w.take("b_enc", { c.dSae }));
    FS_TRY(weights.b_dec, w.take("b_dec", { c.dIn }));
    FS_TRY(weights.threshold, w.take("threshold", { c.dSae }));
    return Sae(c, weights);
}

Result<Sae> loadSparsify(const fs::path &dir)
{
    auto cfgDoc = readJsonFile((dir / "cfg.json").string());
    if (!cfgDoc)
        return cfgDoc.error();
    const std::string cfgFile = (dir / "cfg.json").string();
    SparsifyConfig parsed;
    FS_TRY(parsed, parseSparsifyConfig(*cfgDoc, cfgFile, dir.filename().string()));
    TensorSet w;
    FS_TRY(w, readSafetensors((dir / "sae.safetensors").string()));
    const at::Tensor *enc = w.find("encoder.weight");
    if (!enc || enc->dim() != 2)
        return fileError(w.file, "missing tensor 'encoder.weight'");
    SaeConfig c = parsed.config;
    c.dSae = enc->size(0);
    c.dIn = enc->size(1);
    if (c.k > c.dSae)
        return fileError(
            cfgFile, "k " + std::to_string(c.k) + " is outside 1.." + std::to_string(c.dSae));
    c.sourcePath = dir.string();
    const bool skipConnection = parsed.skipConnection;
    SaeWeights weights;
    FS_TRY(weights.W_enc, w.take("encoder.weight", { c.dSae, c.dIn }));
    weights.W_enc = weights.W_enc.t().contiguous();
    FS_TRY(weights.b_enc, w.take("encoder.bias", { c.dSae }));
    // Orientation from the shape: row per latent is sparsify's own layout.
    const at::Tensor *dec = w.find("W_dec");
    if (dec && dec->sizes().vec() == std::vector<int64_t> { c.dIn, c.dSae } && c.dIn != c.dSae) {
        FS_TRY(weights.W_dec, w.take("W_dec", { c.dIn, c.dSae }));
        weights.W_dec = weights.W_dec.t().contiguous();
    } else {
        FS_TRY(weights.W_dec, w.take("W_dec", { c.dSae, c.dIn }));
    }
    FS_TRY(weights.b_dec, w.take("b_dec", { c.dIn }));
    if (skipConnection) { // W_skip [d_in, d_in], applied as x @ W_skip^T
        FS_TRY(weights.W_skip, w.take("W_skip", { c.dIn, c.dIn }));
        weights.W_skip = weights.W_skip.t().contiguous();
    }
    return Sae(c, weights);
}

} // namespace

namespace {

// Which format an SAE folder holds, from the weights file in it: what loadSae reads and what
// findSaes counts as an SAE.
enum class FolderFormat { None, GemmaScope, GemmaScope2, SaeLens, Sparsify, Itda, LayerSet };

FolderFormat folderFormat(const fs::path &p)
{
    std::error_code ec;
    if (!fs::is_directory(p, ec))
        return FolderFormat::None;
    if (fs::exists(p / "params.npz", ec))
        return FolderFormat::GemmaScope;
    if (isGemmaScope2Folder(p))
        return FolderFormat::GemmaScope2;
    if (isItdaFolder(p))
        return FolderFormat::Itda;
    if (layerSetFormat(p) != LayerSet::None)
        return FolderFormat::LayerSet;
    if (fs::exists(p / "sae_weights.safetensors", ec))
        return FolderFormat::SaeLens;
    if (fs::exists(p / "sae.safetensors", ec))
        return FolderFormat::Sparsify;
    return FolderFormat::None;
}

// Compares digit runs by their value, so "layer_2" sorts before "layer_10".
bool naturalLess(const std::string &a, const std::string &b)
{
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i]))
            && std::isdigit(static_cast<unsigned char>(b[j]))) {
            size_t ie = i, je = j;
            while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie])))
                ++ie;
            while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je])))
                ++je;
            const std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
            const std::string ta = na.substr(std::min(na.find_first_not_of('0'), na.size())),
                              tb = nb.substr(std::min(nb.find_first_not_of('0'), nb.size()));
            if (ta.size() != tb.size())
                return ta.size() < tb.size();
            if (ta != tb)
                return ta < tb;
            i = ie;
            j = je;
        } else {
            if (a[i] != b[j])
                return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

} // namespace

Result<std::vector<std::string>> findSaes(const std::string &dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return fileError(dir, "not a folder");
    std::vector<std::string> found;
    // A folder of per-layer dictionaries (a CLT, circuit-tracer transcoders) is one entry per
    // source layer, "DIR#layer=L".
    auto add = [&found](const fs::path &p, FolderFormat format) {
        if (format != FolderFormat::LayerSet) {
            found.push_back(p.string());
            return;
        }
        const LayerSet set = layerSetFormat(p);
        for (int64_t layer : layerSetLayers(p, set))
            found.push_back(layerSelector(p.string(), layer));
    };
    if (const FolderFormat top = folderFormat(dir); top != FolderFormat::None) {
        add(dir, top);
        return found;
    }
    for (auto it
         = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const FolderFormat format = folderFormat(it->path());
        if (format == FolderFormat::None)
            continue;
        add(it->path(), format);
        it.disable_recursion_pending(); // an SAE's own folder holds no further SAEs
    }
    if (ec)
        return fileError(dir, "cannot list the folder: " + ec.message());
    if (found.empty())
        return fileError(dir,
            "no SAE in this folder or below (looked for folders with params.npz, "
            "params.safetensors + config.json, sae_weights.safetensors, sae.safetensors, "
            "itda.safetensors, layer_{i}.safetensors, W_enc_{l}.safetensors or "
            "params_layer_{i}.safetensors)");
    std::sort(found.begin(), found.end(), naturalLess);
    return found;
}

Result<Sae> loadSae(const std::string &path, const LoadSaeOptions &options)
{
    std::error_code ec;
    const auto [base, layer] = splitLayerSelector(path);
    const fs::path p(base);
    Result<Sae> sae = Error {};
    const FolderFormat folder = folderFormat(p);
    // A config of the wrong shape (an array, a string where a number goes) is an error naming
    // the folder, whichever loader met it.
    try {
        if (fs::is_regular_file(p, ec) && p.extension() == ".npz")
            sae = loadGemmaScope(p);
        else if (fs::is_regular_file(p, ec) && p.filename() == "sae_weights.safetensors")
            sae = loadSaeLens(p.parent_path());
        else if (fs::is_regular_file(p, ec) && isCircuitTracerLayerFile(p))
            sae = loadCircuitTracerTranscoder(p);
        else if (folder == FolderFormat::LayerSet) {
            const Status supported = checkLayerSetSupported(p, layerSetFormat(p));
            sae = !supported ? Result<Sae>(supported.error())
                : layer >= 0
                ? loadLayerOfSet(p, layerSetFormat(p), layer)
                : Result<Sae>(fileError(base,
                    "holds one dictionary per layer; choose one with " + base + "#layer=L (layers "
                        + std::to_string(layerSetLayers(p, layerSetFormat(p)).size()) + ")"));
        } else if (folder == FolderFormat::GemmaScope)
            sae = loadGemmaScope(p / "params.npz");
        else if (folder == FolderFormat::GemmaScope2)
            sae = loadGemmaScope2(p);
        else if (folder == FolderFormat::Itda)
            sae = loadItda(p);
        else if (folder == FolderFormat::SaeLens)
            sae = loadSaeLens(p);
        else if (folder == FolderFormat::Sparsify)
            sae = loadSparsify(p);
        else if (!fs::exists(p, ec))
            return fileError(path, "no such file or directory");
        else
            return fileError(path,
                "not an SAE (expected a SAELens folder with cfg.json + sae_weights.safetensors, "
                "a Gemma Scope params.npz, a Gemma Scope 2 folder with config.json + "
                "params.safetensors, a sparsify folder with cfg.json + sae.safetensors, a "
                "circuit-tracer layer_{i}.safetensors or CLT folder, or an ITDA folder)");
    } catch (const json::exception &e) {
        return fileError(
            path, std::string("unexpected structure in its config (") + e.what() + ")");
    }
    if (!sae)
        return sae;
    SaeConfig config = sae->config();
    if (!options.hookName.empty() && config.readsSeveralHooks()
        && options.hookName != config.hookName)
        return fileError(path,
            "a crosscoder reads the hooks its config names ("
                + std::to_string(config.hooksIn.size()) + " of them, from " + config.hookName
                + "); --hook cannot move it");
    if (!options.hookName.empty())
        config.hookName = options.hookName;
    if (config.hookName.empty() && options.requireHook)
        return fileError(path,
            "the SAE does not say which hook it reads, and this needs the model: give it with "
            "--hook (e.g. --hook blocks.6.hook_resid_post)");
    if (!config.hookName.empty() && !model::parseHookName(config.hookName))
        return fileError(path, "hook '" + config.hookName + "' is not a known hook point");
    for (const auto &hook : config.hooksOut)
        if (!model::parseHookName(hook))
            return fileError(path, "output hook '" + hook + "' is not a known hook point");
    Sae out(config, sae->weights());
    if (auto finite = out.checkFinite(); !finite)
        return fileError(path, finite.errorMessage());
    auto device = model::resolveDevice(options.device);
    if (!device)
        return device.error();
    // Half-precision files are a storage choice: CPU kernels for f16/bf16 matmuls are slow or
    // missing, so on the CPU they are computed in float32 (as the decoder's "auto" does).
    const bool half = out.dtype() == at::kHalf || out.dtype() == at::kBFloat16;
    return out.to(*device, half && device->is_cpu() ? at::kFloat : out.dtype());
}

Status validateSaeForModel(const Sae &sae, const model::ModelConfig &model)
{
    if (sae.config().hookName.empty())
        return fileError(sae.config().sourcePath,
            "the SAE does not say which hook it reads, and this needs the model: give it with "
            "--hook (e.g. --hook blocks.6.hook_resid_post)");
    auto width = [&model](const std::string &point) {
        return point == "attn.hook_z"  ? model.heads * model.headDim
            : point == "mlp.hook_post" ? model.intermediate
                                       : model.hidden;
    };
    // Every hook it reads (a crosscoder's several) exists and is as wide as its share of d_in.
    const std::vector<std::string> inputs = sae.config().inputHooks();
    for (const auto &name : inputs) {
        const auto hook = model::parseHookName(name);
        if (!hook)
            return Error { "SAE hook '" + name + "' is not a known hook point" };
        if (hook->layer >= model.layers)
            return Error { "SAE hook '" + name + "' needs layer " + std::to_string(hook->layer)
                + " but the model has " + std::to_string(model.layers) + " layers" };
        if (sae.config().hookWidth() != width(hook->point))
            return Error { sae.config().sourcePath + ": SAE d_in "
                + std::to_string(sae.config().hookWidth()) + (inputs.size() > 1 ? " per hook" : "")
                + " does not match the " + std::to_string(width(hook->point)) + "-wide hook " + name
                + " of this model" };
    }
    // A transcoder or CLT also writes: every output hook exists and is as wide as its decoder.
    for (const auto &name : sae.config().hooksOut) {
        const auto out = model::parseHookName(name);
        if (!out || out->layer >= model.layers)
            return Error { sae.config().sourcePath + ": output hook '" + name
                + "' is not in this model (" + std::to_string(model.layers) + " layers)" };
        const int64_t written = sae.config().readsSeveralHooks() ? sae.config().hookWidth()
                                                                 : sae.config().decoderWidth();
        if (written != width(out->point))
            return Error { sae.config().sourcePath + ": decoder width " + std::to_string(written)
                + " does not match the " + std::to_string(width(out->point)) + "-wide output hook "
                + name };
    }
    return {};
}

Status saveSaeLens(const Sae &sae, const std::string &dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return fileError(dir, "cannot create directory: " + ec.message());
    const SaeConfig &c = sae.config();
    const SaeWeights &w = sae.weights();
    if (c.kind == DictionaryKind::Crosscoder)
        return saveSaeLensCrosscoder(sae, dir);
    const bool transcoder
        = c.kind == DictionaryKind::Transcoder || c.kind == DictionaryKind::SkipTranscoder;
    if (c.kind != DictionaryKind::Sae && !transcoder)
        return fileError(dir, "SAELens has no format for a " + kindName(c.kind) + " dictionary");
    if (transcoder && c.architecture != Architecture::Relu
        && c.architecture != Architecture::JumpRelu)
        return fileError(dir,
            "SAELens transcoders are ReLU or JumpReLU, not " + architectureName(c.architecture));
    // SAELens' transcoder architectures: [jumprelu_][skip_]transcoder.
    const std::string architecture = !transcoder
        ? architectureName(c.architecture)
        : std::string(c.architecture == Architecture::JumpRelu ? "jumprelu_" : "")
            + (c.kind == DictionaryKind::SkipTranscoder ? "skip_" : "") + "transcoder";
    json cfg = { { "d_in", c.dIn }, { "d_sae", c.dSae }, { "architecture", architecture },
        { "apply_b_dec_to_input", c.applyBDecToInput },
        { "normalize_activations", normalizationName(c.normalization) }, { "dtype", c.dtype },
        { "device", "cpu" },
        { "reshape_activations",
            c.hookName.find("hook_z") != std::string::npos ? "hook_z" : "none" },
        { "metadata",
            { { "sae_lens_version", "6.0.0" }, { "hook_name", c.hookName },
                { "model_name", c.modelName }, { "prepend_bos", c.prependBos },
                { "model_from_pretrained_kwargs",
                    { { "center_writing_weights", c.centerInput } } } } } };
    if (c.architecture == Architecture::TopK || c.architecture == Architecture::AbsTopK) {
        cfg["k"] = c.k;
        cfg["rescale_acts_by_decoder_norm"] = c.rescaleActsByDecoderNorm;
    }
    if (transcoder) {
        cfg["d_out"] = c.decoderWidth();
        cfg["metadata"]["hook_name_out"] = c.outputHook();
    }
    io::NamedTensors tensors = { { "W_enc", w.W_enc }, { "W_dec", w.W_dec }, { "b_dec", w.b_dec } };
    if (w.W_skip.defined()) // SAELens' orientation: [d_out, d_in]
        tensors.emplace_back("W_skip", w.W_skip.t().contiguous());
    for (const auto &[name, t] : { std::pair { "b_enc", w.b_enc }, { "threshold", w.threshold },
             { "b_gate", w.b_gate }, { "r_mag", w.r_mag }, { "b_mag", w.b_mag } })
        if (t.defined())
            tensors.emplace_back(name, t);
    if (auto s
        = io::writeSafetensors((fs::path(dir) / "sae_weights.safetensors").string(), tensors);
        !s)
        return s;
    if (w.logDensity.defined())
        if (auto s = io::writeSafetensors((fs::path(dir) / "sparsity.safetensors").string(),
                { { "sparsity", w.logDensity } });
            !s)
            return s;
    std::ofstream out(fs::path(dir) / "cfg.json");
    out << cfg.dump(2) << "\n";
    if (!out)
        return fileError((fs::path(dir) / "cfg.json").string(), "write failed");
    return {};
}

} // namespace fscope::core::sae

namespace fscope::core::sae {

Result<DictionaryInfo> describeDictionary(const std::string &path, const LoadSaeOptions &options)
{
    const auto [base, layer] = splitLayerSelector(path);
    const LayerSet set = layerSetFormat(base);
    DictionaryInfo info;
    if (set == LayerSet::None || layer >= 0) {
        Sae sae = Sae({}, {});
        FS_TRY(sae, loadSae(path, options));
        info.config = sae.config();
        info.hooksIn = info.config.inputHooks();
        info.hooksOut = info.config.outputHooks();
        return info;
    }
    // A whole per-layer folder: the first layer says the sizes, and the others follow the same
    // hook points one layer on (every format here names its hooks by point, not per file).
    const std::vector<int64_t> layers = layerSetLayers(base, set);
    Sae first = Sae({}, {});
    FS_TRY(first, loadLayerOfSet(base, set, layers.empty() ? 0 : layers.front()));
    info.config = first.config();
    info.layers = static_cast<int64_t>(layers.size());
    const auto in = model::parseHookName(info.config.hookName);
    const auto out = model::parseHookName(info.config.outputHook());
    if (!in || !out)
        return fileError(base, "its first layer names no hook points");
    for (int64_t l : layers) {
        info.hooksIn.push_back("blocks." + std::to_string(l) + "." + in->point);
        info.hooksOut.push_back("blocks." + std::to_string(l) + "." + out->point);
    }
    return info;
}

} // namespace fscope::core::sae
