#pragma once
// The value pattern of tests/generators/make_io_fixtures.py, recomputed with LibTorch.

#include <ATen/ATen.h>

namespace fscope::test {

// Element i (C order): float ((i % 97) - 48) / 4, signed (i % 97) - 48, u8 i % 200,
// bool i % 3 == 0; cast to `type`.
inline at::Tensor pattern(at::ScalarType type, at::IntArrayRef shape)
{
    int64_t n = 1;
    for (auto d : shape)
        n *= d;
    const at::Tensor i = at::arange(n, at::kLong);
    at::Tensor v;
    if (type == at::kBool)
        v = (i % 3) == 0;
    else if (type == at::kByte)
        v = i % 200;
    else if (at::isFloatingType(type))
        v = ((i % 97) - 48).to(at::kDouble) / 4.0;
    else
        v = (i % 97) - 48;
    return v.to(type).reshape(shape);
}

} // namespace fscope::test
