#include "core/sae/tensor_set.h"

#include "core/io/checkpoint.h"
#include "core/io/torch_tensor.h"

namespace fscope::core::sae {

const at::Tensor *TensorSet::find(const std::string &name) const
{
    for (const auto &[n, t] : tensors)
        if (n == name)
            return &t;
    return nullptr;
}

Result<at::Tensor> TensorSet::take(
    const std::string &name, std::vector<int64_t> shape, bool required) const
{
    const at::Tensor *t = find(name);
    if (!t) {
        if (!required)
            return at::Tensor();
        return fileError(file, "missing tensor '" + name + "'");
    }
    if (t->sizes().vec() != shape)
        return fileError(file,
            "tensor '" + name + "' has shape " + io::formatShape(t->sizes().vec()) + ", expected "
                + io::formatShape(shape));
    if (!at::isFloatingType(t->scalar_type()))
        return fileError(file, "tensor '" + name + "' is not floating point");
    return t->clone();
}

std::string TensorSet::names() const
{
    std::string out;
    for (const auto &[n, t] : tensors)
        out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

Result<TensorSet> readSafetensors(const std::string &path)
{
    auto c = io::Checkpoint::open(path);
    if (!c)
        return c.error();
    TensorSet set { path, {} };
    for (const auto &[name, t] : c->tensors()) {
        auto tensor = io::loadTensor(*c, name);
        if (!tensor)
            return tensor.error();
        set.tensors.emplace_back(name, std::move(tensor).value());
    }
    return set;
}

} // namespace fscope::core::sae
