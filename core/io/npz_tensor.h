#pragma once
// .npy/.npz arrays as LibTorch tensors, and the .npz writer.

#include "core/io/npz_file.h"
#include "core/io/torch_tensor.h"

namespace fscope::core::io {

// A contiguous CPU tensor in native byte order and C order (big-endian and Fortran-order
// arrays are converted).
Result<at::Tensor> npyToTensor(const NpyArray &array, const std::string &name);

// One .npy file.
Result<at::Tensor> loadNpy(const std::string &path);

// One tensor as an .npy file (written atomically).
Status writeNpy(const std::string &path, const at::Tensor &tensor);

// Every array of an .npz file, in archive order.
Result<NamedTensors> loadNpz(const std::string &path);

// numpy.savez (stored) or numpy.savez_compressed (deflated) layout.
Status writeNpz(const std::string &path, const NamedTensors &tensors, bool compressed);

} // namespace fscope::core::io
