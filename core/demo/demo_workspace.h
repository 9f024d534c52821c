#pragma once
// Turning the demo assets into a populated workspace: one index job over the demo corpus for
// every demo SAE, then the manifest's feature labels (checked by reading each feature's top
// contexts) on features that carry no label yet, so a user's own labels always win.

#include "core/demo/demo_paths.h"
#include "core/index/index_job.h"
#include "core/store/database.h"

namespace fscope::core::demo {

index::IndexRequest demoIndexRequest(const DemoAssets &assets, const std::string &device = "auto",
    const std::string &dtype = "auto");

// Labels the demo SAEs' features; `indexIds` are the index job's ids in the request's SAE
// order. Returns how many labels were written.
Result<int> applyDemoLabels(
    store::Database &db, const DemoAssets &assets, const std::vector<int64_t> &indexIds);

struct DemoWorkspace {
    std::vector<int64_t> indexIds; // one per demo SAE, in the manifest's order
    index::IndexOutcome outcome;
    int labelsWritten = 0;
    std::string summary; // one line for the status bar
};

// Both steps: indexes the demo corpus (a second call finds every index and computes nothing)
// and applies the labels. The workbench's demo and `featurescope-cli demo` share it.
Result<DemoWorkspace> populateDemoWorkspace(store::Database &db, const DemoAssets &assets,
    jobs::Progress *progress = nullptr, const std::string &device = "auto",
    const std::string &dtype = "auto");

} // namespace fscope::core::demo
