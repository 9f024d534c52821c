#include "core/sae/dictionary_io.h"

#include "core/io/checkpoint.h"
#include "core/model/hooks.h"
#include "core/sae/sae_config_json.h"
#include "core/sae/tensor_set.h"
#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

namespace fs = std::filesystem;
using nlohmann::json;

namespace fscope::core::sae {

namespace {

// Layer numbers of the files in `dir` whose names match `pattern` (one capture: the layer).
std::vector<int64_t> numberedFiles(const fs::path &dir, const std::regex &pattern)
{
    std::vector<int64_t> layers;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        std::smatch m;
        const std::string name = it->path().filename().string();
        if (std::regex_match(name, m, pattern) && m[1].length() <= 6)
            layers.push_back(std::stoll(m[1].str()));
    }
    std::sort(layers.begin(), layers.end());
    return layers;
}

const std::regex kCtLayerFile(R"(layer_(\d+)\.safetensors)");
const std::regex kCtEncoderFile(R"(W_enc_(\d+)\.safetensors)");
const std::regex kGs2LayerFile(R"(params_layer_(\d+)\.safetensors)");

// circuit-tracer's config.yaml: only its top-level scalars are read (feature_input_hook,
// feature_output_hook, activation, k); nested transcoder lists are not needed because the
// files sit next to it.
std::map<std::string, std::string> readYamlScalars(const fs::path &file)
{
    std::map<std::string, std::string> out;
    std::ifstream in(file);
    std::string line;
    const std::regex scalar(R"(^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$)");
    while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_match(line, m, scalar))
            continue;
        std::string value = m[2].str();
        if (const size_t hash = value.find(" #"); hash != std::string::npos)
            value = value.substr(0, hash);
        if (value.size() >= 2
            && ((value.front() == '"' && value.back() == '"')
                || (value.front() == '\'' && value.back() == '\'')))
            value = value.substr(1, value.size() - 2);
        if (!value.empty())
            out[m[1].str()] = value;
    }
    return out;
}

struct CtSettings {
    std::string inputPoint = "hook_resid_mid"; // circuit-tracer's defaults
    std::string outputPoint = "hook_mlp_out";
    std::string activation; // "", relu, topk
    int64_t k = 0;
};

// circuit-tracer names hook points as TransformerLens does, or by nnsight's "mlp.hook_in".
Result<CtSettings> circuitTracerSettings(const fs::path &dir)
{
    CtSettings s;
    const fs::path yaml = dir / "config.yaml";
    std::error_code ec;
    if (!fs::exists(yaml, ec))
        return s;
    const auto values = readYamlScalars(yaml);
    auto point = [&](const char *key, std::string &out) -> Status {
        if (!values.count(key))
            return {};
        std::string v = values.at(key);
        if (const size_t dot = v.find('.'); v.rfind("blocks.", 0) == 0 && dot != std::string::npos)
            v = v.substr(v.find('.', dot + 1) + 1); // "blocks.{layer}.hook_x" -> "hook_x"
        if (!model::parseHookName("blocks.0." + v))
            return fileError(yaml.string(),
                std::string(key) + " '" + values.at(key) + "' is not a hook point this reads");
        out = v;
        return {};
    };
    if (auto st = point("feature_input_hook", s.inputPoint); !st)
        return st.error();
    if (auto st = point("feature_output_hook", s.outputPoint); !st)
        return st.error();
    s.activation = values.count("activation") ? values.at("activation") : "";
    if (values.count("k")) {
        try {
            s.k = std::stoll(values.at("k"));
        } catch (const std::exception &) {
            return fileError(yaml.string(), "k '" + values.at("k") + "' is not an integer");
        }
    }
    if (!s.activation.empty() && s.activation != "relu" && s.activation != "topk"
        && s.activation != "jumprelu")
        return fileError(yaml.string(),
            "activation '" + s.activation + "' is not supported (relu, topk, jumprelu)");
    return s;
}

// The activation of a circuit-tracer encoder: TopK when configured, JumpReLU when a threshold
// is stored, ReLU otherwise (transcoder/activation_functions.py).
Status applyCtActivation(SaeConfig &c, SaeWeights &w, const TensorSet &t,
    const std::string &thresholdName, const CtSettings &s)
{
    const at::Tensor *k = t.find("k");
    if (s.activation == "topk" || (k && s.activation.empty())) {
        c.architecture = Architecture::TopK;
        c.k = s.k > 0 ? s.k : k ? k->item<int64_t>() : 0;
        if (c.k <= 0 || c.k > c.dSae)
            return fileError(t.file, "a TopK transcoder needs 1 <= k <= " + std::to_string(c.dSae));
        return {};
    }
    at::Tensor threshold;
    FS_TRY(threshold, t.take(thresholdName, { c.dSae }, false));
    if (threshold.defined() && s.activation != "relu") {
        c.architecture = Architecture::JumpRelu;
        w.threshold = threshold;
    } else {
        c.architecture = Architecture::Relu;
    }
    return {};
}

} // namespace

std::pair<std::string, int64_t> splitLayerSelector(const std::string &path)
{
    std::smatch m;
    static const std::regex selector(R"(^(.*)#layer=(\d{1,6})$)");
    if (std::regex_match(path, m, selector))
        return { m[1].str(), std::stoll(m[2].str()) };
    return { path, -1 };
}

std::string layerSelector(const std::string &dir, int64_t layer)
{
    return dir + "#layer=" + std::to_string(layer);
}

LayerSet layerSetFormat(const fs::path &dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return LayerSet::None;
    if (fs::exists(dir / "W_enc_0.safetensors", ec))
        return LayerSet::CircuitTracerClt;
    if (fs::exists(dir / "params_layer_0.safetensors", ec))
        return LayerSet::GemmaScope2Clt;
    if (!numberedFiles(dir, kCtLayerFile).empty())
        return LayerSet::CircuitTracerTranscoders;
    return LayerSet::None;
}

std::vector<int64_t> layerSetLayers(const fs::path &dir, LayerSet format)
{
    switch (format) {
    case LayerSet::None:
        return {};
    case LayerSet::GemmaScope2Clt:
        return numberedFiles(dir, kGs2LayerFile);
    case LayerSet::CircuitTracerTranscoders:
        return numberedFiles(dir, kCtLayerFile);
    case LayerSet::CircuitTracerClt:
        return numberedFiles(dir, kCtEncoderFile);
    }
    return {};
}

bool isGemmaScope2Folder(const fs::path &dir)
{
    std::error_code ec;
    return fs::exists(dir / "params.safetensors", ec) && fs::exists(dir / "config.json", ec);
}

bool isItdaFolder(const fs::path &dir)
{
    std::error_code ec;
    return fs::exists(dir / "itda.safetensors", ec);
}

bool isCircuitTracerLayerFile(const fs::path &file)
{
    std::smatch m;
    const std::string name = file.filename().string();
    return std::regex_match(name, m, kCtLayerFile);
}

Result<Sae> loadGemmaScope2(const fs::path &dir)
{
    const std::string cfgFile = (dir / "config.json").string();
    json cfg;
    FS_TRY(cfg, readJsonFile(cfgFile));
    GemmaScope2Config parsed;
    FS_TRY(parsed, parseGemmaScope2Config(cfg, cfgFile));
    TensorSet w;
    FS_TRY(w, readSafetensors((dir / "params.safetensors").string()));
    {
        const at::Tensor *enc = w.find("w_enc");
        const at::Tensor *dec = w.find("w_dec");
        if (!enc || !dec || enc->dim() != 2 || dec->dim() != 2)
            return fileError(w.file,
                "not a Gemma Scope 2 params.safetensors (needs w_enc and w_dec; has " + w.names()
                    + ")");
        SaeConfig c;
        c.architecture = Architecture::JumpRelu;
        c.dIn = enc->size(0);
        c.dSae = enc->size(1);
        c.dOut = dec->size(1);
        c.applyBDecToInput = false; // pre = x w_enc + b_enc
        c.modelName = parsed.modelName;
        c.sourceFormat = "gemma-scope-2";
        c.sourcePath = dir.string();
        c.hookName = parsed.hookIn;
        const std::string outHook = parsed.hookOut;
        SaeWeights weights;
        FS_TRY(weights.W_enc, w.take("w_enc", { c.dIn, c.dSae }));
        FS_TRY(weights.W_dec, w.take("w_dec", { c.dSae, c.dOut }));
        FS_TRY(weights.b_enc, w.take("b_enc", { c.dSae }));
        FS_TRY(weights.b_dec, w.take("b_dec", { c.dOut }));
        FS_TRY(weights.threshold, w.take("threshold", { c.dSae }));
        // affine_skip_connection [d_in, d_out], added as x @ skip with no transpose (the
        // orientation a reconstruction check on the released weights confirms).
        FS_TRY(weights.W_skip, w.take("affine_skip_connection", { c.dIn, c.dOut }, false));
        if (parsed.distinctOutput || weights.W_skip.defined()) {
            c.kind = weights.W_skip.defined() ? DictionaryKind::SkipTranscoder
                                              : DictionaryKind::Transcoder;
            c.hooksOut = { outHook };
        } else if (c.dOut != c.dIn) {
            return fileError(cfgFile,
                "the decoder writes " + std::to_string(c.dOut) + " dimensions but reads "
                    + std::to_string(c.dIn) + " and one hook point is named");
        }
        return Sae(c, weights);
    }
}

Result<Sae> loadCircuitTracerTranscoder(const fs::path &file)
{
    std::smatch m;
    const std::string name = file.filename().string();
    if (!std::regex_match(name, m, kCtLayerFile))
        return fileError(file.string(), "not a circuit-tracer layer_{i}.safetensors");
    const std::string layer = m[1].str();
    CtSettings s;
    FS_TRY(s, circuitTracerSettings(file.parent_path()));
    TensorSet w;
    FS_TRY(w, readSafetensors(file.string()));
    const at::Tensor *enc = w.find("W_enc");
    const at::Tensor *bEnc = w.find("b_enc");
    if (!enc || !bEnc || enc->dim() != 2 || bEnc->dim() != 1)
        return fileError(w.file, "not a circuit-tracer transcoder (has " + w.names() + ")");
    SaeConfig c;
    // W_enc is [d_transcoder, d_model] here, the transpose of SAELens'; b_enc's length says
    // which side is which.
    const bool rowsAreFeatures = enc->size(0) == bEnc->size(0);
    c.dSae = bEnc->size(0);
    c.dIn = rowsAreFeatures ? enc->size(1) : enc->size(0);
    const at::Tensor *bDec = w.find("b_dec");
    c.dOut = bDec && bDec->dim() == 1 ? bDec->size(0) : c.dIn;
    c.applyBDecToInput = false;
    c.hookName = "blocks." + layer + "." + s.inputPoint;
    c.hooksOut = { "blocks." + layer + "." + s.outputPoint };
    c.sourceFormat = "circuit-tracer";
    c.sourcePath = file.string();
    SaeWeights weights;
    if (rowsAreFeatures) {
        FS_TRY(weights.W_enc, w.take("W_enc", { c.dSae, c.dIn }));
        weights.W_enc = weights.W_enc.t().contiguous();
    } else {
        FS_TRY(weights.W_enc, w.take("W_enc", { c.dIn, c.dSae }));
    }
    FS_TRY(weights.b_enc, w.take("b_enc", { c.dSae }));
    FS_TRY(weights.W_dec, w.take("W_dec", { c.dSae, c.dOut }));
    FS_TRY(weights.b_dec, w.take("b_dec", { c.dOut }));
    if (auto st = applyCtActivation(c, weights, w, "activation_function.threshold", s); !st)
        return st.error();
    FS_TRY(weights.W_skip, w.take("W_skip", { c.dOut, c.dIn }, false)); // applied x @ W_skip^T
    if (weights.W_skip.defined())
        weights.W_skip = weights.W_skip.t().contiguous();
    c.kind = weights.W_skip.defined() ? DictionaryKind::SkipTranscoder : DictionaryKind::Transcoder;
    return Sae(c, weights);
}

namespace {

// One source layer of a circuit-tracer CLT (mntss layout): W_enc_{l} [d_tc, d] with b_enc_{l},
// b_dec_{l} and threshold_{l}; W_dec_{l} [d_tc, n - l, d], one block per target t >= l.
Result<Sae> loadCircuitTracerCltLayer(const fs::path &dir, int64_t l, int64_t layers)
{
    CtSettings s;
    FS_TRY(s, circuitTracerSettings(dir));
    const std::string L = std::to_string(l);
    TensorSet e, d;
    FS_TRY(e, readSafetensors((dir / ("W_enc_" + L + ".safetensors")).string()));
    FS_TRY(d, readSafetensors((dir / ("W_dec_" + L + ".safetensors")).string()));
    const at::Tensor *enc = e.find("W_enc_" + L);
    if (!enc || enc->dim() != 2)
        return fileError(e.file, "missing tensor 'W_enc_" + L + "' (has " + e.names() + ")");
    SaeConfig c;
    c.kind = DictionaryKind::Clt;
    c.dSae = enc->size(0);
    c.dIn = enc->size(1);
    c.dOut = c.dIn;
    c.applyBDecToInput = false;
    c.hookName = "blocks." + L + "." + s.inputPoint;
    for (int64_t t = l; t < layers; ++t)
        c.hooksOut.push_back("blocks." + std::to_string(t) + "." + s.outputPoint);
    c.sourceFormat = "circuit-tracer-clt";
    c.sourcePath = layerSelector(dir.string(), l);
    SaeWeights w;
    FS_TRY(w.W_enc, e.take("W_enc_" + L, { c.dSae, c.dIn }));
    w.W_enc = w.W_enc.t().contiguous();
    FS_TRY(w.b_enc, e.take("b_enc_" + L, { c.dSae }));
    // b_dec_{l} is the bias of target layer l's reconstruction; it belongs to block 0.
    FS_TRY(w.b_dec, e.take("b_dec_" + L, { c.dOut }));
    if (auto st = applyCtActivation(c, w, e, "threshold_" + L, s); !st)
        return st.error();
    FS_TRY(w.W_dec_blocks, d.take("W_dec_" + L, { c.dSae, layers - l, c.dOut }));
    w.W_dec = w.W_dec_blocks.sum(1);
    return Sae(c, w);
}

// One source layer of a Gemma Scope 2 CLT: params_layer_{i} with w_enc [d_in, f], b_enc,
// threshold, b_dec [d_out] and w_dec [f, n_layers, d_out]. Only the blocks i.. are kept: a
// CLT writes forward (circuit-tracer keeps w_dec[:, i:, :] too).
Result<Sae> loadGemmaScope2CltLayer(const fs::path &dir, int64_t i, int64_t layers)
{
    const std::string I = std::to_string(i);
    TensorSet w;
    FS_TRY(w, readSafetensors((dir / ("params_layer_" + I + ".safetensors")).string()));
    const at::Tensor *enc = w.find("w_enc");
    const at::Tensor *dec = w.find("w_dec");
    if (!enc || !dec || enc->dim() != 2 || dec->dim() != 3)
        return fileError(w.file,
            "not a Gemma Scope 2 CLT layer (needs w_enc [d_in, f] and w_dec [f, layers, d_out]; "
            "has "
                + w.names() + ")");
    if (dec->size(1) != layers)
        return fileError(w.file,
            "w_dec has " + std::to_string(dec->size(1)) + " output layers but the folder holds "
                + std::to_string(layers) + " params_layer files");
    std::string inPoint = "mlp.hook_in", outPoint = "hook_mlp_out";
    std::error_code ec;
    if (fs::exists(dir / "config.json", ec)) {
        json cfg;
        FS_TRY(cfg, readJsonFile((dir / "config.json").string()));
        auto point = [&](const char *key, std::string &out) {
            const std::string hook = hookFromModulePath(cfg.value(key, std::string()));
            if (!hook.empty())
                out = hook.substr(hook.find('.', 7) + 1);
        };
        point("hf_hook_point_in", inPoint);
        point("hf_hook_point_out", outPoint);
    }
    SaeConfig c;
    c.kind = DictionaryKind::Clt;
    c.architecture = Architecture::JumpRelu;
    c.dIn = enc->size(0);
    c.dSae = enc->size(1);
    c.dOut = dec->size(2);
    c.applyBDecToInput = false;
    c.hookName = "blocks." + I + "." + inPoint;
    for (int64_t t = i; t < layers; ++t)
        c.hooksOut.push_back("blocks." + std::to_string(t) + "." + outPoint);
    c.sourceFormat = "gemma-scope-2-clt";
    c.sourcePath = layerSelector(dir.string(), i);
    SaeWeights weights;
    FS_TRY(weights.W_enc, w.take("w_enc", { c.dIn, c.dSae }));
    FS_TRY(weights.b_enc, w.take("b_enc", { c.dSae }));
    FS_TRY(weights.threshold, w.take("threshold", { c.dSae }));
    FS_TRY(weights.b_dec, w.take("b_dec", { c.dOut }));
    at::Tensor all;
    FS_TRY(all, w.take("w_dec", { c.dSae, layers, c.dOut }));
    weights.W_dec_blocks = all.narrow(1, i, layers - i).contiguous();
    weights.W_dec = weights.W_dec_blocks.sum(1);
    FS_TRY(weights.W_skip, w.take("affine_skip_connection", { c.dIn, c.dOut }, false));
    return Sae(c, weights);
}

// Gemma Scope 2's crosscoders share the CLT's params_layer_{i} files but live in folders
// named for the layers they span ("crosscoder/layer_7_13_17_22_width_262k_l0_medium"). How
// their per-file encoders combine is not published, so they are refused, not read as a CLT
// of layers 0..n-1.
Status refuseGemmaScope2Crosscoder(const fs::path &dir, int64_t files)
{
    const std::string name = (dir.filename().empty() ? dir.parent_path() : dir).filename().string();
    std::smatch m;
    static const std::regex spanned(R"(^layer_(\d+(?:_\d+)+)_width)");
    const fs::path parent = (dir.filename().empty() ? dir.parent_path() : dir).parent_path();
    const bool crosscoder
        = std::regex_search(name, m, spanned) || parent.filename().string() == "crosscoder";
    if (!crosscoder)
        return {};
    // The keys and shapes from each file's header (the weights are GBs and stay unread).
    std::string found;
    for (int64_t i = 0; i < files; ++i) {
        const fs::path file = dir / ("params_layer_" + std::to_string(i) + ".safetensors");
        found += "; " + file.filename().string() + ":";
        auto header = io::Checkpoint::open(file.string());
        if (!header) {
            found += " unreadable (" + header.errorMessage() + ")";
            continue;
        }
        for (const auto &[key, t] : header->tensors()) {
            std::string shape;
            for (int64_t d : t.entry->shape)
                shape += (shape.empty() ? "" : ",") + std::to_string(d);
            found += " " + key + " [" + shape + "]";
        }
    }
    return fileError(dir.string(),
        "a Gemma Scope 2 crosscoder" + (m.empty() ? std::string() : " over layers " + m[1].str())
            + " is not supported: how its per-layer files combine is not published" + found);
}

} // namespace

Status checkLayerSetSupported(const fs::path &dir, LayerSet format)
{
    if (format != LayerSet::GemmaScope2Clt)
        return {};
    return refuseGemmaScope2Crosscoder(
        dir, static_cast<int64_t>(layerSetLayers(dir, format).size()));
}

Result<Sae> loadLayerOfSet(const fs::path &dir, LayerSet format, int64_t layer)
{
    if (auto s = checkLayerSetSupported(dir, format); !s)
        return s.error();
    const std::vector<int64_t> layers = layerSetLayers(dir, format);
    // Layers are contiguous from 0 (circuit-tracer checks the same); a gap is a missing file.
    for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i] != static_cast<int64_t>(i))
            return fileError(dir.string(),
                "layer " + std::to_string(i) + " is missing (layers must run 0.."
                    + std::to_string(layers.size() - 1) + ")");
    const int64_t n = static_cast<int64_t>(layers.size());
    if (layer < 0 || layer >= n)
        return fileError(dir.string(),
            "has layers 0.." + std::to_string(n - 1) + "; choose one with " + dir.string()
                + "#layer=L");
    switch (format) {
    case LayerSet::None:
        break;
    case LayerSet::CircuitTracerTranscoders:
        return loadCircuitTracerTranscoder(
            dir / ("layer_" + std::to_string(layer) + ".safetensors"));
    case LayerSet::CircuitTracerClt:
        return loadCircuitTracerCltLayer(dir, layer, n);
    case LayerSet::GemmaScope2Clt:
        return loadGemmaScope2CltLayer(dir, layer, n);
    }
    return fileError(dir.string(), "not a folder of per-layer dictionaries");
}

Result<Sae> loadItda(const fs::path &dir)
{
    const std::string cfgFile = (dir / "cfg.json").string();
    json cfg;
    FS_TRY(cfg, readJsonFile(cfgFile));
    TensorSet w;
    FS_TRY(w, readSafetensors((dir / "itda.safetensors").string()));
    const at::Tensor *atoms = w.find("atoms");
    if (!atoms || atoms->dim() != 2 || atoms->size(0) == 0)
        return fileError(
            w.file, "missing tensor 'atoms' [n_atoms, d_model] (has " + w.names() + ")");
    try {
        SaeConfig c;
        c.kind = DictionaryKind::Itda;
        c.architecture = Architecture::MatchingPursuit;
        c.dSae = atoms->size(0);
        c.dIn = atoms->size(1);
        c.k = jsonInt64(cfg.at("k"));
        if (c.k <= 0)
            return fileError(cfgFile, "k " + std::to_string(c.k) + " must be positive");
        c.applyBDecToInput = false;
        c.hookName = cfg.value("hook_name", std::string());
        c.modelName = cfg.value("model_name", std::string());
        c.sourceFormat = "itda";
        c.sourcePath = dir.string();
        SaeWeights weights;
        FS_TRY(weights.W_dec, w.take("atoms", { c.dSae, c.dIn }));
        // Atoms are unit rows; a file that lost that would make matching pursuit diverge.
        const at::Tensor norms = weights.W_dec.norm(2, 1);
        if ((norms - 1).abs().max().item<double>() > 1e-3)
            return fileError(w.file, "atoms are not unit vectors");
        weights.W_enc = weights.W_dec.t().contiguous();
        weights.b_enc = at::zeros({ c.dSae }, weights.W_dec.options());
        weights.b_dec = at::zeros({ c.dIn }, weights.W_dec.options());
        return Sae(c, weights);
    } catch (const json::exception &e) {
        return fileError(cfgFile, std::string("missing or mistyped key (") + e.what() + ")");
    }
}

} // namespace fscope::core::sae
