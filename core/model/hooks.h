#pragma once
// Hook points with TransformerLens names (formats.md section 5): what a forward captures,
// where interventions write, and how far the forward has to run.

#include "core/util/result.h"

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace fscope::core::model {

// Where a hook fires, for callbacks that act per position.
struct HookContext {
    const std::string &name;
    int64_t positionOffset; // absolute position of the activation's first token (past length)
};

// Modifies the activation [batch, tokens, ...] in place or returns a replacement.
using Intervention
    = std::function<at::Tensor(const at::Tensor &activation, const HookContext &ctx)>;

struct ForwardOptions {
    std::set<std::string> capture; // hook names to return
    std::multimap<std::string, Intervention> interventions; // applied in insertion order
    bool computeLogits = true; // false: stop after the deepest layer a hook needs
};

struct ForwardResult {
    at::Tensor logits; // [batch, tokens, vocab] float32; undefined when not computed
    std::map<std::string, at::Tensor> activations;
};

// A parsed hook name: layer -1 for global hooks (hook_embed, ln_final.hook_normalized).
struct HookName {
    int64_t layer = -1;
    std::string point; // "hook_resid_pre", "attn.hook_z", "hook_embed", ...
};

std::optional<HookName> parseHookName(const std::string &name);
// Every hook name the decoder offers for a model of `layers` layers.
std::vector<std::string> hookNames(int64_t layers, bool learnedPositions);
// The deepest layer whose hooks are needed (-1 when only embedding hooks are); `layers` when
// a hook lives after the last block.
int64_t deepestLayer(const std::set<std::string> &names, int64_t layers);

} // namespace fscope::core::model
