// CAA prompt pairs (JSONL): every accepted pair has the two non-empty completions a steering
// vector reads its answer token from.

#include "core/steer/contrast_pairs.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::steer;
    auto pairs = parseContrastPairs(
        std::string_view(reinterpret_cast<const char *>(data), size), "pairs.jsonl");
    if (!pairs)
        return 0;
    FUZZ_EXPECT(!pairs->empty());
    for (const ContrastPair &p : *pairs)
        FUZZ_EXPECT(!p.positive.empty() && !p.negative.empty());
    return 0;
}
