#include "core/index/accumulator_state.h"

#include "core/corpus/corpus.h"

#include <c10/util/Half.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

namespace fscope::core::index {

namespace {

constexpr int32_t kFineBinsLog2 = 9;
static_assert(int64_t(1) << kFineBinsLog2 == kFineBins);

float fromHalf(uint16_t bits)
{
    return static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
}

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

int32_t histogramExponent(float max)
{
    int e = 0;
    std::frexp(max, &e);
    return e;
}

float binScale(int32_t exponent)
{
    // 2^(9 - e) built from its bits, the same way the device builds it (exact, no exp2 rounding);
    // clamped to the normal range for absurd exponents.
    const int32_t biased = std::clamp(127 + kFineBinsLog2 - exponent, 1, 254);
    return std::bit_cast<float>(static_cast<uint32_t>(biased) << 23);
}

int64_t sumUnits(float value)
{
    // Scaling by a power of two is exact; nearbyint rounds half to even like the device's round.
    return static_cast<int64_t>(
        std::nearbyint(static_cast<double>(value) * (1 << kSumFractionBits)));
}

int64_t fineBin(float value, float scale)
{
    return std::clamp<int64_t>(static_cast<int64_t>(std::floor(value * scale)), 0, kFineBins - 1);
}

int64_t topKey(float value, int64_t context)
{
    const auto bits = static_cast<int64_t>(std::bit_cast<int32_t>(value));
    return ((INT32_MAX - bits) << 32) | context;
}

uint64_t featureKeyMix(int64_t feature)
{
    return corpus::mix64(static_cast<uint64_t>(feature));
}

uint64_t sampleSeedMix(uint64_t seed)
{
    return corpus::mix64(seed ^ 0x73616D706C65ULL);
}

int64_t sampleKey(uint64_t seedMix, uint64_t featureMix, uint64_t globalRow)
{
    const uint64_t h = corpus::mix64(seedMix ^ featureMix ^ (globalRow * 0x9E3779B97F4A7C15ULL));
    return static_cast<int64_t>(h ^ (uint64_t(1) << 63));
}

AccumulatorState AccumulatorState::empty(
    int64_t features, int64_t contextLength, const AccumulatorOptions &options)
{
    AccumulatorState s;
    s.features = features;
    s.contextLength = contextLength;
    s.window = std::min(2 * options.windowRadius + 1, contextLength);
    s.options = options;
    const auto F = static_cast<size_t>(features);
    const auto K = F * static_cast<size_t>(options.topExamples),
               R = F * static_cast<size_t>(options.reservoir);
    const auto W = static_cast<size_t>(s.window);
    s.count.assign(F, 0);
    s.sum.assign(F, 0);
    s.max.assign(F, 0);
    s.fine.assign(F * kFineBins, 0);
    s.topKeys.assign(K, kEmptyKey);
    s.topValue.assign(K, 0);
    s.topContext.assign(K, 0);
    s.topPos.assign(K, 0);
    s.topWindows.assign(K * W, 0);
    s.sampleKeys.assign(R, kEmptyKey);
    s.sampleValue.assign(R, 0);
    s.sampleContext.assign(R, 0);
    s.samplePos.assign(R, 0);
    s.sampleWindows.assign(R * W, 0);
    return s;
}

int32_t AccumulatorState::windowStart(int32_t pos) const
{
    return static_cast<int32_t>(
        std::clamp<int64_t>(pos - options.windowRadius, 0, contextLength - window));
}

FeatureSummary AccumulatorState::summary(int64_t j) const
{
    const auto ju = static_cast<size_t>(j);
    FeatureSummary s;
    s.count = count[ju];
    s.density = tokens ? static_cast<double>(s.count) / static_cast<double>(tokens) : 0.0;
    s.max = max[ju];
    s.mean = s.count ? static_cast<double>(sum[ju]) * kSumUnit / static_cast<double>(s.count) : 0.0;
    const int64_t bins = options.histogramBins;
    s.histogram.assign(static_cast<size_t>(bins), 0);
    if (s.count == 0)
        return s; // dead: no histogram range, no examples

    const int32_t *f = fine.data() + j * kFineBins;
    const float scale = binScale(histogramExponent(s.max));
    const float w = 1.0f / scale;
    int64_t bmin = 0, bmax = kFineBins - 1;
    while (f[bmin] == 0)
        ++bmin;
    while (f[bmax] == 0)
        --bmax;
    const int64_t m = (bmax - bmin + 1 + bins - 1) / bins;
    s.histLo = static_cast<float>(bmin) * w;
    s.histHi = static_cast<float>(bmin + bins * m) * w;
    for (int64_t b = bmin; b <= bmax; ++b)
        s.histogram[static_cast<size_t>((b - bmin) / m)] += static_cast<uint32_t>(f[b]);

    // Equal-count band edges over the fine bins: edge q is the first bin where the cumulative
    // count reaches q/Q of the total.
    const int64_t Q = options.quantileBands;
    std::vector<int64_t> cum(static_cast<size_t>(kFineBins + 1), 0);
    for (int64_t b = 0; b < kFineBins; ++b)
        cum[static_cast<size_t>(b + 1)] = cum[static_cast<size_t>(b)] + f[b];
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

    auto example = [&](bool isTop, size_t slot) {
        Example e;
        e.value = (isTop ? topValue : sampleValue)[slot];
        e.context = (isTop ? topContext : sampleContext)[slot];
        const int32_t pos = (isTop ? topPos : samplePos)[slot];
        e.maxPos = pos;
        e.start = windowStart(pos);
        const uint16_t *win
            = (isTop ? topWindows : sampleWindows).data() + slot * static_cast<size_t>(window);
        e.activations.resize(static_cast<size_t>(window));
        for (int64_t t = 0; t < window; ++t)
            e.activations[static_cast<size_t>(t)] = fromHalf(win[t]);
        return e;
    };
    // The filled slots of one feature's list, in key order.
    auto ordered = [&](const std::vector<int64_t> &keys, int64_t slots) {
        std::vector<size_t> order;
        for (int64_t i = 0; i < slots; ++i)
            if (keys[static_cast<size_t>(j * slots + i)] != kEmptyKey)
                order.push_back(static_cast<size_t>(j * slots + i));
        std::sort(
            order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
        return order;
    };
    for (size_t slot : ordered(topKeys, options.topExamples))
        s.top.push_back(example(true, slot));

    // Samples in key order (uniformly random), at most perBand per band.
    std::vector<int64_t> taken(s.bands.size(), 0);
    for (size_t slot : ordered(sampleKeys, options.reservoir)) {
        const int64_t fb = fineBin(sampleValue[slot], scale);
        const auto q
            = static_cast<int64_t>(std::upper_bound(edges.begin(), edges.end(), fb) - edges.begin())
            - 1;
        const int64_t band = bandOfEdge[static_cast<size_t>(std::clamp<int64_t>(q, 0, Q - 1))];
        if (band < 0 || taken[static_cast<size_t>(band)] >= options.perBand)
            continue;
        ++taken[static_cast<size_t>(band)];
        Example e = example(false, slot);
        e.band = static_cast<int32_t>(band);
        s.quantileExamples.push_back(std::move(e));
    }
    std::stable_sort(s.quantileExamples.begin(), s.quantileExamples.end(),
        [](const Example &a, const Example &b) {
            return a.band != b.band ? a.band > b.band : a.value > b.value;
        });
    return s;
}

Status AccumulatorState::merge(const AccumulatorState &o)
{
    if (o.features != features || o.contextLength != contextLength || o.window != window
        || o.options.topExamples != options.topExamples || o.options.reservoir != options.reservoir
        || o.options.windowRadius != options.windowRadius || o.options.seed != options.seed
        || o.options.useMagnitude != options.useMagnitude)
        return Error { "index states of different configurations cannot be merged" };
    tokens += o.tokens;
    const size_t W = static_cast<size_t>(window);
    for (int64_t j = 0; j < features; ++j) {
        const auto ju = static_cast<size_t>(j);
        const float mergedMax = std::max(max[ju], o.max[ju]);
        const int32_t e = histogramExponent(mergedMax);
        int32_t *f = fine.data() + j * kFineBins;
        std::vector<int32_t> bins(kFineBins, 0);
        auto fold = [&](const int32_t *src, float srcMax, int64_t n) {
            if (n == 0)
                return;
            const int32_t d = std::min(e - histogramExponent(srcMax), 31);
            for (int64_t b = 0; b < kFineBins; ++b)
                bins[static_cast<size_t>(b >> d)] += src[b];
        };
        fold(f, max[ju], count[ju]);
        fold(o.fine.data() + j * kFineBins, o.max[ju], o.count[ju]);
        std::copy(bins.begin(), bins.end(), f);
        count[ju] += o.count[ju];
        sum[ju] += o.sum[ju];
        max[ju] = mergedMax;
    }
    // The S smallest keys of both lists (keys never repeat across disjoint contexts).
    auto mergeLists = [&](std::vector<int64_t> &keys, std::vector<float> &value,
                          std::vector<int32_t> &context, std::vector<int32_t> &pos,
                          std::vector<uint16_t> &windows, const std::vector<int64_t> &oKeys,
                          const std::vector<float> &oValue, const std::vector<int32_t> &oContext,
                          const std::vector<int32_t> &oPos, const std::vector<uint16_t> &oWindows,
                          int64_t S) {
        std::vector<std::pair<int64_t, size_t>> both; // (key, slot; other's slots offset by S)
        for (int64_t j = 0; j < features; ++j) {
            both.clear();
            const auto base = static_cast<size_t>(j * S);
            for (int64_t i = 0; i < S; ++i) {
                if (keys[base + static_cast<size_t>(i)] != kEmptyKey)
                    both.emplace_back(keys[base + static_cast<size_t>(i)], static_cast<size_t>(i));
                if (oKeys[base + static_cast<size_t>(i)] != kEmptyKey)
                    both.emplace_back(
                        oKeys[base + static_cast<size_t>(i)], static_cast<size_t>(S + i));
            }
            std::sort(both.begin(), both.end());
            both.resize(std::min(both.size(), static_cast<size_t>(S)));
            // Rebuild the row from copies: a slot of this list may be overwritten before read.
            const std::vector<int64_t> k0(keys.begin() + long(base), keys.begin() + long(base + S));
            const std::vector<float> v0(value.begin() + long(base), value.begin() + long(base + S));
            const std::vector<int32_t> c0(
                context.begin() + long(base), context.begin() + long(base + S));
            const std::vector<int32_t> p0(pos.begin() + long(base), pos.begin() + long(base + S));
            const std::vector<uint16_t> w0(windows.begin() + long(base * W),
                windows.begin() + long((base + static_cast<size_t>(S)) * W));
            for (size_t i = 0; i < static_cast<size_t>(S); ++i) {
                const size_t at = base + i;
                if (i >= both.size()) {
                    keys[at] = kEmptyKey;
                    continue;
                }
                const size_t from = both[i].second;
                const bool mine = from < static_cast<size_t>(S);
                const size_t src = mine ? from : base + from - static_cast<size_t>(S);
                keys[at] = both[i].first;
                value[at] = mine ? v0[from] : oValue[src];
                context[at] = mine ? c0[from] : oContext[src];
                pos[at] = mine ? p0[from] : oPos[src];
                std::copy_n(mine ? w0.data() + from * W : oWindows.data() + src * W, W,
                    windows.data() + at * W);
            }
        }
    };
    mergeLists(topKeys, topValue, topContext, topPos, topWindows, o.topKeys, o.topValue,
        o.topContext, o.topPos, o.topWindows, options.topExamples);
    mergeLists(sampleKeys, sampleValue, sampleContext, samplePos, sampleWindows, o.sampleKeys,
        o.sampleValue, o.sampleContext, o.samplePos, o.sampleWindows, options.reservoir);
    return {};
}

std::string AccumulatorState::serialize() const
{
    std::string out = "FSACC3";
    const std::vector<int64_t> header = { features, contextLength, window, options.topExamples,
        options.reservoir, options.histogramBins, static_cast<int64_t>(options.seed),
        options.windowRadius, tokens };
    put(out, header);
    put(out, count);
    put(out, sum);
    put(out, max);
    put(out, fine);
    put(out, topKeys);
    put(out, topValue);
    put(out, topContext);
    put(out, topPos);
    put(out, topWindows);
    put(out, sampleKeys);
    put(out, sampleValue);
    put(out, sampleContext);
    put(out, samplePos);
    put(out, sampleWindows);
    return out;
}

Result<AccumulatorState> AccumulatorState::deserialize(
    const std::string &blob, const AccumulatorOptions &options)
{
    std::vector<int64_t> header(9);
    size_t at = 6;
    if (blob.compare(0, 6, "FSACC3") != 0 || !take(blob, at, header))
        return Error { "index state: unknown or truncated format" };
    const int64_t features = header[0], contextLength = header[1];
    AccumulatorOptions o = options;
    o.topExamples = header[3];
    o.reservoir = header[4];
    o.histogramBins = header[5];
    o.seed = static_cast<uint64_t>(header[6]);
    o.windowRadius = header[7];
    // The shape is checked against the blob's size before anything of that size is allocated.
    const int64_t window = std::min(2 * o.windowRadius + 1, contextLength);
    const int64_t perSlot = 8 + 4 + 4 + 4 + 2 * window;
    if (features < 0 || contextLength < 1 || o.topExamples < 0 || o.reservoir < 0 || window < 1
        || features > int64_t(1) << 32 || o.topExamples + o.reservoir > 1 << 20
        || 6 + 9 * 8
                + features * (8 + 8 + 4 + 4 * kFineBins + (o.topExamples + o.reservoir) * perSlot)
            != static_cast<int64_t>(blob.size()))
        return Error { "index state: its size does not match its header" };
    AccumulatorState s = empty(features, contextLength, o);
    if (auto r = s.restore(blob); !r)
        return r.error();
    return s;
}

Status AccumulatorState::restore(const std::string &blob)
{
    if (blob.compare(0, 6, "FSACC3") != 0)
        return Error { "index checkpoint: unknown state format" };
    size_t at = 6;
    std::vector<int64_t> header(9);
    if (!take(blob, at, header))
        return Error { "index checkpoint: truncated state" };
    const std::vector<int64_t> expected
        = { features, contextLength, window, options.topExamples, options.reservoir,
              options.histogramBins, static_cast<int64_t>(options.seed), options.windowRadius };
    if (!std::equal(expected.begin(), expected.end(), header.begin()))
        return Error { "index checkpoint: state of a different index configuration" };
    tokens = header[8];
    const bool ok = take(blob, at, count) && take(blob, at, sum) && take(blob, at, max)
        && take(blob, at, fine) && take(blob, at, topKeys) && take(blob, at, topValue)
        && take(blob, at, topContext) && take(blob, at, topPos) && take(blob, at, topWindows)
        && take(blob, at, sampleKeys) && take(blob, at, sampleValue)
        && take(blob, at, sampleContext) && take(blob, at, samplePos)
        && take(blob, at, sampleWindows);
    if (!ok || at != blob.size())
        return Error { "index checkpoint: state has the wrong size" };
    return {};
}

} // namespace fscope::core::index
