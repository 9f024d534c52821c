#pragma once
// The accumulator's definition, written the plain way: one firing entry at a time on the host,
// in row-major order, with replace-the-worst-slot top and sample lists. The tensor accumulator
// (core/index/feature_accumulator) must produce the same state summaries on the same batches.

#include "core/index/accumulator_state.h"

#include <ATen/ATen.h>

namespace fscope::test {

class ReferenceAccumulator {
public:
    ReferenceAccumulator(
        int64_t features, int64_t contextLength, const core::index::AccumulatorOptions &options);
    void add(
        const at::Tensor &activations, int64_t firstContext, const std::vector<uint8_t> &counted);
    const core::index::AccumulatorState &state() const { return m_s; }

private:
    void offer(bool top, int64_t j, int64_t key, float v, int32_t context, int32_t pos);
    core::index::AccumulatorState m_s;
    // Slots filled during the current add() whose windows are still to be gathered.
    std::vector<std::pair<size_t, bool>> m_pending;
};

} // namespace fscope::test
