#pragma once
// The dictionary fixtures (tests/fixtures/dictionaries, written by
// tests/generators/make_dictionary_fixtures.py) and a comparison of tensors, shared by the
// dictionary tests.

#include "core/io/npz_tensor.h"
#include "tests/support/testsupport.h"

#include <ATen/ATen.h>

#include <string>

namespace fscope::test {

inline std::string dict(const char *name)
{
    return fixture(QStringLiteral("dictionaries/") + QString::fromUtf8(name));
}

// `name`.npy of the fixtures, as float32.
inline at::Tensor npy(const std::string &name)
{
    return core::io::loadNpy(dict((name + ".npy").c_str())).value().to(at::kFloat);
}

// The largest absolute difference; 1e30 when the shapes differ.
inline double maxDiff(const at::Tensor &a, const at::Tensor &b)
{
    if (a.sizes() != b.sizes())
        return 1e30;
    return (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
}

} // namespace fscope::test
