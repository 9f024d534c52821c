#include "core/model/generation.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

namespace fscope::core::model {

int64_t sampleToken(const at::Tensor &logits, const GenerateOptions &o, at::Generator &generator)
{
    at::Tensor l = logits.to(at::kCPU, at::kFloat);
    if (o.temperature <= 0)
        return l.argmax().item<int64_t>();
    l = l / o.temperature;
    if (o.topK > 0 && o.topK < l.size(0)) {
        const at::Tensor kth = std::get<0>(l.topk(o.topK)).min();
        l = l.masked_fill(l < kth, -std::numeric_limits<float>::infinity());
    }
    if (o.topP < 1.0) {
        // Keep the smallest set of top tokens whose probability reaches top_p (HF
        // TopPLogitsWarper).
        auto [sorted, order] = l.sort(/*dim=*/0, /*descending=*/true);
        const at::Tensor cumulative = at::softmax(sorted, 0).cumsum(0);
        at::Tensor remove = (cumulative - at::softmax(sorted, 0)) >= o.topP;
        l = l.index_fill(0, order.masked_select(remove), -std::numeric_limits<float>::infinity());
    }
    const at::Tensor probs = at::softmax(l, 0);
    return at::multinomial(probs, 1, false, generator).item<int64_t>();
}

Result<Generation> generate(const Decoder &decoder,
    const std::vector<std::vector<int64_t>> &prompts, const GenerateOptions &options,
    const ForwardOptions &hooks, jobs::Progress *progress)
{
    if (prompts.empty())
        return Error { "generate: no prompt" };
    const int64_t B = static_cast<int64_t>(prompts.size());
    size_t longest = 0;
    for (const auto &p : prompts) {
        if (p.empty())
            return Error { "generate: empty prompt (add a BOS token)" };
        longest = std::max(longest, p.size());
    }
    // Left padding keeps every prompt's last token at the same column.
    const int64_t T = static_cast<int64_t>(longest);
    at::Tensor ids = at::zeros({ B, T }, at::kLong);
    at::Tensor mask = at::zeros({ B, T }, at::kBool);
    for (int64_t b = 0; b < B; ++b) {
        const auto &p = prompts[b];
        const int64_t pad = T - static_cast<int64_t>(p.size());
        for (size_t i = 0; i < p.size(); ++i)
            ids[b][pad + static_cast<int64_t>(i)] = p[i];
        mask[b].narrow(0, pad, T - pad).fill_(true);
    }
    // Positions count real tokens only (HF: attention_mask.cumsum(-1) - 1).
    at::Tensor positions = (mask.to(at::kLong).cumsum(1) - 1).clamp_min(0);

    auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    KvCache cache;
    Generation out;
    out.tokens.resize(B);
    std::vector<bool> done(B, false);
    at::Tensor nextPositions = positions.select(1, T - 1).unsqueeze(1) + 1;
    if (progress)
        progress->begin(options.maxNewTokens, "Generating");

    ForwardInputs step { ids, positions, mask };
    for (int64_t n = 0; n < options.maxNewTokens; ++n) {
        if (progress && progress->cancelled())
            return Error { "generation cancelled" };
        auto result = decoder.forward(step, hooks, &cache);
        if (!result)
            return result.error();
        const at::Tensor last = result->logits.select(1, result->logits.size(1) - 1);
        if (n == 0)
            out.firstLogits = last.to(at::kCPU);
        at::Tensor next = at::zeros({ B, 1 }, at::kLong);
        for (int64_t b = 0; b < B; ++b) {
            if (done[b])
                continue;
            const int64_t token = sampleToken(last[b], options, generator);
            out.tokens[b].push_back(token);
            next[b][0] = token;
            if (std::find(options.stopTokens.begin(), options.stopTokens.end(), token)
                != options.stopTokens.end())
                done[b] = true;
        }
        if (progress)
            progress->advance();
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }))
            break;
        step = ForwardInputs { next, nextPositions.clone(), at::ones({ B, 1 }, at::kBool) };
        nextPositions = nextPositions + 1;
    }
    return out;
}

} // namespace fscope::core::model
