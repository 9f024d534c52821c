#include "core/model/position_policy.h"

namespace fscope::core::model {

Result<PositionPolicy> parsePositionPolicy(const std::string &text, int64_t promptLength)
{
    PositionPolicy p;
    p.promptLength = promptLength;
    if (text == "all" || text.empty()) {
        p.kind = PositionPolicy::All;
    } else if (text == "prompt") {
        p.kind = PositionPolicy::PromptOnly;
    } else if (text == "generated") {
        p.kind = PositionPolicy::GeneratedOnly;
    } else {
        p.kind = PositionPolicy::Listed;
        size_t at = 0;
        while (at < text.size()) {
            const size_t comma = text.find(',', at);
            const std::string item
                = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
            if (item.empty() || item.size() > 12
                || item.find_first_not_of("0123456789") != std::string::npos)
                return Error { "positions are all, prompt, generated or a list like 3,4,7 (got '"
                    + text + "')" };
            p.positions.push_back(std::stoll(item));
            at = comma == std::string::npos ? text.size() : comma + 1;
        }
    }
    return p;
}

at::Tensor policyMask(
    const PositionPolicy &policy, int64_t offset, int64_t tokens, at::Device device)
{
    const at::Tensor columns
        = at::arange(offset, offset + tokens, at::TensorOptions().dtype(at::kLong).device(device));
    switch (policy.kind) {
    case PositionPolicy::All:
        return at::ones({ tokens }, at::TensorOptions().dtype(at::kBool).device(device));
    case PositionPolicy::PromptOnly:
        return columns < policy.promptLength;
    case PositionPolicy::GeneratedOnly:
        return columns >= policy.promptLength;
    case PositionPolicy::Listed: {
        at::Tensor mask
            = at::zeros({ tokens }, at::TensorOptions().dtype(at::kBool).device(device));
        for (int64_t p : policy.positions)
            mask = mask.logical_or(columns == p);
        return mask;
    }
    }
    return at::zeros({ tokens }, at::TensorOptions().dtype(at::kBool).device(device));
}

Intervention atPositions(const PositionPolicy &policy, Intervention edit)
{
    return [policy, edit = std::move(edit)](
               const at::Tensor &h, const HookContext &ctx) -> at::Tensor {
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
