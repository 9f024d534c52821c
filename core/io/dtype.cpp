#include "core/io/dtype.h"

#include <array>
#include <utility>

namespace fscope::core::io {

namespace {

struct DTypeInfo {
    DType dtype;
    std::string_view name;
    int bits;
};

// Source: safetensors `enum Dtype` and `Dtype::bitsize` (safetensors/src/tensor.rs).
constexpr std::array kDTypes {
    DTypeInfo { DType::Bool, "BOOL", 8 },
    DTypeInfo { DType::U8, "U8", 8 },
    DTypeInfo { DType::I8, "I8", 8 },
    DTypeInfo { DType::I16, "I16", 16 },
    DTypeInfo { DType::U16, "U16", 16 },
    DTypeInfo { DType::F16, "F16", 16 },
    DTypeInfo { DType::BF16, "BF16", 16 },
    DTypeInfo { DType::I32, "I32", 32 },
    DTypeInfo { DType::U32, "U32", 32 },
    DTypeInfo { DType::F32, "F32", 32 },
    DTypeInfo { DType::F64, "F64", 64 },
    DTypeInfo { DType::I64, "I64", 64 },
    DTypeInfo { DType::U64, "U64", 64 },
    DTypeInfo { DType::C64, "C64", 64 },
    DTypeInfo { DType::F8_E5M2, "F8_E5M2", 8 },
    DTypeInfo { DType::F8_E4M3, "F8_E4M3", 8 },
    DTypeInfo { DType::F8_E8M0, "F8_E8M0", 8 },
    DTypeInfo { DType::F8_E4M3FNUZ, "F8_E4M3FNUZ", 8 },
    DTypeInfo { DType::F8_E5M2FNUZ, "F8_E5M2FNUZ", 8 },
    DTypeInfo { DType::F4, "F4", 4 },
    DTypeInfo { DType::F6_E2M3, "F6_E2M3", 6 },
    DTypeInfo { DType::F6_E3M2, "F6_E3M2", 6 },
};

const DTypeInfo &info(DType dtype)
{
    return kDTypes[static_cast<size_t>(dtype)];
}

} // namespace

std::string_view dtypeName(DType dtype)
{
    return info(dtype).name;
}

int dtypeBits(DType dtype)
{
    return info(dtype).bits;
}

std::optional<DType> dtypeFromName(std::string_view name)
{
    for (const auto &i : kDTypes)
        if (i.name == name)
            return i.dtype;
    return std::nullopt;
}

std::optional<uint64_t> byteSize(DType dtype, uint64_t numel)
{
    const uint64_t bits = static_cast<uint64_t>(dtypeBits(dtype));
    uint64_t totalBits = 0;
    if (__builtin_mul_overflow(numel, bits, &totalBits) || totalBits % 8 != 0)
        return std::nullopt;
    return totalBits / 8;
}

std::optional<uint64_t> elementCount(const std::vector<int64_t> &shape)
{
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
            return std::nullopt;
    }
    return n;
}

std::string formatShape(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

} // namespace fscope::core::io
