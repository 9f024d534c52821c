// .npy headers (v1, v2, v3): magic, the Python-literal dict, dtype, order and shape. An accepted
// header's data must fit in the bytes given, and the whole image parses the same from a prefix
// that holds the header.

#include "core/io/npy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::io;
    auto header = parseNpyHeader(data, size, "fuzz.npy");
    if (!header)
        return 0;
    FUZZ_EXPECT(header->dataOffset <= size);
    FUZZ_EXPECT(header->dataOffset + header->dataBytes <= size);
    const auto elements = elementCount(header->shape);
    FUZZ_EXPECT(elements.has_value());
    const auto bytes = byteSize(header->dtype, *elements);
    FUZZ_EXPECT(bytes.has_value() && *bytes == header->dataBytes);
    auto prefix = parseNpyHeader(data, size, "fuzz.npy", header->dataOffset);
    FUZZ_EXPECT(prefix.ok() && prefix->shape == header->shape);
    return 0;
}
