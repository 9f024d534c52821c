#pragma once
// Prompt pairs for contrastive activation addition, as a JSONL file: one pair per line,
// {"prompt", "positive", "negative"} (CAA's own {"question", "answer_matching_behavior",
// "answer_not_matching_behavior"} is read too). Errors name the file and line.

#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fscope::core::steer {

struct ContrastPair {
    std::string prompt, positive, negative;
};

// A pairs file larger than this is refused before it is read (a few thousand pairs of prompts
// are a few megabytes).
constexpr uint64_t kMaxContrastPairsBytes = uint64_t(256) << 20;

// The pairs `text` holds; `path` names it in errors.
Result<std::vector<ContrastPair>> parseContrastPairs(
    std::string_view text, const std::string &path);
Result<std::vector<ContrastPair>> readContrastPairs(const std::string &path);

} // namespace fscope::core::steer
