#pragma once
// The LibTorch side of the containers: dtype mapping, zero-copy views of mapped safetensors
// data, and the safetensors writer. Only code that needs tensors includes this header.

#include "core/io/checkpoint.h"

#include <ATen/ATen.h>

#include <optional>
#include <utility>

namespace fscope::core::io {

std::optional<at::ScalarType> toScalarType(DType dtype);
std::optional<DType> fromScalarType(at::ScalarType type);

// A CPU tensor over the file's bytes (the mapping stays alive while the tensor does). Bytes
// that are not aligned to the element size are copied instead. BOOL data is checked to hold
// only 0 and 1.
Result<at::Tensor> tensorFromFile(const SafetensorsFile &file, const TensorEntry &entry);
Result<at::Tensor> loadTensor(const Checkpoint &checkpoint, const std::string &name);

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes a safetensors file the way the reference writer lays it out (tensors sorted by
// descending alignment then name, header padded to 8 bytes). Writes to a temporary file and
// renames it, so a failure never leaves a half-written file in place of a good one.
Status writeSafetensors(const std::string &path, const NamedTensors &tensors,
    const std::map<std::string, std::string> &metadata = {});

} // namespace fscope::core::io
