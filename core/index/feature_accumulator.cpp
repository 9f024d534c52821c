#include "core/index/feature_accumulator.h"

#include "core/corpus/corpus.h"

#include <c10/util/Half.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fscope::core::index {

namespace {

uint16_t toHalf(float v)
{
    return c10::Half(v).x;
}

float fromHalf(uint16_t bits)
{
    return static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
}

// Appends / reads plain arrays for the checkpoint blob.
template <typename T> void put(std::string &out, const std::vector<T> &v)
{
    out.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

template <typename T> bool take(const std::string &in, size_t &at, std::vector<T> &v)
{
    const size_t bytes = v.size() * sizeof(T);
    if (at + bytes > in.size())
        return false;
    std::memcpy(v.data(), in.data() + at, bytes);
    at += bytes;
    return true;
}

} // namespace

FeatureAccumulator::FeatureAccumulator(
    int64_t features, int64_t contextLength, AccumulatorOptions options)
    : m_features(features)
    , m_T(contextLength)
    , m_window(std::min(2 * options.windowRadius + 1, contextLength))
    , m_options(options)
{
    const auto F = static_cast<size_t>(features);
    const auto K = static_cast<size_t>(options.topExamples),
               R = static_cast<size_t>(options.reservoir);
    m_count.assign(F, 0);
    m_sum.assign(F, 0);
    m_max.assign(F, 0);
    m_hi.assign(F, 0);
    m_fine.assign(F * kFineBins, 0);
    m_topN.assign(F, 0);
    m_sampleN.assign(F, 0);
    m_top.assign(F * K, Slot {});
    m_sample.assign(F * R, Slot {});
    m_topWindows.assign(F * K * static_cast<size_t>(m_window), 0);
    m_sampleWindows.assign(F * R * static_cast<size_t>(m_window), 0);
    m_topFloor.assign(F, 0);
    m_sampleCeil.assign(F, 0);
}

int32_t FeatureAccumulator::windowStart(int32_t pos) const
{
    const int64_t start = std::clamp<int64_t>(pos - m_options.windowRadius, 0, m_T - m_window);
    return static_cast<int32_t>(start);
}

int64_t FeatureAccumulator::fineBin(int64_t j, float v) const
{
    const float hi = m_hi[static_cast<size_t>(j)];
    const auto b = static_cast<int64_t>(v / hi * static_cast<float>(kFineBins));
    return std::clamp<int64_t>(b, 0, kFineBins - 1);
}

void FeatureAccumulator::addToHistogram(int64_t j, float v)
{
    float &hi = m_hi[static_cast<size_t>(j)];
    uint32_t *fine = m_fine.data() + j * kFineBins;
    if (hi == 0) {
        hi = 2 * v; // the invariant max >= hi / 2 keeps at least half the bins usable
    } else if (v > hi) {
        const auto k = std::max<int64_t>(2, static_cast<int64_t>(std::ceil(v / hi)));
        std::vector<uint32_t> merged(kFineBins, 0);
        for (int64_t b = 0; b < kFineBins; ++b)
            merged[static_cast<size_t>(b / k)] += fine[b];
        std::copy(merged.begin(), merged.end(), fine);
        hi *= static_cast<float>(k);
    }
    ++fine[fineBin(j, v)];
}

void FeatureAccumulator::offerTop(int64_t j, float v, int32_t context, int32_t pos)
{
    const int64_t K = m_options.topExamples;
    if (K == 0)
        return;
    int32_t &n = m_topN[static_cast<size_t>(j)];
    Slot *slots = m_top.data() + j * K;
    int64_t target;
    if (n < K) {
        target = n++;
    } else {
        if (v <= m_topFloor[static_cast<size_t>(j)])
            return; // contexts arrive in order: an equal value from a later context never wins
        target = 0; // the worst slot: lowest value, the later context among equals
        for (int64_t s = 1; s < K; ++s)
            if (slots[s].value < slots[target].value
                || (slots[s].value == slots[target].value
                    && slots[s].context > slots[target].context))
                target = s;
    }
    slots[target] = Slot { v, context, pos, windowStart(pos), 0 };
    if (n == K) {
        float floor = slots[0].value;
        for (int64_t s = 1; s < K; ++s)
            floor = std::min(floor, slots[s].value);
        m_topFloor[static_cast<size_t>(j)] = floor;
    }
    m_pending.emplace_back(j * K + target, true);
}

void FeatureAccumulator::offerSample(int64_t j, float v, int32_t context, int32_t pos, uint64_t key)
{
    const int64_t R = m_options.reservoir;
    if (R == 0)
        return;
    int32_t &n = m_sampleN[static_cast<size_t>(j)];
    Slot *slots = m_sample.data() + j * R;
    int64_t target;
    if (n < R) {
        target = n++;
    } else {
        if (key >= m_sampleCeil[static_cast<size_t>(j)])
            return;
        target = 0;
        for (int64_t s = 1; s < R; ++s)
            if (slots[s].key > slots[target].key)
                target = s;
    }
    slots[target] = Slot { v, context, pos, windowStart(pos), key };
    if (n == R) {
        uint64_t ceil = slots[0].key;
        for (int64_t s = 1; s < R; ++s)
            ceil = std::max(ceil, slots[s].key);
        m_sampleCeil[static_cast<size_t>(j)] = ceil;
    }
    m_pending.emplace_back(j * R + target, false);
}

void FeatureAccumulator::add(
    const at::Tensor &activations, int64_t firstContext, const std::vector<uint8_t> &counted)
{
    at::Tensor a = activations.to(at::kFloat);
    if (m_options.useMagnitude)
        a = a.abs();
    a = a.reshape({ -1, m_features }).contiguous();
    const int64_t rowsTotal = a.size(0);
    for (uint8_t c : counted)
        m_tokens += c ? 1 : 0;

    // The non-zeros in row-major order (token by token), with their values, on the host.
    const at::Tensor nz = at::nonzero(a);
    const at::Tensor rowsT = nz.select(1, 0).contiguous(), colsT = nz.select(1, 1).contiguous();
    const at::Tensor valsT = a.index({ rowsT, colsT }).to(at::kCPU).contiguous();
    const at::Tensor rowsH = rowsT.to(at::kCPU).contiguous(),
                     colsH = colsT.to(at::kCPU).contiguous();
    const int64_t *rows = rowsH.data_ptr<int64_t>(), *cols = colsH.data_ptr<int64_t>();
    const float *vals = valsT.data_ptr<float>();
    const int64_t nnz = nz.size(0);

    std::vector<float> ctxMax(static_cast<size_t>(m_features));
    std::vector<int32_t> ctxPos(static_cast<size_t>(m_features));
    std::vector<int64_t> stamp(static_cast<size_t>(m_features), -1);
    std::vector<int64_t> touched;
    auto flush = [&](int64_t c) {
        for (int64_t j : touched)
            offerTop(j, ctxMax[static_cast<size_t>(j)], static_cast<int32_t>(firstContext + c),
                ctxPos[static_cast<size_t>(j)]);
        touched.clear();
    };
    const uint64_t seedMix = corpus::mix64(m_options.seed ^ 0x73616D706C65ULL);
    int64_t current = -1;
    for (int64_t i = 0; i < nnz; ++i) {
        const int64_t r = rows[i];
        if (!counted[static_cast<size_t>(r)])
            continue;
        const int64_t c = r / m_T;
        if (c != current) {
            flush(current);
            current = c;
        }
        const int64_t j = cols[i];
        const float v = vals[i];
        if (!(v > 0)) // firing means a positive activation (NaN never fires)
            continue;
        const auto ju = static_cast<size_t>(j);
        ++m_count[ju];
        m_sum[ju] += v;
        m_max[ju] = std::max(m_max[ju], v);
        addToHistogram(j, v);
        const auto pos = static_cast<int32_t>(r % m_T);
        const uint64_t globalRow = static_cast<uint64_t>(firstContext * m_T + r);
        offerSample(j, v, static_cast<int32_t>(firstContext + c), pos,
            corpus::mix64(seedMix ^ corpus::mix64(static_cast<uint64_t>(j))
                ^ (globalRow * 0x9E3779B97F4A7C15ULL)));
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
    flush(current);

    // Windows of the slots filled in this batch (the last writer of each slot wins).
    std::sort(m_pending.begin(), m_pending.end());
    m_pending.erase(std::unique(m_pending.begin(), m_pending.end()), m_pending.end());
    if (m_pending.empty())
        return;
    std::vector<int64_t> flat;
    flat.reserve(m_pending.size() * static_cast<size_t>(m_window));
    for (const auto &[index, isTop] : m_pending) {
        const Slot &s
            = isTop ? m_top[static_cast<size_t>(index)] : m_sample[static_cast<size_t>(index)];
        const int64_t j = index / (isTop ? m_options.topExamples : m_options.reservoir);
        const int64_t row0 = (s.context - firstContext) * m_T + s.start;
        for (int64_t t = 0; t < m_window; ++t)
            flat.push_back((row0 + t) * m_features + j);
    }
    at::Tensor gathered;
    const float *g = nullptr;
    if (a.is_cpu()) {
        g = nullptr; // read straight from the activations
    } else {
        gathered = a.view({ -1 })
                       .index_select(0, at::tensor(flat, at::kLong).to(a.device()))
                       .to(at::kCPU)
                       .contiguous();
        g = gathered.data_ptr<float>();
    }
    const float *dense = a.is_cpu() ? a.data_ptr<float>() : nullptr;
    size_t k = 0;
    for (const auto &[index, isTop] : m_pending) {
        const Slot &s
            = isTop ? m_top[static_cast<size_t>(index)] : m_sample[static_cast<size_t>(index)];
        uint16_t *out = (isTop ? m_topWindows.data() : m_sampleWindows.data()) + index * m_window;
        const int64_t row0 = (s.context - firstContext) * m_T + s.start;
        for (int64_t t = 0; t < m_window; ++t, ++k) {
            const int64_t row = row0 + t;
            const float v = dense ? dense[flat[k]] : g[k];
            out[t] = toHalf(row < rowsTotal && counted[static_cast<size_t>(row)] ? v : 0.0f);
        }
    }
    m_pending.clear();
}

Example FeatureAccumulator::toExample(const Slot &s, const uint16_t *window) const
{
    Example e;
    e.value = s.value;
    e.context = s.context;
    e.maxPos = s.maxPos;
    e.start = s.start;
    e.activations.resize(static_cast<size_t>(m_window));
    for (int64_t t = 0; t < m_window; ++t)
        e.activations[static_cast<size_t>(t)] = fromHalf(window[t]);
    return e;
}

FeatureSummary FeatureAccumulator::summary(int64_t j) const
{
    const auto ju = static_cast<size_t>(j);
    FeatureSummary s;
    s.count = m_count[ju];
    s.density = m_tokens ? static_cast<double>(s.count) / static_cast<double>(m_tokens) : 0.0;
    s.max = m_max[ju];
    s.mean = s.count ? m_sum[ju] / static_cast<double>(s.count) : 0.0;
    const int64_t bins = m_options.histogramBins;
    s.histogram.assign(static_cast<size_t>(bins), 0);
    if (s.count == 0)
        return s; // dead: no histogram range, no examples

    const uint32_t *fine = m_fine.data() + j * kFineBins;
    const float w = m_hi[ju] / static_cast<float>(kFineBins);
    int64_t bmin = 0, bmax = kFineBins - 1;
    while (fine[bmin] == 0)
        ++bmin;
    while (fine[bmax] == 0)
        --bmax;
    const int64_t m = (bmax - bmin + 1 + bins - 1) / bins;
    s.histLo = static_cast<float>(bmin) * w;
    s.histHi = static_cast<float>(bmin + bins * m) * w;
    for (int64_t b = bmin; b <= bmax; ++b)
        s.histogram[static_cast<size_t>((b - bmin) / m)] += fine[b];

    // Equal-count band edges over the fine bins: edge q is the first bin where the cumulative
    // count reaches q/Q of the total.
    const int64_t Q = m_options.quantileBands;
    std::vector<int64_t> cum(static_cast<size_t>(kFineBins + 1), 0);
    for (int64_t b = 0; b < kFineBins; ++b)
        cum[static_cast<size_t>(b + 1)] = cum[static_cast<size_t>(b)] + fine[b];
    std::vector<int64_t> edges = { bmin };
    for (int64_t q = 1; q < Q; ++q) {
        int64_t b = edges.back();
        while (b <= bmax && cum[static_cast<size_t>(b)] * Q < q * s.count)
            ++b;
        edges.push_back(b);
    }
    edges.push_back(bmax + 1);
    std::vector<int64_t> bandOfEdge; // output band index per q, -1 when empty
    for (int64_t q = 0; q < Q; ++q) {
        const int64_t n = cum[static_cast<size_t>(edges[static_cast<size_t>(q + 1)])]
            - cum[static_cast<size_t>(edges[static_cast<size_t>(q)])];
        if (n == 0) {
            bandOfEdge.push_back(-1);
            continue;
        }
        bandOfEdge.push_back(static_cast<int64_t>(s.bands.size()));
        const bool last = edges[static_cast<size_t>(q + 1)] == bmax + 1;
        s.bands.push_back({ static_cast<float>(edges[static_cast<size_t>(q)]) * w,
            last ? s.max : static_cast<float>(edges[static_cast<size_t>(q + 1)]) * w, n });
    }

    const int64_t K = m_options.topExamples, R = m_options.reservoir;
    std::vector<int64_t> order(static_cast<size_t>(m_topN[ju]));
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<int64_t>(i);
    const Slot *top = m_top.data() + j * K;
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return top[a].value != top[b].value ? top[a].value > top[b].value
                                            : top[a].context < top[b].context;
    });
    for (int64_t i : order)
        s.top.push_back(toExample(top[i], m_topWindows.data() + (j * K + i) * m_window));

    // Samples in key order (uniformly random), at most perBand per band.
    const Slot *sample = m_sample.data() + j * R;
    std::vector<int64_t> byKey(static_cast<size_t>(m_sampleN[ju]));
    for (size_t i = 0; i < byKey.size(); ++i)
        byKey[i] = static_cast<int64_t>(i);
    std::sort(byKey.begin(), byKey.end(),
        [&](int64_t a, int64_t b) { return sample[a].key < sample[b].key; });
    std::vector<int64_t> taken(s.bands.size(), 0);
    for (int64_t i : byKey) {
        const int64_t fb = fineBin(j, sample[i].value);
        const auto q
            = static_cast<int64_t>(std::upper_bound(edges.begin(), edges.end(), fb) - edges.begin())
            - 1;
        const int64_t band = bandOfEdge[static_cast<size_t>(std::clamp<int64_t>(q, 0, Q - 1))];
        if (band < 0 || taken[static_cast<size_t>(band)] >= m_options.perBand)
            continue;
        ++taken[static_cast<size_t>(band)];
        Example e = toExample(sample[i], m_sampleWindows.data() + (j * R + i) * m_window);
        e.band = static_cast<int32_t>(band);
        s.quantileExamples.push_back(std::move(e));
    }
    std::stable_sort(s.quantileExamples.begin(), s.quantileExamples.end(),
        [](const Example &a, const Example &b) {
            return a.band != b.band ? a.band > b.band : a.value > b.value;
        });
    return s;
}

std::string FeatureAccumulator::serialize() const
{
    std::string out = "FSACC1";
    const std::vector<int64_t> header
        = { m_features, m_T, m_window, m_options.topExamples, m_options.reservoir,
              m_options.histogramBins, static_cast<int64_t>(m_options.seed), m_tokens };
    put(out, header);
    put(out, m_count);
    put(out, m_sum);
    put(out, m_max);
    put(out, m_hi);
    put(out, m_fine);
    put(out, m_topN);
    put(out, m_sampleN);
    put(out, m_top);
    put(out, m_sample);
    put(out, m_topWindows);
    put(out, m_sampleWindows);
    put(out, m_topFloor);
    put(out, m_sampleCeil);
    return out;
}

Status FeatureAccumulator::restore(const std::string &blob)
{
    if (blob.compare(0, 6, "FSACC1") != 0)
        return Error { "index checkpoint: unknown state format" };
    size_t at = 6;
    std::vector<int64_t> header(8);
    if (!take(blob, at, header))
        return Error { "index checkpoint: truncated state" };
    const std::vector<int64_t> expected = { m_features, m_T, m_window, m_options.topExamples,
        m_options.reservoir, m_options.histogramBins, static_cast<int64_t>(m_options.seed) };
    if (!std::equal(expected.begin(), expected.end(), header.begin()))
        return Error { "index checkpoint: state of a different index configuration" };
    m_tokens = header[7];
    const bool ok = take(blob, at, m_count) && take(blob, at, m_sum) && take(blob, at, m_max)
        && take(blob, at, m_hi) && take(blob, at, m_fine) && take(blob, at, m_topN)
        && take(blob, at, m_sampleN) && take(blob, at, m_top) && take(blob, at, m_sample)
        && take(blob, at, m_topWindows) && take(blob, at, m_sampleWindows)
        && take(blob, at, m_topFloor) && take(blob, at, m_sampleCeil);
    if (!ok || at != blob.size())
        return Error { "index checkpoint: state has the wrong size" };
    return {};
}

} // namespace fscope::core::index
