#include "core/io/npz_tensor.h"
#include "core/io/atomic_file.h"

#include <algorithm>
#include <cstring>

namespace fscope::core::io {

Result<at::Tensor> npyToTensor(const NpyArray &array, const std::string &name)
{
    const NpyHeader &h = array.header;
    const auto type = toScalarType(h.dtype);
    if (!type)
        return fileError(name, "dtype '" + h.descr + "' has no LibTorch equivalent");
    try {
        // Fortran order is C order of the reversed shape, transposed back.
        std::vector<int64_t> storageShape = h.shape;
        if (h.fortranOrder)
            std::reverse(storageShape.begin(), storageShape.end());
        at::Tensor t = at::empty(storageShape, at::TensorOptions().dtype(*type));
        auto *dst = static_cast<uint8_t *>(t.data_ptr());
        std::memcpy(dst, array.bytes.data() + h.dataOffset, h.dataBytes);
        const size_t width = dtypeBits(h.dtype) / 8;
        // C64 is two float32s: swap each half separately.
        const size_t swapWidth = h.dtype == DType::C64 ? 4 : width;
        if (h.bigEndian && swapWidth > 1)
            for (uint64_t i = 0; i < h.dataBytes; i += swapWidth)
                std::reverse(dst + i, dst + i + swapWidth);
        if (h.dtype == DType::Bool)
            for (uint64_t i = 0; i < h.dataBytes; ++i)
                if (dst[i] > 1)
                    return fileError(name, "bool array holds a byte other than 0 or 1");
        if (h.fortranOrder && storageShape.size() > 1) {
            std::vector<int64_t> reversed(storageShape.size());
            for (size_t i = 0; i < reversed.size(); ++i)
                reversed[i] = static_cast<int64_t>(reversed.size() - 1 - i);
            t = t.permute(reversed).contiguous();
        }
        return t;
    } catch (const c10::Error &e) {
        return fileError(name, e.what_without_backtrace());
    }
}

Result<at::Tensor> loadNpy(const std::string &path)
{
    auto mapped = MappedFile::open(path);
    if (!mapped)
        return mapped.error();
    const uint8_t *data = (*mapped)->data();
    const uint64_t size = (*mapped)->size();
    auto header = parseNpyHeader(data, size, path);
    if (!header)
        return header.error();
    NpyArray array { std::move(header).value(), std::vector<uint8_t>(data, data + size) };
    return npyToTensor(array, path);
}

Result<NamedTensors> loadNpz(const std::string &path)
{
    auto npz = NpzFile::open(path);
    if (!npz)
        return npz.error();
    NamedTensors out;
    for (const auto &name : npz->names()) {
        auto array = npz->read(name);
        if (!array)
            return array.error();
        auto t = npyToTensor(*array, path + " [" + name + "]");
        if (!t)
            return t.error();
        out.emplace_back(name, std::move(t).value());
    }
    return out;
}

Status writeNpy(const std::string &path, const at::Tensor &tensor)
{
    const auto dtype = fromScalarType(tensor.scalar_type());
    if (!dtype || npyDescr(*dtype).empty())
        return fileError(path, "the array has a dtype numpy cannot hold");
    const at::Tensor t = tensor.to(at::kCPU).contiguous();
    AtomicFile file(path);
    const std::string header = makeNpyHeader(*dtype, t.sizes().vec());
    file.write(header.data(), header.size());
    file.write(t.data_ptr(), size_t(t.numel()) * t.element_size());
    return file.commit();
}

Status writeNpz(const std::string &path, const NamedTensors &tensors, bool compressed)
{
    ZipWriter zip(path);
    for (const auto &[name, tensor] : tensors) {
        const auto dtype = fromScalarType(tensor.scalar_type());
        if (!dtype || npyDescr(*dtype).empty())
            return fileError(path, "array '" + name + "' has a dtype numpy cannot hold");
        const at::Tensor t = tensor.to(at::kCPU).contiguous();
        std::string member = makeNpyHeader(*dtype, t.sizes().vec());
        member.append(static_cast<const char *>(t.data_ptr()), t.numel() * t.element_size());
        if (auto s = zip.add(name + ".npy", member, compressed); !s)
            return fileError(path, s.errorMessage());
    }
    return zip.finish();
}

} // namespace fscope::core::io
