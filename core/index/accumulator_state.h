#pragma once
// The feature accumulator's state as plain host arrays: what a checkpoint stores, what a shard
// hands to a merge, and what the per-feature summaries (the stored index) are computed from.
// The device accumulator (feature_accumulator.h) downloads into it at checkpoints and at the end.
//
// Histogram: each feature keeps kFineBins equal bins over [0, hi), hi = the power of two above
// the feature's max (so max >= hi / 2 and at least half the bins are in use). Because hi only
// ever doubles, a bin regroups exactly into the bin of a larger hi (b >> d), and a value's bin
// at the final hi is the same whatever order the values came in: the fine histogram is
// order-independent and two of them merge exactly. The summary regroups the occupied fine bins
// into `histogramBins` output bins (counts sum to the firing count; the range may extend slightly
// past the max).
// Quantile bands: band edges are the exact equal-count quantiles at fine-bin resolution; the
// examples come from a bottom-k sample (smallest hash keys) of the feature's firing tokens, which
// is uniform, order-independent and needs no random state.

#include "core/util/result.h"

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

inline constexpr int64_t kFineBins = 512;
// Sums are kept in fixed point, in units of 2^-kSumFractionBits (about 6e-8). Integer addition is
// exact and associative, so a sum does not depend on the order of its values: not on a GPU's
// atomic adds, not on the batch size, not on how shards are merged. Each value is rounded to the
// nearest unit (half to even); a feature's sum holds up to 2^39 (5.5e11) before it overflows.
inline constexpr int kSumFractionBits = 24;
inline constexpr double kSumUnit = 1.0 / double(1 << kSumFractionBits);
int64_t sumUnits(float value);
// Empty slot of the top and sample lists (their keys sort ascending, empty last).
inline constexpr int64_t kEmptyKey = INT64_MAX;

// The exponent e of hi = 2^e for a feature whose max is `max` (frexp's: max = m 2^e, m in
// [0.5, 1)), and the exact factor 2^(log2 kFineBins - e) that turns a value into its bin.
int32_t histogramExponent(float max);
float binScale(int32_t exponent);
int64_t fineBin(float value, float scale);

// A top example's sort key: value descending, then the earlier context (one example per context
// and feature, so keys never tie). Positive floats order like their bit patterns.
int64_t topKey(float value, int64_t context);
// A sample's key: the 64-bit hash of (seed, feature, corpus row), as a signed integer that sorts
// like the unsigned hash. `featureMix` is featureKeyMix(feature).
uint64_t featureKeyMix(int64_t feature);
uint64_t sampleSeedMix(uint64_t seed);
int64_t sampleKey(uint64_t seedMix, uint64_t featureMix, uint64_t globalRow);

struct AccumulatorState {
    int64_t features = 0, contextLength = 0, window = 0;
    AccumulatorOptions options;
    int64_t tokens = 0; // counted tokens seen
    std::vector<int64_t> count;
    std::vector<int64_t> sum; // units of kSumUnit
    std::vector<float> max;
    std::vector<int32_t> fine; // features x kFineBins, at each feature's histogramExponent(max)
    // features x topExamples and features x reservoir slots; a slot is empty when its key is
    // kEmptyKey. Slots need not be in order.
    std::vector<int64_t> topKeys, sampleKeys;
    std::vector<float> topValue, sampleValue;
    std::vector<int32_t> topContext, sampleContext, topPos, samplePos;
    std::vector<uint16_t> topWindows, sampleWindows; // binary16, slots x window

    // Zero state for `features` features of contexts `contextLength` tokens long.
    static AccumulatorState empty(
        int64_t features, int64_t contextLength, const AccumulatorOptions &options);
    int32_t windowStart(int32_t pos) const;

    FeatureSummary summary(int64_t feature) const;

    // Folds in the state of other contexts of the same corpus (a shard): counts, sums and
    // histograms add (bins regrouped to the larger range), maxima and the top / sample lists keep
    // the best of both. The result equals that of one pass over both shards' contexts, bit for
    // bit, in either order. Refuses a state of another configuration.
    Status merge(const AccumulatorState &other);

    // Checkpoint blob; restore() refuses a blob of another shape, configuration or version.
    std::string serialize() const;
    Status restore(const std::string &blob);
    // A state of the shape its blob records; `options` gives what the blob does not (the
    // summary's quantile bands and examples per band, magnitude).
    static Result<AccumulatorState> deserialize(
        const std::string &blob, const AccumulatorOptions &options);
};

} // namespace fscope::core::index
