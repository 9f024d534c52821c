#include "core/model/hooks.h"

#include <algorithm>

namespace fscope::core::model {

namespace {

const std::vector<std::string> kBlockPoints = {
    "hook_resid_pre",
    "attn.hook_z",
    "hook_attn_out",
    "hook_resid_mid",
    "mlp.hook_in", // the MLP's input: the pre-MLP norm's output, gain applied (transcoders read it)
    "mlp.hook_post",
    "hook_mlp_out",
    "hook_resid_post",
};

} // namespace

std::optional<HookName> parseHookName(const std::string &name)
{
    if (name == "hook_embed" || name == "hook_pos_embed")
        return HookName { -1, name };
    if (name == "ln_final.hook_normalized")
        return HookName { -2, name };
    const std::string prefix = "blocks.";
    if (name.rfind(prefix, 0) != 0)
        return std::nullopt;
    const size_t dot = name.find('.', prefix.size());
    if (dot == std::string::npos || dot == prefix.size())
        return std::nullopt;
    const std::string layer = name.substr(prefix.size(), dot - prefix.size());
    if (layer.find_first_not_of("0123456789") != std::string::npos || layer.size() > 6)
        return std::nullopt;
    const std::string point = name.substr(dot + 1);
    if (std::find(kBlockPoints.begin(), kBlockPoints.end(), point) == kBlockPoints.end())
        return std::nullopt;
    return HookName { std::stoll(layer), point };
}

std::vector<std::string> hookNames(int64_t layers, bool learnedPositions)
{
    std::vector<std::string> names = { "hook_embed" };
    if (learnedPositions)
        names.push_back("hook_pos_embed");
    for (int64_t l = 0; l < layers; ++l)
        for (const auto &p : kBlockPoints)
            names.push_back("blocks." + std::to_string(l) + "." + p);
    names.push_back("ln_final.hook_normalized");
    return names;
}

int64_t deepestLayer(const std::set<std::string> &names, int64_t layers)
{
    int64_t deepest = -1;
    for (const auto &n : names) {
        const auto h = parseHookName(n);
        if (!h)
            continue;
        deepest = std::max(deepest, h->layer == -2 ? layers : h->layer);
    }
    return deepest;
}

} // namespace fscope::core::model
