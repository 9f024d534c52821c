#include "core/io/torch_tensor.h"

#include "core/io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

namespace fscope::core::io {

std::optional<at::ScalarType> toScalarType(DType dtype)
{
    switch (dtype) {
    case DType::Bool:
        return at::kBool;
    case DType::U8:
        return at::kByte;
    case DType::I8:
        return at::kChar;
    case DType::I16:
        return at::kShort;
    case DType::F16:
        return at::kHalf;
    case DType::BF16:
        return at::kBFloat16;
    case DType::I32:
        return at::kInt;
    case DType::F32:
        return at::kFloat;
    case DType::F64:
        return at::kDouble;
    case DType::I64:
        return at::kLong;
    case DType::C64:
        return at::kComplexFloat;
    default:
        return std::nullopt; // unsigned wide ints, fp8/fp6/fp4: no LibTorch 1.13 type
    }
}

std::optional<DType> fromScalarType(at::ScalarType type)
{
    for (int i = 0; i <= static_cast<int>(DType::F6_E3M2); ++i) {
        const auto d = static_cast<DType>(i);
        if (toScalarType(d) == type)
            return d;
    }
    return std::nullopt;
}

Result<at::Tensor> tensorFromFile(const SafetensorsFile &file, const TensorEntry &entry)
{
    const auto type = toScalarType(entry.dtype);
    const std::string where = "tensor '" + entry.name + "': ";
    if (!type)
        return fileError(file.path(),
            where + "dtype " + std::string(dtypeName(entry.dtype)) + " has no LibTorch equivalent");
    uint8_t *p = file.bytes(entry);
    if (entry.dtype == DType::Bool) {
        for (uint64_t i = 0; i < entry.byteCount(); ++i)
            if (p[i] > 1)
                return fileError(file.path(), where + "BOOL data holds a byte other than 0 or 1");
    }
    const auto options = at::TensorOptions().dtype(*type).device(at::kCPU);
    const size_t elementSize = at::elementSize(*type);
    try {
        if (reinterpret_cast<uintptr_t>(p) % elementSize != 0) {
            at::Tensor copy = at::empty(entry.shape, options);
            std::memcpy(copy.data_ptr(), p, entry.byteCount());
            return copy;
        }
        auto keepAlive = file.mapping();
        return at::from_blob(
            p, entry.shape, [keepAlive](void *) {}, options);
    } catch (const c10::Error &e) {
        return fileError(file.path(), where + e.what_without_backtrace());
    }
}

Result<at::Tensor> loadTensor(const Checkpoint &checkpoint, const std::string &name)
{
    const CheckpointTensor *t = checkpoint.find(name);
    if (!t)
        return fileError(checkpoint.path(), "no tensor named '" + name + "'");
    return tensorFromFile(*t->file, *t->entry);
}

Status writeSafetensors(const std::string &path, const NamedTensors &tensors,
    const std::map<std::string, std::string> &metadata)
{
    std::vector<std::pair<std::string, at::Tensor>> prepared;
    std::set<std::string> names;
    for (const auto &[name, tensor] : tensors) {
        if (name == "__metadata__" || !names.insert(name).second)
            return fileError(path, "tensor name '" + name + "' is reserved or repeated");
        if (!fromScalarType(tensor.scalar_type()))
            return fileError(path, "tensor '" + name + "' has a dtype safetensors cannot hold");
        prepared.emplace_back(name, tensor.to(at::kCPU).contiguous());
    }
    // Reference layout: descending alignment, then name, so each tensor stays aligned.
    std::sort(prepared.begin(), prepared.end(), [](const auto &a, const auto &b) {
        const auto ea = a.second.element_size(), eb = b.second.element_size();
        return ea != eb ? ea > eb : a.first < b.first;
    });

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto &[name, t] : prepared) {
        const uint64_t n = t.numel() * t.element_size();
        header[name] = { { "dtype", std::string(dtypeName(*fromScalarType(t.scalar_type()))) },
            { "shape", t.sizes().vec() }, { "data_offsets", { offset, offset + n } } };
        offset += n;
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');

    AtomicFile out(path);
    uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<uint8_t>(static_cast<uint64_t>(json.size()) >> (8 * i));
    out.write(length, 8);
    out.write(json.data(), json.size());
    for (const auto &[name, t] : prepared)
        out.write(t.data_ptr(), t.numel() * t.element_size());
    return out.commit();
}

} // namespace fscope::core::io
