// The core API on one page: load a model and its tokenizer, load an SAE, run a few prompts,
// print each prompt's strongest features. Build target: featurescope-walkthrough.
//
//   featurescope-walkthrough MODEL_DIR SAE_PATH "a prompt" ["another prompt" ...]

#include "core/model/decoder.h"
#include "core/sae/sae_io.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/runtime.h"

#include <cstdio>

using namespace fscope::core;

int main(int argc, char **argv)
{
    ensureBlasKernels(argv);
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s MODEL_DIR SAE_PATH PROMPT...\n", argv[0]);
        return 2;
    }
    initComputeRuntime();

    // 1. The model (config.json + safetensors) and its tokenizer.
    auto decoder = model::Decoder::load(argv[1], { "auto", "f32" });
    auto tokenizer = tokenize::loadTokenizer(argv[1]);
    if (!decoder || !tokenizer) {
        std::fprintf(
            stderr, "%s\n", (!decoder ? decoder.errorMessage() : tokenizer.errorMessage()).c_str());
        return 1;
    }

    // 2. An SAE (SAELens folder, Gemma Scope params.npz or sparsify folder), checked against the
    // model.
    auto sae = sae::loadSae(argv[2], { "", (*decoder)->device().str() });
    if (!sae) {
        std::fprintf(stderr, "%s\n", sae.errorMessage().c_str());
        return 1;
    }
    if (auto ok = sae::validateSaeForModel(*sae, (*decoder)->config()); !ok) {
        std::fprintf(stderr, "%s\n", ok.errorMessage().c_str());
        return 1;
    }
    const std::string hook = sae->config().hookName;

    for (int p = 3; p < argc; ++p) {
        // 3. Tokens (with the SAE's BOS convention) and one forward that stops at the hook.
        const auto encoding = (*tokenizer)->encodeForModel(argv[p], sae->config().prependBos);
        model::ForwardOptions options;
        options.capture = { hook };
        options.computeLogits = false;
        auto result = (*decoder)->forward({ at::tensor(encoding.ids).unsqueeze(0) }, options);
        if (!result) {
            std::fprintf(stderr, "%s\n", result.errorMessage().c_str());
            return 1;
        }

        // 4. Features of every token; the prompt's strongest ones (BOS left out).
        const at::Tensor features
            = sae->encode(result->activations.at(hook))[0].to(at::kCPU, at::kFloat);
        const size_t first
            = encoding.ids.size() > 1 && (*tokenizer)->bosId() == encoding.ids[0] ? 1 : 0;
        const at::Tensor strongest = features.narrow(0, first, features.size(0) - first).amax(0);
        const auto [values, ids] = strongest.topk(std::min<int64_t>(5, strongest.numel()));
        std::printf("\"%s\" (%zu tokens) at %s:\n", argv[p], encoding.ids.size(), hook.c_str());
        for (int64_t i = 0; i < values.numel(); ++i) {
            const int64_t feature = ids[i].item<int64_t>();
            const int64_t at = features.select(1, feature).argmax().item<int64_t>();
            std::printf("  feature %6lld  max %.3f on token '%s'\n",
                static_cast<long long>(feature), values[i].item<float>(),
                (*tokenizer)->tokenBytes(encoding.ids[at]).c_str());
        }
    }
    return 0;
}
