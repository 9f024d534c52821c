#pragma once
// Streaming per-feature statistics over a corpus, one batch of SAE activations at a time, kept on
// the SAE's device and updated with tensor ops only: firing count, density, max and mean of
// non-zero activations, an exact-count histogram, the top activating contexts (one per context,
// a window centred on its max token), and a bottom-k sample of firing tokens from which
// equal-count quantile bands are drawn at the end (see accumulator_state.h for the definitions).
// Memory is bounded by the number of features, never tokens x features beyond one batch.
//
// Nothing goes to the host per batch except the size of the batch's firing set (at::nonzero
// has to learn it); the state is downloaded only at checkpoints and at the end. The top and
// sample lists are kept sorted by key on the device, with their payload in fixed slots, so a batch
// merges into them with one rank computation (no per-feature loop) and writes payload only for
// the entries that enter. The result equals the sequential definition exactly, in any
// batching, on any device (the sums are fixed point, so not even the order of a GPU's atomic
// adds shows).

#include "core/index/accumulator_state.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::index {

class FeatureAccumulator {
public:
    FeatureAccumulator(int64_t features, int64_t contextLength, AccumulatorOptions options,
        at::Device device = at::kCPU);

    // `activations`: [contexts * contextLength, features] for consecutive contexts starting at
    // corpus context `firstContext` (any device, any float dtype). `counted`: one flag per row,
    // false for special tokens (neither counted nor shown in windows).
    void add(
        const at::Tensor &activations, int64_t firstContext, const std::vector<uint8_t> &counted);

    int64_t features() const { return m_features; }
    int64_t tokens() const { return m_tokens; }

    // The state on the host (a device-to-host copy of every array).
    AccumulatorState download() const;
    // Replaces the state, e.g. from a checkpoint; refuses one of another shape.
    Status upload(const AccumulatorState &state);

    // On a CPU the firing scan and the list merges run as plain loops (the same result, layout
    // included); tests turn them off to run the tensor form, which a GPU runs, on the CPU.
    void setHostKernels(bool on) { m_hostKernels = on && m_device.is_cpu(); }

    std::string serialize() const { return download().serialize(); }
    Status restore(const std::string &blob);

    // Bytes the state holds on its device, and the most one add() of `rows` rows allocates on top
    // (dense [rows, features] masks and copies), for the up-front memory report.
    static int64_t stateBytes(
        int64_t features, int64_t contextLength, const AccumulatorOptions &options);
    static int64_t batchBytes(int64_t features, int64_t rows);

private:
    int64_t m_features, m_T, m_window;
    AccumulatorOptions m_options;
    at::Device m_device;
    bool m_hostKernels;
    int64_t m_tokens = 0;
    at::Tensor m_featureMix; // [F] int64: featureKeyMix(j)
    at::Tensor m_count, m_sum, m_max,
        m_fine; // [F] int64, [F] int64 (fixed point), [F] f32, [F, 512] int32
    // Top and sample lists, [F, K] / [F, R]: keys sorted per feature (empty last), each with the
    // physical slot of its payload; the payload arrays are indexed by physical slot.
    at::Tensor m_topKey, m_topSlot, m_topValue, m_topContext, m_topPos, m_topWindows;
    at::Tensor m_sampleKey, m_sampleSlot, m_sampleValue, m_sampleContext, m_samplePos,
        m_sampleWindows;
};

} // namespace fscope::core::index
