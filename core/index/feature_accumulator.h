#pragma once
// Streaming per-feature statistics over a corpus, one batch of SAE activations at a time, with
// memory bounded by the number of features (never tokens x features beyond one batch):
// firing count, density, max and mean of non-zero activations, an exact-count histogram, the
// top activating contexts (one per context, a window centred on its max token), and a uniform
// random sample of firing tokens from which equal-count quantile bands are drawn at the end.
//
// Histogram: each feature keeps kFineBins equal bins over [0, hi]; when a value exceeds hi, hi
// grows by an integer factor and bins merge in groups, so every activation stays counted in
// exactly one bin. finish() regroups the occupied fine bins into `histogramBins` output bins
// (counts sum to the firing count; the range may extend slightly past the max).
// Quantile bands: band edges are the exact equal-count quantiles at fine-bin resolution; the
// samples come from a bottom-k sample (smallest hash keys) of the feature's firing tokens, so
// the sample is uniform, order-independent and needs no random state to checkpoint.
// Signed SAEs (AbsTopK) are summarised by |f|.

#include "core/util/result.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::index {

struct AccumulatorOptions {
    int64_t topExamples = 20;
    int64_t quantileBands = 10;
    int64_t perBand = 5;
    int64_t reservoir = 100; // firing tokens sampled per feature for the quantile bands
    int64_t windowRadius = 12; // tokens each side of an example's max token
    int64_t histogramBins = 50;
    uint64_t seed = 0;
    bool useMagnitude = false; // AbsTopK: summarise |f|
};

struct Example {
    float value = 0; // activation at the max token
    int64_t context = 0; // corpus context index
    int32_t maxPos = 0; // position of the max token in the context
    int32_t start = 0; // first context position of the window
    int32_t band = -1; // quantile band (-1: a top example)
    std::vector<float> activations; // one per window token
};

struct QuantileBand {
    float lo = 0, hi = 0; // value range [lo, hi) (the last band includes hi)
    int64_t count = 0; // firing tokens in the band over the whole corpus
};

struct FeatureSummary {
    int64_t count = 0;
    double density = 0;
    float max = 0;
    double mean = 0;
    float histLo = 0, histHi = 0;
    std::vector<uint32_t> histogram; // histogramBins equal bins over [histLo, histHi]
    std::vector<Example> top; // highest first
    std::vector<QuantileBand> bands;
    std::vector<Example> quantileExamples; // by band, highest first within a band
};

class FeatureAccumulator {
public:
    static constexpr int64_t kFineBins = 512;

    FeatureAccumulator(int64_t features, int64_t contextLength, AccumulatorOptions options);

    // `activations`: [contexts * contextLength, features] for consecutive contexts starting at
    // corpus context `firstContext` (any device, any float dtype). `counted`: one flag per row,
    // false for special tokens (neither counted nor shown in windows).
    void add(
        const at::Tensor &activations, int64_t firstContext, const std::vector<uint8_t> &counted);

    int64_t features() const { return m_features; }
    int64_t tokens() const { return m_tokens; }
    FeatureSummary summary(int64_t feature) const;

    // The whole state, for checkpoints; restore() refuses a blob of another shape or version.
    std::string serialize() const;
    Status restore(const std::string &blob);

private:
    struct Slot {
        float value;
        int32_t context;
        int32_t maxPos;
        int32_t start;
        uint64_t key; // reservoir: sample key; top: unused
    };
    void addToHistogram(int64_t j, float v);
    void offerTop(int64_t j, float v, int32_t context, int32_t pos);
    void offerSample(int64_t j, float v, int32_t context, int32_t pos, uint64_t key);
    int32_t windowStart(int32_t pos) const;
    int64_t fineBin(int64_t j, float v) const;
    Example toExample(const Slot &s, const uint16_t *window) const;

    int64_t m_features, m_T, m_window;
    AccumulatorOptions m_options;
    int64_t m_tokens = 0;
    std::vector<int64_t> m_count;
    std::vector<double> m_sum;
    std::vector<float> m_max, m_hi;
    std::vector<uint32_t> m_fine; // features x kFineBins
    std::vector<int32_t> m_topN, m_sampleN;
    std::vector<Slot> m_top, m_sample; // features x topExamples / reservoir
    std::vector<uint16_t> m_topWindows, m_sampleWindows; // binary16, features x slots x window
    std::vector<float> m_topFloor; // smallest top value once full
    std::vector<uint64_t> m_sampleCeil; // largest kept key once full
    // Slots filled during the current add() whose windows are still to be gathered.
    std::vector<std::pair<int64_t, bool>> m_pending; // (slot index, is top)
};

} // namespace fscope::core::index
