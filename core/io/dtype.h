#pragma once
// Element types of the tensor containers we read (safetensors names), independent of LibTorch
// so that header parsing and `inspect` need no torch headers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fscope::core::io {

enum class DType {
    Bool,
    U8,
    I8,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
    C64,
    F8_E5M2,
    F8_E4M3,
    F8_E8M0,
    F8_E4M3FNUZ,
    F8_E5M2FNUZ,
    F4,
    F6_E2M3,
    F6_E3M2,
};

// The safetensors spelling ("F32", "BF16", ...).
std::string_view dtypeName(DType dtype);
std::optional<DType> dtypeFromName(std::string_view name);
// Bits per element (4 for F4, 6 for F6_*), as the safetensors reference defines them.
int dtypeBits(DType dtype);

// Bytes needed for `numel` elements, or nullopt on overflow or a fractional byte count.
std::optional<uint64_t> byteSize(DType dtype, uint64_t numel);

// Product of a shape, or nullopt on overflow / negative extent.
std::optional<uint64_t> elementCount(const std::vector<int64_t> &shape);

std::string formatShape(const std::vector<int64_t> &shape);

} // namespace fscope::core::io
