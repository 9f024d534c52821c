#include "core/model/decoder.h"

#include "core/model/decoder_weights.h"
#include "core/model/rope.h"

#include <cmath>
#include <limits>

namespace fscope::core::model {

Decoder::~Decoder() = default;

bool cudaAvailable()
{
    return at::hasCUDA();
}

Result<at::Device> resolveDevice(const std::string &device)
{
    if (device == "cpu")
        return at::Device(at::kCPU);
    const bool cuda = at::hasCUDA();
    if (device == "cuda") {
        if (!cuda)
            return Error { "--device cuda: this build or machine has no CUDA device" };
        return at::Device(at::kCUDA, 0);
    }
    if (device == "auto")
        return cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    // "cuda:N", as at::Device::str() writes it (a model's device handed on to its SAEs).
    if (device.rfind("cuda:", 0) == 0 && device.size() > 5
        && device.find_first_not_of("0123456789", 5) == std::string::npos) {
        if (!cuda)
            return Error { "--device " + device + ": this build or machine has no CUDA device" };
        const int index = std::stoi(device.substr(5));
        if (index >= int(at::getNumGPUs()))
            return Error { "--device " + device + ": there are only "
                + std::to_string(at::getNumGPUs()) + " CUDA devices" };
        return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    return Error { "unknown device '" + device + "' (auto, cuda, cuda:N or cpu)" };
}

Result<at::ScalarType> resolveDtype(const std::string &dtype, at::Device device)
{
    if (dtype == "f32" || dtype == "float32")
        return at::kFloat;
    if (dtype == "bf16" || dtype == "bfloat16")
        return at::kBFloat16;
    if (dtype == "f16" || dtype == "float16") {
        if (!device.is_cuda())
            return Error { "--dtype f16 needs a CUDA device (LibTorch's CPU kernels have no "
                           "half-precision matmul); use bf16 or f32 on the CPU" };
        return at::kHalf;
    }
    if (dtype == "auto")
        return device.is_cuda() ? at::kBFloat16 : at::kFloat;
    return Error { "unknown dtype '" + dtype + "' (auto, bf16, f16 or f32)" };
}

int64_t Decoder::parameterBytes() const
{
    int64_t bytes = 0;
    const auto add = [&bytes](const at::Tensor &t) {
        if (t.defined())
            bytes += static_cast<int64_t>(t.nbytes());
    };
    const auto addNorm = [&add](const Norm &n) {
        add(n.weight);
        add(n.bias);
    };
    add(m_weights->embed);
    add(m_weights->positions);
    // Tied embeddings share one storage: count the head only when it is its own tensor.
    if (!m_weights->lmHead.defined() || !m_weights->lmHead.is_alias_of(m_weights->embed))
        add(m_weights->lmHead);
    addNorm(m_weights->finalNorm);
    for (const LayerWeights &l : m_weights->layers) {
        for (const Norm *n : { &l.inputNorm, &l.postAttentionNorm, &l.preMlpNorm, &l.postMlpNorm,
                 &l.qNorm, &l.kNorm })
            addNorm(*n);
        for (const at::Tensor *t : { &l.q, &l.k, &l.v, &l.o, &l.qBias, &l.kBias, &l.vBias, &l.oBias,
                 &l.qkv, &l.qkvBias, &l.up, &l.upBias, &l.gate, &l.down, &l.downBias })
            add(*t);
    }
    return bytes;
}

Result<std::unique_ptr<Decoder>> Decoder::load(const std::string &path, const LoadOptions &options)
{
    auto config = readModelConfig(path);
    if (!config)
        return config.error();
    auto device = resolveDevice(options.device);
    if (!device)
        return device.error();
    auto dtype = resolveDtype(options.dtype, *device);
    if (!dtype)
        return dtype.error();
    auto checkpoint = io::Checkpoint::open(path);
    if (!checkpoint)
        return checkpoint.error();
    auto weights = loadDecoderWeights(*checkpoint, *config, *device, *dtype);
    if (!weights)
        return weights.error();
    std::unique_ptr<Decoder> d(new Decoder);
    d->m_config = std::move(config).value();
    d->m_path = path;
    d->m_device = *device;
    d->m_dtype = *dtype;
    d->m_weights = std::move(weights).value();
    if (!d->m_config.learnedPositions)
        d->m_invFreq = ropeInverseFrequencies(d->m_config).to(*device);
    if (d->m_config.ropeLocalTheta > 0) { // Gemma 3: local layers' own base, never scaled
        ModelConfig local = d->m_config;
        local.ropeTheta = local.ropeLocalTheta;
        local.ropeScaling = RopeScaling();
        d->m_localInvFreq = ropeInverseFrequencies(local).to(*device);
    }
    return d;
}

at::Tensor Decoder::unembedding() const
{
    return m_weights->lmHead;
}

at::Tensor Decoder::finalNormScale() const
{
    const at::Tensor w = m_weights->finalNorm.weight.to(at::kFloat);
    return m_config.norm == NormKind::RmsNormPlusOne ? 1.0 + w : w;
}

namespace {

at::Tensor linear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
    return at::linear(x, w, b.defined() ? c10::optional<at::Tensor>(b) : c10::nullopt);
}

// The norm without its affine part, in float32 (TransformerLens' hook_normalized).
at::Tensor normalize(const at::Tensor &x, NormKind kind, double eps)
{
    const at::Tensor xf = x.to(at::kFloat);
    if (kind == NormKind::LayerNorm) {
        const at::Tensor mean = xf.mean(-1, true);
        const at::Tensor var = (xf - mean).pow(2).mean(-1, true); // biased, as nn.LayerNorm
        return (xf - mean) * at::rsqrt(var + eps);
    }
    return xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
}

at::Tensor affine(const at::Tensor &normalized, const Norm &n, NormKind kind, at::ScalarType dtype)
{
    switch (kind) {
    case NormKind::LayerNorm:
        return (normalized * n.weight + n.bias).to(dtype);
    case NormKind::RmsNorm:
        return n.weight * normalized.to(dtype); // HF LlamaRMSNorm
    case NormKind::RmsNormPlusOne:
        return (normalized * (1.0 + n.weight)).to(dtype); // Gemma2RMSNorm
    }
    return normalized;
}

at::Tensor norm(const at::Tensor &x, const Norm &n, const ModelConfig &c, at::ScalarType dtype)
{
    if (c.norm == NormKind::LayerNorm) // fused kernel, in float32 as normalize() would be
        return at::layer_norm(x.to(at::kFloat), { x.size(-1) }, n.weight, n.bias, c.normEps)
            .to(dtype);
    return affine(normalize(x, c.norm, c.normEps), n, c.norm, dtype);
}

at::Tensor softcap(const at::Tensor &x, double cap)
{
    return cap > 0 ? at::tanh(x / cap) * cap : x;
}

struct HookRunner {
    const ForwardOptions &options;
    ForwardResult &result;
    int64_t offset;

    at::Tensor operator()(const std::string &name, at::Tensor x) const
    {
        const auto range = options.interventions.equal_range(name);
        for (auto it = range.first; it != range.second; ++it) {
            at::Tensor replaced = it->second(x, HookContext { name, offset });
            if (replaced.defined())
                x = replaced;
        }
        if (options.capture.count(name))
            result.activations[name] = x;
        return x;
    }
};

} // namespace

Result<ForwardResult> Decoder::forward(
    const ForwardInputs &inputs, const ForwardOptions &options, KvCache *cache) const
{
    if (!inputs.ids.defined() || inputs.ids.dim() != 2)
        return Error { "forward: ids must be [batch, tokens]" };
    if (inputs.ids.numel() > 0
        && (inputs.ids.min().item<int64_t>() < 0
            || inputs.ids.max().item<int64_t>() >= m_config.vocabSize))
        return Error { "forward: token id outside the vocabulary of "
            + std::to_string(m_config.vocabSize) };
    for (const auto &name : options.capture)
        if (const auto hook = parseHookName(name); !hook || hook->layer >= m_config.layers)
            return Error { "unknown hook point '" + name + "'" };
    if (cache && !options.computeLogits)
        return Error { "forward: a KV cache needs the full forward (computeLogits)" };
    try {
        return run(inputs, options, cache);
    } catch (const std::exception &e) {
        const auto *c10error = dynamic_cast<const c10::Error *>(&e);
        std::string message = c10error ? c10error->what_without_backtrace() : e.what();
        if (message.find("out of memory") != std::string::npos)
            message = "out of memory on " + m_device.str()
                + ": try a smaller batch or a lower dtype (bf16)";
        return Error { "forward failed: " + message };
    }
}

ForwardResult Decoder::run(
    const ForwardInputs &inputs, const ForwardOptions &options, KvCache *cache) const
{
    const ModelConfig &c = m_config;
    const Weights &W = *m_weights;
    ForwardResult result;
    const int64_t past = cache ? cache->length() : 0;
    HookRunner hook { options, result, past };
    const at::Tensor ids = inputs.ids.to(m_device);
    const int64_t B = ids.size(0), T = ids.size(1), S = past + T;

    at::Tensor positions = inputs.positions.defined()
        ? inputs.positions.to(m_device)
        : at::arange(past, S, at::TensorOptions().dtype(at::kLong).device(m_device))
              .unsqueeze(0)
              .expand({ B, T });
    // Key mask over past + new tokens.
    at::Tensor keyMask = inputs.keyMask.defined()
        ? inputs.keyMask.to(m_device).to(at::kBool)
        : at::ones({ B, T }, at::TensorOptions().dtype(at::kBool).device(m_device));
    if (cache) {
        if (cache->keyMask.defined())
            keyMask = at::cat({ cache->keyMask, keyMask }, 1);
        else if (past > 0)
            keyMask = at::cat({ at::ones({ B, past }, keyMask.options()), keyMask }, 1);
        cache->keyMask = keyMask;
        cache->keys.resize(c.layers);
        cache->values.resize(c.layers);
    }
    // allowed[b, 1, q, k]: causal in cache coordinates, within the sliding window if any.
    const auto longOpts = at::TensorOptions().dtype(at::kLong).device(m_device);
    const at::Tensor qIdx = at::arange(past, S, longOpts).view({ T, 1 });
    const at::Tensor kIdx = at::arange(0, S, longOpts).view({ 1, S });
    const at::Tensor causal
        = (kIdx <= qIdx).view({ 1, 1, T, S }).logical_and(keyMask.view({ B, 1, 1, S }));
    at::Tensor slidingAllowed;
    if (c.slidingWindow > 0)
        slidingAllowed = causal.logical_and((kIdx > qIdx - c.slidingWindow).view({ 1, 1, T, S }));

    at::Tensor x = at::embedding(W.embed, ids);
    if (c.scaleEmbeddings) // sqrt(hidden) materialised in the activation dtype, as HF does
        x = x * at::scalar_tensor(std::sqrt(double(c.hidden)), x.options());
    x = hook("hook_embed", x);
    if (c.learnedPositions)
        x = x + hook("hook_pos_embed", at::embedding(W.positions, positions));

    at::Tensor cos, sin, localCos, localSin;
    if (!c.learnedPositions)
        std::tie(cos, sin) = ropeCosSin(m_invFreq, positions, m_dtype);
    if (m_localInvFreq.defined())
        std::tie(localCos, localSin) = ropeCosSin(m_localInvFreq, positions, m_dtype);

    const int64_t lastLayer = options.computeLogits
        ? c.layers - 1
        : std::min(c.layers - 1, deepestLayer(options.capture, c.layers));
    const double lowest = std::numeric_limits<float>::lowest();
    for (int64_t l = 0; l <= lastLayer; ++l) {
        const LayerWeights &L = W.layers[l];
        const std::string p = "blocks." + std::to_string(l) + ".";
        x = hook(p + "hook_resid_pre", x);

        const at::Tensor a = norm(x, L.inputNorm, c, m_dtype);
        const int64_t qWidth = c.heads * c.headDim, kvWidth = c.kvHeads * c.headDim;
        const auto qkv
            = linear(a, L.qkv, L.qkvBias).split_with_sizes({ qWidth, kvWidth, kvWidth }, -1);
        at::Tensor q = qkv[0].reshape({ B, T, c.heads, c.headDim }).transpose(1, 2);
        at::Tensor k = qkv[1].reshape({ B, T, c.kvHeads, c.headDim }).transpose(1, 2);
        at::Tensor v = qkv[2].reshape({ B, T, c.kvHeads, c.headDim }).transpose(1, 2);
        if (c.qkNorm) { // per head, before RoPE (Gemma 3, Qwen 3)
            q = norm(q, L.qNorm, c, m_dtype);
            k = norm(k, L.kNorm, c, m_dtype);
        }
        if (!c.learnedPositions) {
            const bool local = c.slidingLayers[l] && localCos.defined();
            q = applyRope(q, local ? localCos : cos, local ? localSin : sin);
            k = applyRope(k, local ? localCos : cos, local ? localSin : sin);
        }
        if (cache) {
            if (cache->keys[l].defined()) {
                k = at::cat({ cache->keys[l], k }, 2);
                v = at::cat({ cache->values[l], v }, 2);
            }
            cache->keys[l] = k;
            cache->values[l] = v;
        }
        if (c.kvHeads != c.heads) { // GQA: query head h reads kv head h / (heads / kvHeads)
            k = k.repeat_interleave(c.heads / c.kvHeads, 1);
            v = v.repeat_interleave(c.heads / c.kvHeads, 1);
        }
        at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) * c.attentionScale;
        scores = softcap(scores, c.attnSoftcap); // Gemma 2: before the mask
        const at::Tensor &allowed = c.slidingLayers[l] ? slidingAllowed : causal;
        // Mask and softmax in float32 (HF: softmax(dtype=float32)); masked entries get zero.
        scores = scores.to(at::kFloat).masked_fill(allowed.logical_not(), lowest);
        const at::Tensor pattern = at::softmax(scores, -1).to(m_dtype);
        at::Tensor z = at::matmul(pattern, v).transpose(1, 2).contiguous(); // [B, T, H, dh]
        z = hook(p + "attn.hook_z", z);
        at::Tensor attnOut = linear(z.reshape({ B, T, c.heads * c.headDim }), L.o, L.oBias);
        if (c.sandwichNorms)
            attnOut = norm(attnOut, L.postAttentionNorm, c, m_dtype);
        attnOut = hook(p + "hook_attn_out", attnOut);
        x = hook(p + "hook_resid_mid", x + attnOut);

        const at::Tensor m = hook(p + "mlp.hook_in", norm(x, L.preMlpNorm, c, m_dtype));
        at::Tensor post;
        switch (c.mlp) {
        case MlpKind::GeluNew:
            post = at::gelu(linear(m, L.up, L.upBias), "tanh");
            break;
        case MlpKind::GatedGeluTanh:
            post = at::gelu(linear(m, L.gate, at::Tensor()), "tanh") * linear(m, L.up, L.upBias);
            break;
        case MlpKind::GatedSilu:
            post = at::silu(linear(m, L.gate, at::Tensor())) * linear(m, L.up, L.upBias);
            break;
        }
        post = hook(p + "mlp.hook_post", post);
        at::Tensor mlpOut = linear(post, L.down, L.downBias);
        if (c.sandwichNorms)
            mlpOut = norm(mlpOut, L.postMlpNorm, c, m_dtype);
        mlpOut = hook(p + "hook_mlp_out", mlpOut);
        x = hook(p + "hook_resid_post", x + mlpOut);
    }

    const bool wantsFinalNorm = options.capture.count("ln_final.hook_normalized") > 0;
    if (options.computeLogits || wantsFinalNorm) {
        const std::string name = "ln_final.hook_normalized";
        at::Tensor normalized = normalize(x, c.norm, c.normEps);
        const at::Tensor hooked = hook(name, normalized.to(m_dtype));
        // Keep float32 for the affine step unless an intervention replaced the activation.
        if (options.interventions.count(name))
            normalized = hooked.to(at::kFloat);
        if (options.computeLogits) {
            const at::Tensor h = affine(normalized, W.finalNorm, c.norm, m_dtype);
            result.logits = softcap(at::linear(h, W.lmHead).to(at::kFloat), c.finalSoftcap);
        }
    }
    return result;
}

} // namespace fscope::core::model
