#include "tests/support/reference_accumulator.h"

#include <c10/util/Half.h>

#include <algorithm>
#include <cmath>

namespace fscope::test {

using namespace core::index;

ReferenceAccumulator::ReferenceAccumulator(
    int64_t features, int64_t contextLength, const AccumulatorOptions &options)
    : m_s(AccumulatorState::empty(features, contextLength, options))
{
}

// Keeps the `slots` smallest keys of feature j: fill an empty slot, else replace the largest.
void ReferenceAccumulator::offer(
    bool top, int64_t j, int64_t key, float v, int32_t context, int32_t pos)
{
    const int64_t S = top ? m_s.options.topExamples : m_s.options.reservoir;
    if (S == 0)
        return;
    std::vector<int64_t> &keys = top ? m_s.topKeys : m_s.sampleKeys;
    size_t worst = static_cast<size_t>(j * S);
    for (int64_t s = 0; s < S; ++s) {
        const auto i = static_cast<size_t>(j * S + s);
        if (keys[i] > keys[worst])
            worst = i;
    }
    if (key >= keys[worst])
        return;
    keys[worst] = key;
    (top ? m_s.topValue : m_s.sampleValue)[worst] = v;
    (top ? m_s.topContext : m_s.sampleContext)[worst] = context;
    (top ? m_s.topPos : m_s.samplePos)[worst] = pos;
    m_pending.emplace_back(worst, top);
}

void ReferenceAccumulator::add(
    const at::Tensor &activations, int64_t firstContext, const std::vector<uint8_t> &counted)
{
    const int64_t F = m_s.features, T = m_s.contextLength, W = m_s.window;
    at::Tensor a = activations.to(at::kCPU, at::kFloat);
    if (m_s.options.useMagnitude)
        a = a.abs();
    a = a.reshape({ -1, F }).contiguous();
    const float *dense = a.data_ptr<float>();
    const int64_t rowsTotal = a.size(0);
    for (uint8_t c : counted)
        m_s.tokens += c ? 1 : 0;

    std::vector<float> ctxMax(static_cast<size_t>(F));
    std::vector<int32_t> ctxPos(static_cast<size_t>(F));
    std::vector<int64_t> stamp(static_cast<size_t>(F), -1), touched;
    auto flush = [&](int64_t c) {
        for (int64_t j : touched) {
            const auto context = static_cast<int32_t>(firstContext + c);
            const auto ju = static_cast<size_t>(j);
            offer(true, j, topKey(ctxMax[ju], context), ctxMax[ju], context, ctxPos[ju]);
        }
        touched.clear();
    };
    const uint64_t seedMix = sampleSeedMix(m_s.options.seed);
    int64_t current = -1;
    for (int64_t r = 0; r < rowsTotal; ++r) {
        if (!counted[static_cast<size_t>(r)])
            continue;
        const int64_t c = r / T;
        if (c != current) {
            flush(current);
            current = c;
        }
        for (int64_t j = 0; j < F; ++j) {
            const float v = dense[r * F + j];
            if (!(v > 0)) // firing means a positive activation (NaN never fires)
                continue;
            const auto ju = static_cast<size_t>(j);
            ++m_s.count[ju];
            m_s.sum[ju] += sumUnits(v);
            // The histogram at the power of two above the running max, regrouped when it grows.
            const int32_t before = histogramExponent(m_s.max[ju]);
            m_s.max[ju] = std::max(m_s.max[ju], v);
            const int32_t after = histogramExponent(m_s.max[ju]);
            int32_t *fine = m_s.fine.data() + j * kFineBins;
            if (after > before && m_s.count[ju] > 1) {
                const int32_t d = std::min(after - before, 31);
                std::vector<int32_t> merged(kFineBins, 0);
                for (int64_t b = 0; b < kFineBins; ++b)
                    merged[static_cast<size_t>(b >> d)] += fine[b];
                std::copy(merged.begin(), merged.end(), fine);
            }
            ++fine[fineBin(v, binScale(after))];
            const auto pos = static_cast<int32_t>(r % T);
            offer(false, j,
                sampleKey(seedMix, featureKeyMix(j), static_cast<uint64_t>(firstContext * T + r)),
                v, static_cast<int32_t>(firstContext + c), pos);
            if (stamp[ju] != c) {
                stamp[ju] = c;
                ctxMax[ju] = v;
                ctxPos[ju] = pos;
                touched.push_back(j);
            } else if (v > ctxMax[ju]) {
                ctxMax[ju] = v;
                ctxPos[ju] = pos;
            }
        }
    }
    flush(current);

    // Windows of the slots filled in this batch (the last writer of each slot wins).
    for (const auto &[slot, top] : m_pending) {
        const int64_t S = top ? m_s.options.topExamples : m_s.options.reservoir;
        const int64_t j = static_cast<int64_t>(slot) / S;
        const int32_t context = (top ? m_s.topContext : m_s.sampleContext)[slot];
        const int32_t pos = (top ? m_s.topPos : m_s.samplePos)[slot];
        const int64_t row0 = (context - firstContext) * T + m_s.windowStart(pos);
        uint16_t *out = (top ? m_s.topWindows : m_s.sampleWindows).data() + slot * size_t(W);
        for (int64_t t = 0; t < W; ++t) {
            const int64_t row = row0 + t;
            out[t] = c10::Half(counted[static_cast<size_t>(row)] ? dense[row * F + j] : 0.0f).x;
        }
    }
    m_pending.clear();
}

} // namespace fscope::test
