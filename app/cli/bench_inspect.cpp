// featurescope-cli bench inspect: the prompt inspector's latency (core's analyzeIds, what the
// panel runs: the forward to the SAE's hook, the encode of every feature, the top features of
// each token and of the prompt, their activations copied back) against the forward alone to
// that hook in the same run. The default model is GPT-2-small-shaped; --shape gemma-2-2b writes
// GPT-2 blocks at Gemma 2 2B's size (hidden 2304, 26 layers, 8 heads, MLP 9216, vocab 256000),
// so the GEMMs and the unused embedding are a 2B model's, without its weights.

#include "app/cli/commands.h"
#include "app/cli/options.h"

#include "core/analysis/prompt_analysis.h"
#include "core/model/decoder.h"
#include "core/model/model_locator.h"
#include "core/model/synthetic_model.h"
#include "core/util/device_memory.h"

#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace fscope::cli {

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int benchInspect(const Args &args)
{
    const Options o(args,
        { "model", "shape", "tokens", "features", "layer", "iters", "device", "dtype" },
        { "json" });
    if (!o.ok())
        return fail(o.error());
    const std::string shapeName = o.value("shape", "gpt2");
    std::string modelDir = o.value("model");
    const std::string tmp = (std::filesystem::temp_directory_path()
        / ("fs-bench-inspect-" + std::to_string(getpid())))
                                .string();
    if (modelDir.empty()) {
        core::model::Gpt2Shape shape;
        if (shapeName == "gemma-2-2b") {
            shape.hidden = 2304;
            shape.layers = 26;
            shape.heads = 8;
            shape.vocab = 256000;
            shape.bos = 2;
            shape.positions = 8192;
        } else if (shapeName != "gpt2") {
            return fail("--shape " + shapeName + ": gpt2 or gemma-2-2b");
        }
        modelDir = tmp + "/" + shapeName + "-random";
        std::fprintf(stderr, "writing a %s-shaped model with random weights to %s\n",
            shapeName.c_str(), modelDir.c_str());
        if (auto s = core::model::writeRandomGpt2(modelDir, shape, 0); !s)
            return fail(s.errorMessage());
    } else {
        auto resolved = core::model::resolveModelPath(modelDir);
        if (!resolved)
            return fail(resolved.errorMessage());
        modelDir = *resolved;
    }
    auto decoder = core::model::Decoder::load(
        modelDir, { o.value("device", "auto"), o.value("dtype", "auto") });
    if (!decoder)
        return fail(decoder.errorMessage());
    const auto &d = **decoder;
    const int64_t T = o.integer("tokens", 64), F = o.integer("features", 16384),
                  iters = std::max<int64_t>(3, o.integer("iters", 20)),
                  layer = o.integer("layer", d.config().layers / 2);
    if (layer < 0 || layer >= d.config().layers)
        return fail("--layer " + std::to_string(layer) + " is outside the model's "
            + std::to_string(d.config().layers) + " layers");
    const int64_t dIn = d.config().hidden;
    at::NoGradGuard noGrad;
    at::manual_seed(3);
    // A JumpReLU SAE (Gemma Scope's architecture) in float32 on the model's device.
    core::sae::SaeConfig config;
    config.architecture = core::sae::Architecture::JumpRelu;
    config.dIn = dIn;
    config.dSae = F;
    config.hookName = "blocks." + std::to_string(layer) + ".hook_resid_post";
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(d.device());
    core::sae::SaeWeights w;
    w.W_enc = at::randn({ dIn, F }, f32) / std::sqrt(double(dIn));
    w.b_enc = at::zeros({ F }, f32);
    w.W_dec = at::randn({ F, dIn }, f32) / std::sqrt(double(dIn));
    w.b_dec = at::zeros({ dIn }, f32);
    w.threshold = at::full({ F }, 0.5, f32);
    const core::sae::Sae sae(config, w);

    std::vector<int64_t> ids(static_cast<size_t>(T));
    ids[0] = d.config().bosTokenId >= 0 ? d.config().bosTokenId : 0;
    for (int64_t t = 1; t < T; ++t)
        ids[size_t(t)] = (t * 7919 + 13) % d.config().vocabSize;
    std::vector<bool> special(size_t(T), false);
    special[0] = true;

    const auto forwardOnly = [&] {
        core::model::ForwardOptions fo;
        fo.capture = { config.hookName };
        fo.computeLogits = false;
        const at::Tensor input = at::tensor(ids, at::kLong).unsqueeze(0).to(d.device());
        auto r = d.forward({ input }, fo);
        if (r)
            (void)r->activations.at(config.hookName).sum().item<float>(); // waits for the device
        return r.ok();
    };
    const auto inspect = [&] { return core::analysis::analyzeIds(d, sae, ids, special).ok(); };
    if (!forwardOnly() || !inspect()) // warm-up (kernels, allocator)
        return fail("the forward or the analysis failed");
    const auto milliseconds = [](const auto &run) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
            .count();
    };
    std::vector<double> forwardMs, inspectMs;
    for (int64_t i = 0; i < iters; ++i) { // interleaved, so drift hits both alike
        forwardMs.push_back(milliseconds(forwardOnly));
        inspectMs.push_back(milliseconds(inspect));
    }
    std::filesystem::remove_all(tmp);
    const double f = median(forwardMs), a = median(inspectMs);
    const std::string device = core::util::deviceLabel(d.device(), d.dtype());
    if (o.has("json")) {
        std::printf("%s\n",
            nlohmann::json { { "shape", o.has("model") ? modelDir : shapeName },
                { "device", device }, { "tokens", T }, { "features", F }, { "layer", layer },
                { "iters", iters }, { "forward_ms", f }, { "inspect_ms", a },
                { "inspect_over_forward", f > 0 ? a / f : 0.0 } }
                .dump(2)
                .c_str());
    } else {
        std::printf("prompt inspector, %s, %lld tokens, %lld features at layer %lld (median of "
                    "%lld)\n  forward to the hook  %8.2f ms  (baseline 1.00)\n  inspect prompt     "
                    "  %8.2f ms  (%.2fx)\n",
            device.c_str(), (long long)T, (long long)F, (long long)layer, (long long)iters, f, a,
            f > 0 ? a / f : 0.0);
    }
    return 0;
}

} // namespace fscope::cli
