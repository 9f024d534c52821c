// Neuronpedia explanation exports (a JSON array or JSON lines): every accepted record has a
// description and an `index` that is exactly the decimal of a non-negative feature id.

#include "core/interp/explanation_records.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::interp;
    auto records = parseExplanationRecords(
        std::string_view(reinterpret_cast<const char *>(data), size), "explanations.jsonl");
    if (!records)
        return 0;
    for (const ExplanationRecord &r : *records) {
        FUZZ_EXPECT(r.feature >= 0 && !r.description.empty());
        FUZZ_EXPECT(r.index.find_first_not_of("0123456789") == std::string::npos);
        FUZZ_EXPECT(std::stoll(r.index) == r.feature);
    }
    return 0;
}
