// safetensors: the 8-byte length and the JSON header (dtypes, shapes, offsets, metadata).
// An accepted header must describe tensors that lie inside the file, in order, sized by their
// shape and dtype.

#include "core/io/safetensors_header.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::io;
    auto header = parseSafetensorsHeader(data, size, "fuzz.safetensors");
    if (!header)
        return 0;
    for (const TensorEntry &t : header->tensors) {
        FUZZ_EXPECT(t.begin <= t.end);
        FUZZ_EXPECT(header->dataStart + t.end <= size);
        const auto elements = elementCount(t.shape);
        FUZZ_EXPECT(elements.has_value());
        const auto bytes = byteSize(t.dtype, *elements);
        FUZZ_EXPECT(bytes.has_value() && *bytes == t.byteCount());
        FUZZ_EXPECT(header->find(t.name) != nullptr);
    }
    return 0;
}
