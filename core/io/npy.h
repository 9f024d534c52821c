#pragma once
// The .npy format (numpy/lib/_format_impl.py): magic, version, a Python-literal header dict
// {'descr', 'fortran_order', 'shape'}, then raw data. Object arrays are pickles: refused.

#include "core/io/dtype.h"
#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::io {

struct NpyHeader {
    DType dtype = DType::F32;
    std::string descr; // as written, e.g. "<f4"
    bool bigEndian = false;
    bool fortranOrder = false;
    std::vector<int64_t> shape;
    uint64_t dataOffset = 0; // from the start of the .npy bytes
    uint64_t dataBytes = 0;
};

// Parses the header of an .npy image of `size` bytes and checks the data fits. `available`
// (<= size) is how many of those bytes `bytes` holds: a prefix is enough to read the header.
Result<NpyHeader> parseNpyHeader(
    const uint8_t *bytes, uint64_t size, const std::string &name, uint64_t available = UINT64_MAX);

// The descr string numpy writes for a dtype in little-endian order ("<f4", "|b1", ...), or
// empty when numpy has no such dtype (BF16, F8...).
std::string npyDescr(DType dtype);

// A v1.0 header (v2.0 when it does not fit), padded to 64 bytes as numpy does.
std::string makeNpyHeader(DType dtype, const std::vector<int64_t> &shape);

} // namespace fscope::core::io
