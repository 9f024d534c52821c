#pragma once
// Where an intervention applies along the sequence: every position, the prompt only, the
// generated tokens only, or listed positions. Positions are cache columns: with one prompt of
// length P, the prompt is [0, P) and generated token n sits at P + n (generation.h).

#include "core/model/hooks.h"

#include <string>
#include <vector>

namespace fscope::core::model {

struct PositionPolicy {
    enum Kind { All, PromptOnly, GeneratedOnly, Listed } kind = All;
    int64_t promptLength = 0; // PromptOnly / GeneratedOnly
    std::vector<int64_t> positions; // Listed
};

// "all", "prompt", "generated" or a list of positions like "3,4,7" (for a prompt of
// `promptLength` tokens).
Result<PositionPolicy> parsePositionPolicy(const std::string &text, int64_t promptLength);

// Wraps `edit` (which returns the edited activation) so that only the policy's positions of the
// activation change; the others keep their values. Works unchanged under the KV cache, where
// each step sees one new column.
Intervention atPositions(const PositionPolicy &policy, Intervention edit);

// [tokens] bool: which of the columns [offset, offset + tokens) the policy selects.
at::Tensor policyMask(
    const PositionPolicy &policy, int64_t offset, int64_t tokens, at::Device device);

} // namespace fscope::core::model
