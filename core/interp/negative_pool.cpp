#include "core/interp/negative_pool.h"

#include "core/store/index_store.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <random>

namespace fscope::core::interp {

Result<NegativePool> NegativePool::build(store::Database &db, int64_t corpusId, int64_t contexts,
    const model::Decoder &decoder, const tokenize::Tokenizer &tokenizer, const sae::Sae &sae,
    const std::vector<int64_t> &features, const std::set<int64_t> &specialTokens,
    const NegativePoolOptions &options, jobs::Progress *progress)
{
    NegativePool pool;
    if (contexts <= 0 || features.empty())
        return pool;
    for (int64_t f : features) {
        if (f < 0 || f >= sae.config().dSae)
            return Error { "feature " + std::to_string(f) + " is outside the SAE's "
                + std::to_string(sae.config().dSae) + " features" };
        pool.m_column.emplace(f, pool.m_column.size());
    }
    std::vector<int64_t> columns(pool.m_column.size());
    for (const auto &[f, c] : pool.m_column)
        columns[c] = f;
    const at::Tensor columnIndex = at::tensor(columns, at::kLong).to(sae.device());

    // Candidate windows: the non-overlapping slots of every context, in a seeded order.
    std::vector<int32_t> first;
    FS_TRY(first, store::loadContext(db, corpusId, 0));
    const int64_t T = int64_t(first.size());
    const int64_t L = std::min(options.windowLength, T);
    const int64_t slots = L > 0 ? T / L : 0;
    std::vector<std::pair<int64_t, int64_t>> candidates; // (context, start)
    for (int64_t c = 0; c < contexts; ++c)
        for (int64_t k = 0; k < slots; ++k)
            candidates.emplace_back(c, k * L);
    std::mt19937_64 rng(options.seed);
    std::shuffle(candidates.begin(), candidates.end(), rng);
    candidates.resize(size_t(std::min<int64_t>(int64_t(candidates.size()), options.windows)));
    std::sort(candidates.begin(), candidates.end());
    std::vector<int64_t> order; // the contexts to run, each once
    for (const auto &c : candidates)
        if (order.empty() || order.back() != c.first)
            order.push_back(c.first);

    at::NoGradGuard noGrad;
    model::ForwardOptions fo;
    for (const std::string &hook : sae.config().inputHooks())
        fo.capture.insert(hook);
    fo.computeLogits = false;
    if (progress)
        progress->setMessage("checking non-activating contexts with the model");
    size_t next = 0; // into candidates
    for (size_t from = 0; from < order.size(); from += size_t(options.batchContexts)) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        const size_t to = std::min(order.size(), from + size_t(options.batchContexts));
        std::vector<std::vector<int32_t>> batch;
        std::vector<int64_t> flat;
        for (size_t i = from; i < to; ++i) {
            std::vector<int32_t> ids;
            FS_TRY(ids, store::loadContext(db, corpusId, order[i]));
            if (int64_t(ids.size()) != T)
                return Error { "the stored contexts differ in length" };
            flat.insert(flat.end(), ids.begin(), ids.end());
            batch.push_back(std::move(ids));
        }
        const int64_t B = int64_t(batch.size());
        const at::Tensor ids = at::tensor(flat, at::kLong).reshape({ B, T }).to(decoder.device());
        auto r = decoder.forward({ ids }, fo);
        if (!r)
            return r.error();
        at::Tensor x;
        FS_TRY(x, sae::dictionaryInput(sae.config(), r->activations));
        at::Tensor acts
            = sae.encode(x.reshape({ B * T, -1 }).to(sae.device())).index_select(1, columnIndex);
        if (sae.config().architecture == sae::Architecture::AbsTopK)
            acts = acts.abs();
        acts = acts.to(at::kCPU, at::kFloat).reshape({ B, T, -1 }).contiguous();
        const int64_t K = acts.size(2);
        const float *a = acts.data_ptr<float>();
        for (int64_t b = 0; b < B; ++b) {
            const auto &ctx = batch[size_t(b)];
            for (; next < candidates.size() && candidates[next].first == order[from + size_t(b)];
                 ++next) {
                const int64_t start = candidates[next].second;
                TextExample e;
                e.context = candidates[next].first;
                e.start = int(start);
                e.activating = false;
                std::vector<float> windowMax(size_t(K), 0.0f);
                for (int64_t t = start; t < start + L; ++t) {
                    e.ids.push_back(ctx[size_t(t)]);
                    e.tokens.push_back(
                        tokenize::sanitizeUtf8(tokenizer.tokenBytes(ctx[size_t(t)])));
                    // Special tokens count for no feature, as in the index.
                    if (specialTokens.count(ctx[size_t(t)]))
                        continue;
                    for (int64_t k = 0; k < K; ++k)
                        windowMax[size_t(k)]
                            = std::max(windowMax[size_t(k)], a[(b * T + t) * K + k]);
                }
                e.activations.assign(size_t(L), 0.0f);
                pool.m_windows.push_back(std::move(e));
                pool.m_windowMax.push_back(std::move(windowMax));
            }
        }
    }
    return pool;
}

std::vector<TextExample> NegativePool::forFeature(
    int64_t feature, int64_t count, uint64_t seed) const
{
    std::vector<TextExample> out;
    const auto it = m_column.find(feature);
    if (it == m_column.end())
        return out;
    std::vector<size_t> zero;
    for (size_t w = 0; w < m_windows.size(); ++w)
        if (m_windowMax[w][it->second] <= 0)
            zero.push_back(w);
    std::mt19937_64 rng(seed ^ (uint64_t(feature) * 0x9E3779B97F4A7C15ull));
    std::shuffle(zero.begin(), zero.end(), rng);
    for (size_t i = 0; i < zero.size() && int64_t(i) < count; ++i)
        out.push_back(m_windows[zero[i]]);
    return out;
}

} // namespace fscope::core::interp
