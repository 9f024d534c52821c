// featurescope-cli sae info|release|encode|eval|train|convert.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/corpus/corpus.h"
#include "core/hub/sae_release.h"

#include "core/io/npz_tensor.h"
#include "core/jobs/terminal_progress.h"
#include "core/model/model_locator.h"
#include "core/sae/dictionary_io.h"
#include "core/sae/model_activations.h"
#include "core/sae/sae_io.h"
#include "core/sae/sae_metrics.h"
#include "core/tokenize/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace fscope::cli {

namespace {

using nlohmann::json;

// kind, hooks_in and hooks_out are the stable interface: every dictionary names what it reads
// and where it writes (a set of per-layer dictionaries lists every layer's).
json describe(const core::sae::DictionaryInfo &info)
{
    const auto &c = info.config;
    json j = { { "kind", core::sae::kindName(c.kind) },
        { "architecture", core::sae::architectureName(c.architecture) }, { "d_in", c.dIn },
        { "d_sae", c.dSae }, { "d_out", c.decoderWidth() }, { "hook_name", c.hookName },
        { "hooks_in", info.hooksIn }, { "hooks_out", info.hooksOut }, { "dtype", c.dtype },
        { "format", c.sourceFormat }, { "apply_b_dec_to_input", c.applyBDecToInput },
        { "normalize_activations", core::sae::normalizationName(c.normalization) },
        { "center_input", c.centerInput } };
    if (c.k > 0)
        j["k"] = c.k;
    if (c.readsSeveralHooks()) // a crosscoder: d_in is the hooks' total
        j["d_in_per_hook"] = c.hookWidth();
    if (info.layers > 1)
        j["layers"] = info.layers;
    return j;
}

struct ModelAndText {
    std::unique_ptr<core::model::Decoder> decoder;
    std::unique_ptr<core::tokenize::Tokenizer> tokenizer;
    std::vector<std::vector<int64_t>> contexts;
    std::set<int64_t> special;
};

// Loads the model and cuts the text file into contexts of `length` tokens, each starting
// with BOS when the tokenizer has one (the SAE convention for every supported family).
core::Result<ModelAndText> loadModelAndText(const Options &o)
{
    auto path = core::model::resolveModelPath(o.value("model"));
    if (!path)
        return path.error();
    ModelAndText m;
    auto decoder
        = core::model::Decoder::load(*path, { o.value("device", "auto"), o.value("dtype", "f32") });
    if (!decoder)
        return decoder.error();
    m.decoder = std::move(decoder).value();
    auto tokenizer = core::tokenize::loadTokenizer(*path);
    if (!tokenizer)
        return tokenizer.error();
    m.tokenizer = std::move(tokenizer).value();
    std::ifstream in(o.value("text"));
    if (!in)
        return core::fileError(o.value("text"), "cannot open the text file");
    std::stringstream text;
    text << in.rdbuf();
    const auto bos = m.tokenizer->bosId();
    const auto ids = m.tokenizer->encode(text.str()).ids;
    const int64_t length = o.integer("context", 64);
    const int64_t body = length - (bos ? 1 : 0);
    const int64_t maxContexts = o.integer("contexts", 1 << 30);
    for (size_t start = 0;
         start + body <= ids.size() && static_cast<int64_t>(m.contexts.size()) < maxContexts;
         start += body) {
        std::vector<int64_t> ctx(static_cast<size_t>(length));
        size_t out = 0;
        if (bos)
            ctx[out++] = *bos;
        for (int64_t i = 0; i < body; ++i)
            ctx[out++] = ids[start + static_cast<size_t>(i)];
        m.contexts.push_back(std::move(ctx));
    }
    if (m.contexts.empty())
        return core::fileError(
            o.value("text"), "too short for one context of " + std::to_string(length) + " tokens");
    for (auto id : { m.tokenizer->bosId(), m.tokenizer->eosId() })
        if (id)
            m.special.insert(*id);
    return m;
}

int saeInfo(const Options &o)
{
    auto info = core::sae::describeDictionary(o.value("sae"), { o.value("hook"), "cpu", false });
    if (!info)
        return fail(info.errorMessage());
    const json j = describe(*info);
    if (o.has("json")) {
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    for (const auto &[k, v] : j.items())
        std::printf("%-22s %s\n", k.c_str(),
            v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
    return 0;
}

int saeEncode(const Options &o)
{
    auto sae = core::sae::loadSae(o.value("sae"), { o.value("hook"), "cpu", false });
    if (!sae)
        return fail(sae.errorMessage());
    auto x = core::io::loadNpy(o.value("input"));
    if (!x)
        return fail(x.errorMessage());
    if (x->dim() != 2 || x->size(1) != sae->config().dIn)
        return fail(o.value("input") + ": expected [n, " + std::to_string(sae->config().dIn)
            + "] activations");
    const at::Tensor f = sae->encode(x->to(at::kFloat)).to(at::kFloat);
    const at::Tensor nz = f.nonzero();
    json nonzero = json::array();
    for (int64_t i = 0; i < nz.size(0); ++i) {
        const int64_t row = nz[i][0].item<int64_t>(), feature = nz[i][1].item<int64_t>();
        nonzero.push_back({ row, feature, f[row][feature].item<float>() });
    }
    std::printf(
        "%s\n", json { { "shape", f.sizes().vec() }, { "nonzero", nonzero } }.dump().c_str());
    return 0;
}

int saeConvert(const Options &o)
{
    auto sae = core::sae::loadSae(o.value("sae"), { o.value("hook"), "cpu", false });
    if (!sae)
        return fail(sae.errorMessage());
    // --dtype f16|bf16|f32: the stored precision (f16 halves the file; computation on the CPU
    // stays float32 whatever is stored).
    const std::string dtype = o.value("dtype", "keep");
    const std::map<std::string, at::ScalarType> dtypes
        = { { "f16", at::kHalf }, { "bf16", at::kBFloat16 }, { "f32", at::kFloat } };
    if (dtype != "keep" && !dtypes.count(dtype))
        return fail("--dtype must be f16, bf16 or f32");
    const core::sae::Sae out = dtype == "keep" ? *sae : sae->to(at::kCPU, dtypes.at(dtype));
    if (auto s = core::sae::saveSaeLens(out, o.value("out")); !s)
        return fail(s.errorMessage());
    std::printf("wrote SAELens SAE to %s\n", o.value("out").c_str());
    return 0;
}

int saeEval(const Options &o)
{
    auto path = core::model::resolveModelPath(o.value("model"));
    if (!path)
        return fail(path.errorMessage());
    auto decoder
        = core::model::Decoder::load(*path, { o.value("device", "auto"), o.value("dtype", "f32") });
    if (!decoder)
        return fail(decoder.errorMessage());
    auto tokenizer = core::tokenize::loadTokenizer(*path);
    if (!tokenizer)
        return fail(tokenizer.errorMessage());
    // The same contexts as every other command reading --text (match, steer sweeps): the
    // corpus builder's documents, separators and seed, so numbers agree across commands.
    const std::string budget = o.has("tokens") ? o.value("tokens")
        : o.has("contexts") ? std::to_string(o.integer("contexts", 1) * o.integer("context", 64))
                            : "1M";
    auto ids = textContexts(o, *path, **tokenizer, budget);
    if (!ids)
        return fail(ids.errorMessage());
    std::vector<std::vector<int64_t>> contexts;
    const at::Tensor rows = ids->contiguous();
    for (int64_t i = 0; i < rows.size(0); ++i)
        contexts.emplace_back(
            rows[i].data_ptr<int64_t>(), rows[i].data_ptr<int64_t>() + rows.size(1));
    core::sae::EvalOptions eo;
    eo.specialTokens = core::corpus::specialTokens(**tokenizer);
    eo.batchSize = o.integer("batch", 8);
    core::jobs::TerminalProgress progress("contexts");
    // A CLT folder without a layer is evaluated whole: every layer's features together.
    const auto [base, layer] = core::sae::splitLayerSelector(o.value("sae"));
    const core::sae::LayerSet set = core::sae::layerSetFormat(base);
    const bool wholeClt = layer < 0
        && (set == core::sae::LayerSet::CircuitTracerClt
            || set == core::sae::LayerSet::GemmaScope2Clt);
    std::vector<std::shared_ptr<const core::sae::Sae>> layers;
    for (const std::string &path : wholeClt ? core::sae::findSaes(base).value()
                                            : std::vector<std::string> { o.value("sae") }) {
        auto sae = core::sae::loadSae(path, { o.value("hook"), (*decoder)->device().str() });
        if (!sae)
            return fail(sae.errorMessage());
        if (auto s = core::sae::validateSaeForModel(*sae, (*decoder)->config()); !s)
            return fail(s.errorMessage());
        layers.push_back(std::make_shared<const core::sae::Sae>(std::move(sae).value()));
    }
    auto metrics = wholeClt
        ? core::sae::evaluateCrossLayer(**decoder, layers, contexts, eo, &progress)
        : core::sae::evaluateSae(**decoder, *layers[0], contexts, eo, &progress);
    progress.finish();
    if (!metrics)
        return fail(metrics.errorMessage());
    if (o.has("json")) {
        json j = { { "tokens", metrics->tokens } };
        for (const auto &v : metrics->values)
            j[v.name] = v.value;
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    std::printf("%lld tokens (special tokens excluded)\n", static_cast<long long>(metrics->tokens));
    for (const auto &v : metrics->values)
        std::printf("%-22s %12.6f   %s\n", v.name.c_str(), v.value, v.definition.c_str());
    return 0;
}

int saeTrain(const Options &o)
{
    auto m = loadModelAndText(o);
    if (!m)
        return fail(m.errorMessage());
    const std::string hook = o.value("hook");
    if (hook.empty() || !core::model::parseHookName(hook))
        return fail("--hook must name a hook point, e.g. blocks.1.hook_resid_post");
    core::sae::TrainOptions t;
    const std::string arch = o.value("arch", "topk");
    if (arch != "topk" && arch != "jumprelu")
        return fail("--arch must be topk or jumprelu");
    t.architecture
        = arch == "topk" ? core::sae::Architecture::TopK : core::sae::Architecture::JumpRelu;
    t.dSae = o.integer("d-sae", 4 * m->decoder->config().hidden);
    t.k = o.integer("k", 32);
    t.steps = o.integer("steps", 1000);
    t.batchSize = o.integer("batch", 256);
    t.learningRate = o.number("lr", 4e-4);
    t.l0Coefficient = o.number("l0-coeff", 1e-3);
    // JumpReLU's threshold is trained in log space at the learning rate, so a short run moves it
    // little from its start: short runs need a start near the wanted threshold and a wider
    // pseudo-derivative window than the paper's 1e-3 (tuned for billions of tokens).
    t.initialThreshold = o.number("init-threshold", 1e-3);
    t.bandwidth = o.number("bandwidth", 1e-3);
    t.hookName = hook;
    // The initialisation seed: SAEs of different layers trained with one seed start from the
    // same weights, and a short run leaves feature i of every layer aligned, which makes any
    // cross-layer matching trivially the identity.
    t.seed = static_cast<uint64_t>(o.integer("seed", 0));
    t.checkpointEvery = o.integer("checkpoint-every", 0);
    t.checkpointDir = o.value("out");
    core::sae::ActivationStreamOptions so;
    so.hookName = hook;
    so.specialTokens = m->special;
    so.seed = t.seed;
    const auto source = core::sae::activationsFromModel(*m->decoder, m->contexts, so);
    core::jobs::TerminalProgress progress("steps");
    core::sae::TrainReport report;
    const int64_t width = m->decoder->config().hidden;
    auto sae = core::sae::trainSae(source, width, t, &progress, &report);
    progress.finish();
    if (!sae)
        return fail(sae.errorMessage());
    core::sae::SaeConfig c = sae->config();
    c.modelName = o.value("model");
    if (auto s = core::sae::saveSaeLens(core::sae::Sae(c, sae->weights()), o.value("out")); !s)
        return fail(s.errorMessage());
    std::printf("trained %s SAE: %lld steps, L0 %.2f, %lld dead latents; saved to %s\n",
        arch.c_str(), static_cast<long long>(report.steps), report.finalL0,
        static_cast<long long>(report.deadLatents), o.value("out").c_str());
    return 0;
}

// The dictionaries of a Hub release, narrowed by --site/--layer/--width/--l0; one match prints
// its hf:// name (what --sae takes), several print a table (or --json).
int saeRelease(const Options &o)
{
    std::string repo = o.positional().empty() ? o.value("repo") : o.positional()[0];
    if (o.has("revision"))
        repo += "@" + o.value("revision");
    auto release = core::hub::listRelease(repo);
    if (!release)
        return fail(release.errorMessage());
    const auto entries = core::hub::filterRelease(*release, o.value("site"),
        static_cast<int>(o.integer("layer", -1)), o.value("width"), o.value("l0"));
    if (release->fromCache)
        std::fprintf(stderr,
            "%s: the Hub is not reachable (or HF_HUB_OFFLINE is set): listing the folders "
            "already in the Hugging Face cache only\n",
            repo.c_str());
    if (entries.empty())
        return fail(repo + ": no SAE matches the given --site/--layer/--width/--l0 ("
            + std::to_string(release->entries.size()) + " in the release)");
    if (o.has("json")) {
        json list = json::array();
        for (const auto &e : entries)
            list.push_back({ { "name", core::hub::releaseEntryName(*release, e) },
                { "path", e.path }, { "site", e.site }, { "layer", e.layer }, { "width", e.width },
                { "l0", e.l0 }, { "variant", e.variant } });
        std::printf("%s\n",
            json { { "repo", release->repo }, { "commit", release->commit }, { "entries", list } }
                .dump()
                .c_str());
        return 0;
    }
    if (entries.size() == 1) {
        std::printf("%s\n", core::hub::releaseEntryName(*release, entries[0]).c_str());
        return 0;
    }
    std::printf("%-16s %5s %-6s %-7s %s\n", "site", "layer", "width", "l0", "name");
    for (const auto &e : entries)
        std::printf("%-16s %5s %-6s %-7s %s\n", e.site.empty() ? "-" : e.site.c_str(),
            e.layer < 0 ? "-" : std::to_string(e.layer).c_str(),
            e.width.empty() ? "-" : e.width.c_str(),
            (e.l0.empty() ? std::string("-") : e.l0 + (e.variant.empty() ? "" : "+" + e.variant))
                .c_str(),
            core::hub::releaseEntryName(*release, e).c_str());
    return 0;
}

} // namespace

int runSae(const Args &args)
{
    if (args.empty()) {
        std::fprintf(
            stderr, "usage: featurescope-cli sae info|release|encode|eval|train|convert ...\n");
        return 2;
    }
    const std::string sub = args[0];
    const Args rest(args.begin() + 1, args.end());
    const Options o(rest,
        { "sae", "hook", "input", "out", "model", "text", "context", "contexts", "tokens", "batch",
            "device", "dtype", "arch", "d-sae", "k", "steps", "lr", "l0-coeff", "checkpoint-every",
            "init-threshold", "bandwidth", "seed", "repo", "revision", "site", "layer", "width",
            "l0" },
        { "json" });
    if (!o.ok())
        return fail(o.error());
    auto need = [&](std::initializer_list<const char *> names) {
        for (const char *n : names)
            if (!o.has(n)) {
                std::fprintf(stderr, "error: sae %s needs --%s\n", sub.c_str(), n);
                return false;
            }
        return true;
    };
    if (sub == "release")
        return o.positional().empty() && !need({ "repo" }) ? 2 : saeRelease(o);
    if (sub == "info")
        return need({ "sae" }) ? saeInfo(o) : 2;
    if (sub == "encode")
        return need({ "sae", "input" }) ? saeEncode(o) : 2;
    if (sub == "convert")
        return need({ "sae", "out" }) ? saeConvert(o) : 2;
    if (sub == "eval")
        return need({ "model", "sae", "text" }) ? saeEval(o) : 2;
    if (sub == "train")
        return need({ "model", "text", "hook", "out" }) ? saeTrain(o) : 2;
    return fail("unknown sae command '" + sub + "'");
}

} // namespace fscope::cli
