#pragma once
// Neuronpedia's explanation exports read into records, apart from storing them: a JSON array or
// JSON lines of objects with Neuronpedia's Explanation fields (schema.prisma: `index` the
// feature, as a string or number; `description` the text; optional `explanationModelName`,
// `typeName`, `modelId`, `layer`). Every record is checked here, so an import stores all of a
// file or none of it.

#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fscope::core::interp {

struct ExplanationRecord {
    std::string where; // "line 3" (JSONL) or "record 3" (array), for messages
    int64_t feature = 0; // `index`, validated as a non-negative integer
    std::string index; // `index` as written (part of the record's key)
    std::string description;
    std::string modelId, layer, typeName, llm;
};

// Records in file order; an error names `path` and the record.
Result<std::vector<ExplanationRecord>> parseExplanationRecords(
    std::string_view content, const std::string &path);

} // namespace fscope::core::interp
