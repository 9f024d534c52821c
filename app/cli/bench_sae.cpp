// featurescope-cli bench sae: SAE encode throughput against the plain matmul it is built on.

#include "app/cli/commands.h"
#include "app/cli/options.h"

#include "core/model/decoder.h"
#include "core/sae/sae.h"

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <functional>

namespace fscope::cli {

namespace {

double bestOf(int repeats, const std::function<void()> &fn)
{
    fn(); // warm-up
    return bestSeconds(repeats, fn);
}

} // namespace

int benchSae(const Args &args)
{
    const Options o(args, { "d-in", "d-sae", "tokens", "k", "device", "repeats" }, {});
    if (!o.ok()) {
        std::fprintf(stderr, "error: %s\n", o.error().c_str());
        return 2;
    }
    const int64_t dIn = o.integer("d-in", 2304), dSae = o.integer("d-sae", 16384),
                  n = o.integer("tokens", 1024);
    const int repeats = static_cast<int>(o.integer("repeats", 5));
    auto device = core::model::resolveDevice(o.value("device", "auto"));
    if (!device) {
        std::fprintf(stderr, "error: %s\n", device.errorMessage().c_str());
        return 1;
    }
    at::NoGradGuard noGrad;
    const auto opts = at::TensorOptions().dtype(at::kFloat).device(*device);
    const at::Tensor x = at::randn({ n, dIn }, opts);
    core::sae::SaeWeights w;
    w.W_enc = at::randn({ dIn, dSae }, opts) / std::sqrt(double(dIn));
    w.b_enc = at::zeros({ dSae }, opts);
    w.W_dec = at::randn({ dSae, dIn }, opts) / std::sqrt(double(dSae));
    w.b_dec = at::zeros({ dIn }, opts);
    w.threshold = at::full({ dSae }, 0.5, opts);
    auto sync = [](const at::Tensor &t) { (void)t.sum().item<float>(); };
    const double matmul = bestOf(repeats, [&] { sync(at::matmul(x, w.W_enc)); });
    std::printf("bench sae: %lld tokens, d_in %lld, d_sae %lld on %s, float32, best of %d\n",
        static_cast<long long>(n), static_cast<long long>(dIn), static_cast<long long>(dSae),
        device->str().c_str(), repeats);
    std::printf("  %-34s %10.0f tokens/s  1.00x (baseline)\n", "plain matmul x W_enc", n / matmul);
    for (auto arch : { core::sae::Architecture::Relu, core::sae::Architecture::JumpRelu,
             core::sae::Architecture::TopK }) {
        core::sae::SaeConfig c;
        c.architecture = arch;
        c.dIn = dIn;
        c.dSae = dSae;
        c.k = o.integer("k", 64);
        const core::sae::Sae sae(c, w);
        const double encode = bestOf(repeats, [&] { sync(sae.encode(x)); });
        const double recon = bestOf(repeats, [&] { sync(sae.reconstruct(x)); });
        std::printf("  %-34s %10.0f tokens/s  %.2fx time of matmul\n",
            ("encode " + core::sae::architectureName(arch)).c_str(), n / encode, encode / matmul);
        std::printf("  %-34s %10.0f tokens/s  %.2fx\n",
            ("encode+decode " + core::sae::architectureName(arch)).c_str(), n / recon,
            recon / matmul);
    }
    return 0;
}

} // namespace fscope::cli
