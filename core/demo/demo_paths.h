#pragma once
// Where the embedded demo lives (resources/demo: a tiny Llama, its SAEs, a corpus sample and
// a manifest, demo.json) and the "demo" names every entry point accepts: `demo` as a model,
// corpus or workspace, `demo` / `demo:LAYER` / `demo:NAME` as an SAE.
// Search order: $FEATURESCOPE_DEMO_DIR, <executable>/../share/featurescope/demo (installed),
// then the source tree this build came from.

#include "core/util/result.h"

#include <string>
#include <vector>

namespace fscope::core::demo {

struct DemoSae {
    std::string name; // directory name under saes/, e.g. "layer1-jumprelu"
    std::string path;
    std::string hook;
    int layer = 0;
};

struct DemoLabel {
    std::string sae; // DemoSae::name
    int64_t feature = 0;
    std::string label;
};

struct DemoAssets {
    std::string root, model, corpus, manifest;
    std::vector<DemoSae> saes; // the manifest's order: JumpReLU per layer, then the TopK one
    std::vector<DemoLabel> labels;
    int contextLength = 128;
    std::string vector; // an example steering vector for the decomposition panel (.npy)
    std::string steeringPrompt;
};

Result<DemoAssets> locateDemo();

// The demo workspace: $XDG_CACHE_HOME (else ~/.cache) /featurescope/demo.fsdb.
std::string demoWorkspacePath();

// True for "demo" and "demo:..." (so callers know to resolve the name here).
bool isDemoName(const std::string &spec);
// "demo" -> the first SAE; "demo:2" -> the first SAE on layer 2; "demo:layer1-topk" -> by name.
Result<std::string> resolveDemoSae(const std::string &spec);

// The one place "demo" turns into real paths (the loaders only ever see paths): what a name
// typed as a model, an SAE or a corpus stands for. Any other spec, and a name that exists as
// a file or directory, comes back unchanged.
enum class NameKind { Model, Sae, Corpus };
Result<std::string> resolveDemoName(NameKind kind, const std::string &spec);

} // namespace fscope::core::demo
