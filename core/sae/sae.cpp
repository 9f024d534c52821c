#include "core/sae/sae.h"

#include <algorithm>
#include <cmath>

namespace fscope::core::sae {

std::string architectureName(Architecture a)
{
    switch (a) {
    case Architecture::Relu:
        return "standard";
    case Architecture::JumpRelu:
        return "jumprelu";
    case Architecture::TopK:
        return "topk";
    case Architecture::Gated:
        return "gated";
    case Architecture::AbsTopK:
        return "abstopk";
    case Architecture::MatchingPursuit:
        return "matching_pursuit";
    }
    return "?";
}

std::string kindName(DictionaryKind k)
{
    switch (k) {
    case DictionaryKind::Sae:
        return "sae";
    case DictionaryKind::Transcoder:
        return "transcoder";
    case DictionaryKind::SkipTranscoder:
        return "skip-transcoder";
    case DictionaryKind::Clt:
        return "clt";
    case DictionaryKind::Crosscoder:
        return "crosscoder";
    case DictionaryKind::Itda:
        return "itda";
    }
    return "?";
}

std::string normalizationName(Normalization n)
{
    switch (n) {
    case Normalization::None:
        return "none";
    case Normalization::ConstantNormRescale:
        return "constant_norm_rescale";
    case Normalization::LayerNorm:
        return "layer_norm";
    }
    return "?";
}

Result<at::Tensor> dictionaryInput(
    const SaeConfig &config, const std::map<std::string, at::Tensor> &activations)
{
    std::vector<at::Tensor> parts;
    for (const std::string &hook : config.inputHooks()) {
        const auto it = activations.find(hook);
        if (it == activations.end())
            return Error { "the forward pass did not capture " + hook + ", which the "
                + kindName(config.kind) + " reads" };
        parts.push_back(it->second);
    }
    return parts.size() == 1 ? parts.front() : at::cat(parts, -1);
}

Sae::Sae(SaeConfig config, SaeWeights weights)
    : m_config(std::move(config))
    , m_weights(std::move(weights))
{
}

std::pair<at::Tensor, InputState> Sae::normalizeInput(const at::Tensor &input) const
{
    at::Tensor x = input.to(device(), dtype());
    InputState state;
    if (m_config.centerInput) {
        state.mean = x.mean(-1, true);
        x = x - state.mean;
    }
    switch (m_config.normalization) {
    case Normalization::None:
        break;
    case Normalization::ConstantNormRescale:
        // SAELens: c = sqrt(d_in) / ||x|| per token.
        state.scale = std::sqrt(double(m_config.dIn)) / x.norm(2, -1, true);
        x = x * state.scale;
        break;
    case Normalization::LayerNorm: {
        // SAELens layer_norm: unbiased std, eps added to the std.
        const at::Tensor mu = x.mean(-1, true);
        const at::Tensor centered = x - mu;
        const at::Tensor stdev = centered.std(-1, /*unbiased=*/true, /*keepdim=*/true);
        state.mean = state.mean.defined() ? state.mean + mu : mu;
        state.scale = 1.0 / (stdev + 1e-5);
        x = centered * state.scale;
        break;
    }
    }
    return { x, state };
}

at::Tensor Sae::preActivations(const at::Tensor &normalized) const
{
    const at::Tensor xin = m_config.applyBDecToInput ? normalized - m_weights.b_dec : normalized;
    if (m_config.architecture == Architecture::Gated)
        return at::matmul(xin, m_weights.W_enc) + m_weights.b_gate;
    return at::matmul(xin, m_weights.W_enc) + m_weights.b_enc;
}

at::Tensor Sae::activate(const at::Tensor &pre, const at::Tensor &normalized) const
{
    switch (m_config.architecture) {
    case Architecture::Relu:
        return at::relu(pre);
    case Architecture::JumpRelu:
        return at::relu(pre) * (pre > m_weights.threshold).to(pre.scalar_type()); // strict >
    case Architecture::TopK: {
        at::Tensor scores = pre;
        if (m_config.rescaleActsByDecoderNorm)
            scores = pre * m_weights.W_dec.norm(2, 1);
        const auto [values, indices] = scores.topk(std::min(m_config.k, m_config.dSae), -1);
        return at::zeros_like(pre).scatter(-1, indices, at::relu(values));
    }
    case Architecture::AbsTopK: {
        // Signed: keep the k largest |pre| with their sign, no ReLU.
        const at::Tensor indices
            = std::get<1>(pre.abs().topk(std::min(m_config.k, m_config.dSae), -1));
        return at::zeros_like(pre).scatter(-1, indices, pre.gather(-1, indices));
    }
    case Architecture::MatchingPursuit: // encode() runs the pursuit itself
        return pre;
    case Architecture::Gated: {
        const at::Tensor gate = (pre > 0).to(pre.scalar_type());
        const at::Tensor xin
            = m_config.applyBDecToInput ? normalized - m_weights.b_dec : normalized;
        const at::Tensor magnitude
            = at::relu(at::matmul(xin, m_weights.W_enc * m_weights.r_mag.exp()) + m_weights.b_mag);
        return gate * magnitude;
    }
    }
    return pre;
}

at::Tensor matchingPursuit(const at::Tensor &x, const at::Tensor &atoms, int64_t k)
{
    const auto shape = x.sizes().vec();
    const int64_t d = atoms.size(1), n = atoms.size(0);
    at::Tensor r = x.reshape({ -1, d }).to(atoms.scalar_type()).clone();
    at::Tensor a = at::zeros({ r.size(0), n }, r.options());
    for (int64_t step = 0; step < k && n > 0; ++step) {
        const at::Tensor c = at::matmul(r, atoms.t()); // [rows, atoms]
        const at::Tensor j = c.abs().argmax(-1, /*keepdim=*/true); // [rows, 1]
        const at::Tensor cj = c.gather(-1, j); // [rows, 1]
        a.scatter_add_(-1, j, cj);
        r = r - cj * atoms.index_select(0, j.squeeze(-1));
    }
    std::vector<int64_t> outShape(shape.begin(), shape.end() - 1);
    outShape.push_back(n);
    return a.reshape(outShape);
}

at::Tensor Sae::encode(const at::Tensor &x, InputState *state) const
{
    auto [normalized, inputState] = normalizeInput(x);
    if (m_config.architecture == Architecture::MatchingPursuit) {
        if (state)
            *state = std::move(inputState);
        return matchingPursuit(normalized, m_weights.W_dec, m_config.k);
    }
    if (state)
        *state = std::move(inputState);
    return activate(preActivations(normalized), normalized);
}

at::Tensor Sae::decode(const at::Tensor &features, const InputState &state) const
{
    at::Tensor f = features.to(device(), dtype());
    if (m_config.architecture == Architecture::TopK && m_config.rescaleActsByDecoderNorm)
        f = f / m_weights.W_dec.norm(2, 1);
    at::Tensor y = at::matmul(f, m_weights.W_dec) + m_weights.b_dec;
    if (state.scale.defined())
        y = y / state.scale;
    if (state.mean.defined())
        y = y + state.mean;
    return y;
}

at::Tensor Sae::reconstruct(const at::Tensor &x) const
{
    InputState state;
    const at::Tensor f = encode(x, &state);
    const at::Tensor y = decode(f, state);
    const at::Tensor s = skip(x);
    return s.defined() ? y + s : y;
}

at::Tensor Sae::skip(const at::Tensor &x) const
{
    if (!m_weights.W_skip.defined())
        return {};
    return at::matmul(x.to(device(), dtype()), m_weights.W_skip);
}

at::Tensor Sae::decoderBlock(int64_t block) const
{
    if (m_weights.W_dec_blocks.defined())
        return m_weights.W_dec_blocks.select(1, block);
    if (m_config.readsSeveralHooks()) // a crosscoder: hook `block`'s slice of the row
        return m_weights.W_dec.narrow(1, block * m_config.hookWidth(), m_config.hookWidth());
    return m_weights.W_dec;
}

Sae Sae::to(at::Device device, at::ScalarType dtype) const
{
    auto move = [&](const at::Tensor &t) { return t.defined() ? t.to(device, dtype) : t; };
    SaeWeights w = m_weights;
    for (at::Tensor *t : { &w.W_enc, &w.b_enc, &w.W_dec, &w.b_dec, &w.threshold, &w.b_gate,
             &w.r_mag, &w.b_mag, &w.W_skip, &w.W_dec_blocks })
        *t = move(*t);
    SaeConfig c = m_config;
    c.dtype = dtype == at::kBFloat16 ? "bfloat16"
        : dtype == at::kHalf         ? "float16"
        : dtype == at::kDouble       ? "float64"
                                     : "float32";
    return Sae(c, w);
}

Status Sae::checkFinite() const
{
    const std::pair<const char *, const at::Tensor *> tensors[] = { { "W_enc", &m_weights.W_enc },
        { "b_enc", &m_weights.b_enc }, { "W_dec", &m_weights.W_dec }, { "b_dec", &m_weights.b_dec },
        { "threshold", &m_weights.threshold }, { "b_gate", &m_weights.b_gate },
        { "r_mag", &m_weights.r_mag }, { "b_mag", &m_weights.b_mag },
        { "W_skip", &m_weights.W_skip }, { "W_dec_blocks", &m_weights.W_dec_blocks } };
    for (const auto &[name, t] : tensors) {
        if (!t->defined())
            continue;
        const int64_t bad = t->isfinite().logical_not().sum().item<int64_t>();
        if (bad > 0)
            return Error { std::string(name) + " holds " + std::to_string(bad)
                + " NaN or infinite values" };
    }
    return {};
}

} // namespace fscope::core::sae
