#include "core/model/rope.h"

#include <cmath>

namespace fscope::core::model {

at::Tensor ropeInverseFrequencies(const ModelConfig &c)
{
    // HF: 1 / base ** (arange(0, dim, 2, dtype=int64).float() / dim)
    const at::Tensor exponents
        = at::arange(0, c.headDim, 2, at::kLong).to(at::kFloat) / double(c.headDim);
    at::Tensor inv = 1.0 / at::pow(at::scalar_tensor(c.ropeTheta, at::kFloat), exponents);
    const RopeScaling &s = c.ropeScaling;
    if (s.type == "linear") {
        inv = inv / s.factor;
    } else if (s.type == "llama3") {
        // _compute_llama3_parameters: long wavelengths are divided by factor, short kept,
        // the band between blended smoothly.
        const double lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
        const double highWavelen = s.originalMaxPositions / s.highFreqFactor;
        const at::Tensor wavelen = 2 * M_PI / inv;
        at::Tensor scaled = at::where(wavelen > lowWavelen, inv / s.factor, inv);
        const at::Tensor smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor)
            / (s.highFreqFactor - s.lowFreqFactor);
        const at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
        const at::Tensor medium = (wavelen >= highWavelen).logical_and(wavelen <= lowWavelen);
        inv = at::where(medium, smoothed, scaled);
    }
    return inv;
}

std::pair<at::Tensor, at::Tensor> ropeCosSin(
    const at::Tensor &invFreq, const at::Tensor &positions, at::ScalarType dtype)
{
    // freqs in float32 (HF disables autocast here), then cast to the activation dtype.
    const at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1)
        * invFreq.to(positions.device()).view({ 1, 1, -1 });
    const at::Tensor emb = at::cat({ freqs, freqs }, -1).unsqueeze(1);
    return { emb.cos().to(dtype), emb.sin().to(dtype) };
}

at::Tensor applyRope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin)
{
    const int64_t half = x.size(-1) / 2;
    const at::Tensor rotated = at::cat({ -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
    return x * cos + rotated * sin;
}

} // namespace fscope::core::model
