#pragma once
// The tensors of one dictionary file, looked up by name with their shapes checked: what every
// dictionary loader (sae_io, dictionary_io) reads weights through.

#include "core/io/npz_tensor.h"
#include "core/util/result.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace fscope::core::sae {

struct TensorSet {
    std::string file;
    io::NamedTensors tensors;

    const at::Tensor *find(const std::string &name) const;
    // A floating-point copy of `name` with exactly `shape`; an undefined tensor when it is
    // absent and not required. Errors name the file, the tensor and both shapes.
    Result<at::Tensor> take(
        const std::string &name, std::vector<int64_t> shape, bool required = true) const;
    // The names held, for "unknown format" errors.
    std::string names() const;
};

Result<TensorSet> readSafetensors(const std::string &path);

} // namespace fscope::core::sae
