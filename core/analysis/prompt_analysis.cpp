#include "core/analysis/prompt_analysis.h"

#include "core/corpus/corpus.h"

#include <ATen/core/grad_mode.h>
#include <algorithm>

namespace fscope::core::analysis {

Result<PromptAnalysis> analyzePrompt(const model::Decoder &decoder,
    const tokenize::Tokenizer &tokenizer, const sae::Sae &sae, const std::string &text,
    int64_t topPerToken, int64_t topPrompt)
{
    const auto enc = tokenizer.encodeForModel(text, tokenizer.bosId().has_value());
    const auto specialIds = corpus::specialTokens(tokenizer);
    std::vector<bool> special;
    for (int64_t id : enc.ids)
        special.push_back(specialIds.count(id) > 0);
    PromptAnalysis out;
    FS_TRY(out, analyzeIds(decoder, sae, enc.ids, special, topPerToken, topPrompt));
    for (int64_t id : out.ids)
        out.tokens.push_back(tokenize::sanitizeUtf8(tokenizer.tokenBytes(id)));
    return out;
}

Result<PromptAnalysis> analyzeIds(const model::Decoder &decoder, const sae::Sae &sae,
    const std::vector<int64_t> &ids, const std::vector<bool> &special, int64_t topPerToken,
    int64_t topPrompt)
{
    PromptAnalysis out;
    out.ids = ids;
    if (out.ids.empty())
        return Error { "the prompt is empty" };
    for (int64_t id : out.ids)
        if (id < 0 || id >= decoder.config().vocabSize)
            return Error { "token id " + std::to_string(id)
                + " is outside the model's vocabulary" };
    out.special = special;
    out.special.resize(out.ids.size(), false);
    at::NoGradGuard noGrad;
    model::ForwardOptions fo;
    for (const std::string &hook : sae.config().inputHooks())
        fo.capture.insert(hook);
    fo.computeLogits = false;
    const at::Tensor input = at::tensor(out.ids, at::kLong).unsqueeze(0).to(decoder.device());
    auto r = decoder.forward({ input }, fo);
    if (!r)
        return r.error();
    const int64_t T = static_cast<int64_t>(out.ids.size());
    at::Tensor x;
    FS_TRY(x, sae::dictionaryInput(sae.config(), r->activations));
    at::Tensor f = sae.encode(x.reshape({ T, -1 }).to(sae.device())).to(at::kCPU, at::kFloat);
    if (sae.config().architecture == sae::Architecture::AbsTopK)
        f = f.abs();
    for (int64_t t = 0; t < T; ++t)
        if (out.special[static_cast<size_t>(t)])
            f[t].zero_();
    f = f.contiguous();
    const int64_t F = f.size(1);
    const float *data = f.data_ptr<float>();
    std::set<int64_t> shown;
    auto topOf = [](const at::Tensor &row, int64_t k) {
        std::vector<FeatureActivation> list;
        auto [values, indices] = row.topk(std::min(k, row.size(0)));
        for (int64_t i = 0; i < values.size(0); ++i)
            if (values[i].item<float>() > 0)
                list.push_back({ indices[i].item<int64_t>(), values[i].item<float>() });
        return list;
    };
    for (int64_t t = 0; t < T; ++t) {
        out.perToken.push_back(topOf(f[t], topPerToken));
        for (const auto &fa : out.perToken.back())
            shown.insert(fa.feature);
    }
    out.prompt = topOf(std::get<0>(f.max(0)), topPrompt);
    for (const auto &fa : out.prompt)
        shown.insert(fa.feature);
    for (int64_t j : shown) {
        std::vector<float> column(static_cast<size_t>(T));
        for (int64_t t = 0; t < T; ++t)
            column[static_cast<size_t>(t)] = data[t * F + j];
        out.activations[j] = std::move(column);
    }
    return out;
}

} // namespace fscope::core::analysis
