#include "core/analysis/logit_effects.h"

#include "core/model/hooks.h"

namespace fscope::core::analysis {

LogitEffects computeLogitEffects(const model::Decoder &decoder, const sae::Sae &sae,
    bool foldFinalNorm, int64_t k, int64_t blockFeatures, int64_t decoderBlock)
{
    const at::Device device = decoder.device();
    const at::Tensor unembed = decoder.unembedding().to(device, at::kFloat); // [vocab, hidden]
    if (decoderBlock < 0 && sae.config().readsSeveralHooks()) {
        int64_t deepest = -2;
        const auto &hooks = sae.config().hooksIn;
        for (size_t i = 0; i < hooks.size(); ++i)
            if (const auto h = model::parseHookName(hooks[i]); h && h->layer > deepest) {
                deepest = h->layer;
                decoderBlock = static_cast<int64_t>(i);
            }
    }
    const at::Tensor decoderRows
        = decoderBlock < 0 ? sae.weights().W_dec : sae.decoderBlock(decoderBlock);
    at::Tensor directions = decoderRows.to(device, at::kFloat); // [features, hidden]
    if (foldFinalNorm)
        directions = directions * decoder.finalNormScale().to(device);
    const int64_t features = directions.size(0);
    k = std::min(k, unembed.size(0));
    LogitEffects out;
    out.top.resize(static_cast<size_t>(features));
    out.bottom.resize(static_cast<size_t>(features));
    for (int64_t begin = 0; begin < features; begin += blockFeatures) {
        const int64_t n = std::min(blockFeatures, features - begin);
        const at::Tensor logits = at::matmul(directions.narrow(0, begin, n), unembed.t());
        for (bool largest : { true, false }) {
            auto [values, indices] = logits.topk(k, 1, largest, true);
            values = values.to(at::kCPU).contiguous();
            indices = indices.to(at::kCPU).contiguous();
            const float *v = values.data_ptr<float>();
            const int64_t *ix = indices.data_ptr<int64_t>();
            for (int64_t f = 0; f < n; ++f) {
                auto &dst = (largest ? out.top : out.bottom)[static_cast<size_t>(begin + f)];
                dst.reserve(static_cast<size_t>(k));
                for (int64_t i = 0; i < k; ++i)
                    dst.emplace_back(static_cast<int32_t>(ix[f * k + i]), v[f * k + i]);
            }
        }
    }
    return out;
}

std::vector<double> decoderBlockNorms(const sae::Sae &sae, int64_t feature)
{
    const int64_t blocks = static_cast<int64_t>(sae.config().outputHooks().size());
    std::vector<double> norms;
    for (int64_t b = 0; b < blocks; ++b)
        norms.push_back(sae.decoderBlock(b)[feature].to(at::kDouble).norm().item<double>());
    return norms;
}

} // namespace fscope::core::analysis
