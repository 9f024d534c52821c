#include "core/model/position_policy.h"

namespace fscope::core::model {

at::Tensor policyMask(const PositionPolicy &policy, int64_t offset, int64_t tokens, at::Device device)
{
    const at::Tensor columns = at::arange(offset, offset + tokens, at::TensorOptions().dtype(at::kLong).device(device));
    switch (policy.kind) {
    case PositionPolicy::All: return at::ones({tokens}, at::TensorOptions().dtype(at::kBool).device(device));
    case PositionPolicy::PromptOnly: return columns < policy.promptLength;
    case PositionPolicy::GeneratedOnly: return columns >= policy.promptLength;
    case PositionPolicy::Listed: {
        at::Tensor mask = at::zeros({tokens}, at::TensorOptions().dtype(at::kBool).device(device));
        for (int64_t p : policy.positions)
            mask = mask.logical_or(columns == p);
        return mask;
    }
    }
    return at::zeros({tokens}, at::TensorOptions().dtype(at::kBool).device(device));
}

Intervention atPositions(const PositionPolicy &policy, Intervention edit)
{
    return [policy, edit = std::move(edit)](const at::Tensor &h, const HookContext &ctx) -> at::Tensor {
        const at::Tensor mask = policyMask(policy, ctx.positionOffset, h.size(1), h.device());
        if (!mask.any().item<bool>())
            return h; // nothing selected in this step: skip the edit entirely
        at::Tensor edited = edit(h, ctx);
        if (!edited.defined())
            edited = h;
        // Broadcast the [tokens] mask over batch and trailing dims.
        std::vector<int64_t> shape(static_cast<size_t>(h.dim()), 1);
        shape[1] = h.size(1);
        return at::where(mask.view(shape), edited, h);
    };
}

} // namespace fscope::core::model
