#pragma once
// Parses and validates a safetensors header exactly as the reference reader does
// (safetensors/src/tensor.rs, `Metadata::validate`): length bounds, JSON object, known dtypes,
// shape x dtype size == byte span, tensors contiguous with no gap or overlap, and the file
// ending at the last tensor. Needs only the header bytes, never the data.

#include "core/io/dtype.h"
#include "core/util/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fscope::core::io {

struct TensorEntry {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0; // relative to the start of the data buffer
    uint64_t end = 0; // one past
    uint64_t byteCount() const { return end - begin; }
};

struct SafetensorsHeader {
    std::vector<TensorEntry> tensors; // in file order (sorted by offset)
    std::map<std::string, std::string> metadata;
    uint64_t dataStart = 0; // file offset of the data buffer: 8 + header length
    std::string headerJson; // the raw header, for fingerprints

    const TensorEntry *find(const std::string &name) const;
};

// The reference implementation's MAX_HEADER_SIZE.
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// `bytes` holds at least the first min(fileSize, 8 + header) bytes of the file.
Result<SafetensorsHeader> parseSafetensorsHeader(
    const uint8_t *bytes, uint64_t fileSize, const std::string &fileName);

} // namespace fscope::core::io
