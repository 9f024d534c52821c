// featurescope-cli bench forward: forward throughput of a model at a given batch and length.

#include "app/cli/commands.h"
#include "app/cli/options.h"

#include "core/model/decoder.h"
#include "core/model/model_locator.h"

#include <nlohmann/json.hpp>

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <sys/resource.h>

namespace fscope::cli {

int benchForward(const Args &args)
{
    const Options o(args, { "model", "batch", "seq", "iters", "device", "dtype" }, { "json" });
    if (!o.ok() || !o.has("model")) {
        std::fprintf(stderr,
            "usage: featurescope-cli bench forward --model M [--batch 8] [--seq 128] [--iters "
            "5]\n");
        return 2;
    }
    auto path = core::model::resolveModelPath(o.value("model"));
    if (!path) {
        std::fprintf(stderr, "error: %s\n", path.errorMessage().c_str());
        return 1;
    }
    auto decoder = core::model::Decoder::load(
        *path, { o.value("device", "auto"), o.value("dtype", "auto") });
    if (!decoder) {
        std::fprintf(stderr, "error: %s\n", decoder.errorMessage().c_str());
        return 1;
    }
    const int64_t batch = o.integer("batch", 8), seq = o.integer("seq", 128),
                  iters = o.integer("iters", 5);
    const auto &d = **decoder;
    at::manual_seed(0);
    const at::Tensor ids = at::randint(d.config().vocabSize, { batch, seq }, at::kLong);
    at::NoGradGuard noGrad;
    auto once = [&] {
        auto r = d.forward({ ids });
        if (r)
            (void)r->logits.sum().item<float>(); // waits for the device
        return r.ok();
    };
    if (!once()) { // warm-up
        std::fprintf(stderr, "error: forward failed\n");
        return 1;
    }
    double best = 1e300, total = 0;
    for (int64_t i = 0; i < iters; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        once();
        const double s
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::min(best, s);
        total += s;
    }
    struct rusage usage { };
    getrusage(RUSAGE_SELF, &usage);
    const double tokensPerSecond = batch * seq / best;
    const double peakMiB = usage.ru_maxrss / 1024.0;
    if (o.has("json")) {
        std::printf("%s\n",
            nlohmann::json { { "tokens_per_second", tokensPerSecond }, { "best_seconds", best },
                { "mean_seconds", total / iters }, { "peak_rss_mib", peakMiB },
                { "device", d.device().str() }, { "batch", batch }, { "seq", seq } }
                .dump()
                .c_str());
        return 0;
    }
    std::printf("bench forward: %s (%s, %lld layers, d_model %lld) on %s, batch %lld x seq %lld\n",
        path->c_str(), d.config().familyName().c_str(), static_cast<long long>(d.config().layers),
        static_cast<long long>(d.config().hidden), d.device().str().c_str(),
        static_cast<long long>(batch), static_cast<long long>(seq));
    std::printf("  best %.4f s, mean %.4f s over %lld runs: %.0f tokens/s; peak RSS %.0f MiB\n",
        best, total / iters, static_cast<long long>(iters), tokensPerSecond, peakMiB);
    return 0;
}

} // namespace fscope::cli
